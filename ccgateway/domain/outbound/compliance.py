"""May this contact be dialled now, in this campaign? Checked at dial time, every time.

`check` runs the rules in a fixed order and returns the first that refuses, as a `Refusal`
naming its rule (the stable names below are what the records and the API show), saying why,
and saying when the contact may be tried again (None: never in this campaign). The dialer
records every refusal and moves the contact on; nothing here has side effects.

    suppressed          the number is on a do-not-call list, or the person objected (GDPR:
                        an objection suppresses them in every campaign)
    register_stale      a register the rule set names (TPS, the national DNC) was not
                        screened recently enough: nothing is dialled until it is
    no_consent          no lawful basis the rule set accepts for this purpose and line
    consent_proof       the basis names no source, and the rule set needs proof
    caller_id           no valid caller ID
    ring_time           the campaign would ring for less (or more) than the law allows
    calling_hours       outside the calling window in one of the callee's time zones
    attempts_day        the number's dials today (callee's local day, all campaigns)
    attempts_week       the number's dials in the last 7 days (all campaigns)
    attempts_campaign   the contact's dials in this campaign
    abandon_lockout     an abandoned call to the number less than 72 h ago: only a dial
                        with an agent kept for it (preview, progressive) is allowed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ccgateway.domain.calendar import Hours, day_start_in, next_day_start_in
from ccgateway.domain.outbound.campaigns import Campaign, DialMode
from ccgateway.domain.outbound.contacts import E164, WEEK_S, Contact, DialLog, Progress
from ccgateway.domain.outbound.rules import LineType, Purpose, RuleSet

RULES = (
    "suppressed",
    "register_stale",
    "no_consent",
    "consent_proof",
    "caller_id",
    "ring_time",
    "calling_hours",
    "attempts_day",
    "attempts_week",
    "attempts_campaign",
    "abandon_lockout",
)
STALE_RETRY_S = 3600.0  # a stale register: look again in an hour
NO_WINDOW_RETRY_S = 86400.0  # the window never opens within a week: look again tomorrow


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: str
    detail: str
    retry_at: float | None  # None: never again in this campaign

    @property
    def final(self) -> bool:
        return self.retry_at is None


@dataclass(frozen=True, slots=True)
class DialContext:
    """Everything a check needs besides the contact."""

    campaign: Campaign
    rules: RuleSet
    now: float
    mode: DialMode  # the mode of this dial (predictive may drop to progressive)
    suppressed_by: str | None = None  # the list that suppresses the number, if any
    screened_at: Mapping[str, float | None] | None = None  # register -> last screening


def check(contact: Contact, progress: Progress, log: DialLog, ctx: DialContext) -> Refusal | None:
    """The first rule that refuses the dial, or None: it may go out now."""
    for rule in _CHECKS:
        refusal = rule(contact, progress, log, ctx)
        if refusal is not None:
            return refusal
    return None


def _suppressed(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    if ctx.suppressed_by is None:
        return None
    return Refusal("suppressed", f"{contact.number} is on {ctx.suppressed_by}", None)


def _register_stale(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    screened = ctx.screened_at or {}
    for register, days in ctx.rules.registers.items():
        at = screened.get(register)
        if at is None or ctx.now - at > days * 86400.0:
            when = "never" if at is None else f"{(ctx.now - at) / 86400.0:.0f} days ago"
            detail = (
                f"{ctx.rules.id}: register {register} must be screened within {days} days; "
                f"last {when}"
            )
            return Refusal("register_stale", detail, ctx.now + STALE_RETRY_S)
    return None


def _no_consent(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    purpose = ctx.campaign.purpose
    accepted = ctx.rules.accepted_bases(purpose, contact.line_type)
    line = (
        f"a {contact.line_type.value}"
        if contact.line_type is not LineType.UNKNOWN
        else "an unknown (taken as mobile)"
    )
    if accepted is None:
        return Refusal("no_consent", f"{ctx.rules.id} allows no {purpose.value} calls", None)
    if not accepted or (contact.business and ctx.rules.business_presumed_consent):
        return None
    consent = contact.basis_for(purpose)
    if consent is None or consent.basis not in accepted:
        have = "none" if consent is None else consent.basis.value
        need = " or ".join(sorted(b.value for b in accepted))
        detail = (
            f"{ctx.rules.id}: {purpose.value} calls to {line} line need {need}; "
            f"the contact has {have}"
        )
        return Refusal("no_consent", detail, None)
    return None


def _consent_proof(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    if not ctx.rules.consent_proof_required or ctx.campaign.purpose is not Purpose.MARKETING:
        return None  # the proof the law asks for is of consent to advertising calls
    accepted = ctx.rules.accepted_bases(ctx.campaign.purpose, contact.line_type)
    if not accepted or (contact.business and ctx.rules.business_presumed_consent):
        return None
    consent = contact.basis_for(ctx.campaign.purpose)
    if consent is not None and consent.source and consent.given_at is not None:
        return None
    detail = f"{ctx.rules.id}: the consent's source and date must be recorded"
    return Refusal("consent_proof", detail, None)


def _caller_id(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    if ctx.rules.caller_id_required and not E164.fullmatch(ctx.campaign.caller_id or ""):
        return Refusal("caller_id", "the campaign has no valid caller ID", ctx.now + STALE_RETRY_S)
    return None


def _ring_time(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    ring, rules = ctx.campaign.ring_s, ctx.rules
    if ring < rules.min_ring_s or (rules.max_ring_s is not None and ring > rules.max_ring_s):
        most = f"{rules.max_ring_s:g}" if rules.max_ring_s is not None else "..."
        detail = f"{rules.id}: ring {ring:g} s is outside {rules.min_ring_s:g}-{most} s"
        return Refusal("ring_time", detail, ctx.now + STALE_RETRY_S)
    return None


def _calling_hours(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    # The law's window, in the callee's time (the campaign's own hours are the centre's
    # working hours, in its own zone: Campaign.in_schedule).
    windows = [w for w in (ctx.rules.calling_hours,) if w is not None]
    if not windows:
        return None
    closed = [
        zone for zone in contact.time_zones if not all(w.is_open_in(ctx.now, zone) for w in windows)
    ]
    if not closed:
        return None
    retry = _next_window(contact, windows, ctx.now)
    where = ", ".join(closed)
    return Refusal("calling_hours", f"outside the calling window in {where}", retry)


def _next_window(contact: Contact, hours: list[Hours], now: float) -> float:
    """The first minute at which every window is open in every zone of the contact."""
    at = now
    for _ in range(64):  # each round moves to the latest next opening; few are needed
        latest = at
        for window in hours:
            for zone in contact.time_zones:
                opening = window.next_open_in(at, zone)
                if opening is None:
                    return now + NO_WINDOW_RETRY_S
                latest = max(latest, opening)
        if latest == at:
            return at
        at = latest
    return now + NO_WINDOW_RETRY_S


def _attempts_day(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    cap = ctx.rules.attempts_per_day
    if cap is None:
        return None
    count = _day_count(contact, log, ctx.now)
    if count < cap:
        return None
    # The first of the zones' next midnights at which the day's count is under the cap.
    retry = max(next_day_start_in(ctx.now, zone) for zone in contact.time_zones)
    for midnight in sorted({next_day_start_in(ctx.now, zone) for zone in contact.time_zones}):
        if _day_count(contact, log, midnight) < cap:
            retry = midnight
            break
    detail = (
        f"{ctx.rules.id}: {count} dials to {contact.number} today (callee's day), at most {cap}"
    )
    return Refusal("attempts_day", detail, retry)


def _day_count(contact: Contact, log: DialLog, now: float) -> int:
    """The number's dials in the callee's day: from the earliest of its zones' midnights
    (the strictest count)."""
    since = min(day_start_in(now, zone) for zone in contact.time_zones)
    return log.dials_since(contact.number, since)


def _attempts_week(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    cap = ctx.rules.attempts_per_week
    if cap is None:
        return None
    times = [t for t in log.dial_times(contact.number) if t > ctx.now - WEEK_S]
    if len(times) < cap:
        return None
    retry = times[-cap] + WEEK_S  # when the oldest dial that counts ages out
    detail = f"{ctx.rules.id}: {len(times)} dials to {contact.number} in 7 days, at most {cap}"
    return Refusal("attempts_week", detail, retry)


def _attempts_campaign(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    cap = ctx.rules.attempts_per_campaign
    if cap is None or progress.attempts < cap:
        return None
    detail = f"{ctx.rules.id}: {progress.attempts} dials in this campaign, at most {cap}"
    return Refusal("attempts_campaign", detail, None)


def _abandon_lockout(
    contact: Contact, progress: Progress, log: DialLog, ctx: DialContext
) -> Refusal | None:
    lockout = ctx.rules.lockout_after_abandon_s
    last = log.last_abandon(contact.number)
    if lockout is None or last is None or ctx.now - last >= lockout:
        return None
    if ctx.mode is not DialMode.PREDICTIVE:
        return None  # an agent is kept for this call: it cannot be abandoned
    hours = (ctx.now - last) / 3600.0
    detail = f"{ctx.rules.id}: a call to {contact.number} was abandoned {hours:.1f} h ago"
    return Refusal("abandon_lockout", detail, last + lockout)


_CHECKS = (
    _suppressed,
    _register_stale,
    _no_consent,
    _consent_proof,
    _caller_id,
    _ring_time,
    _calling_hours,
    _attempts_day,
    _attempts_week,
    _attempts_campaign,
    _abandon_lockout,
)
assert tuple(c.__name__.lstrip("_") for c in _CHECKS) == RULES
