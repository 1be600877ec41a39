"""The law a campaign dials under: a rule set (UK, US, DE or custom) and its figures.

The presets carry the regulators' figures (the project's dialer note): the UK's Ofcom
persistent-misuse policy and PECR, the US's TSR (16 CFR 310) and TCPA rules (47 CFR 64.1200),
and Germany's UWG with the industry code. A custom rule set starts from one of them and
adds a centre's own house rules: it may only be stricter than the law it starts from (a
shorter grace, a longer ring, a lower cap), never looser, so the law stays built in.

Which lawful bases allow a call depends on the campaign's purpose and the line: `consent`
maps a purpose to the bases accepted for mobiles and for fixed lines. An empty set means
the purpose needs no recorded basis on that line (a UK live sales call to a number not on
the TPS); a purpose missing from the map may not be dialled at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.model import check_id


class Purpose(StrEnum):
    """What a campaign calls people for: the law differs."""

    MARKETING = "marketing"  # telesales, lead generation, appointment setting for sales
    SERVICE = "service"  # an existing customer's account, reminders, appointments
    COLLECTIONS = "collections"  # debts owed
    RESEARCH = "research"  # surveys and market research, nothing sold


class Basis(StrEnum):
    """The lawful basis recorded for calling a contact for a purpose, strongest first."""

    EXPRESS_WRITTEN = "express_written"  # signed or e-signed opt-in (US PEWC; DE proof)
    EXPRESS = "express"  # prior express consent (given orally or by giving the number)
    CONTRACT = "contract"  # an existing contract or account with the person
    LEGITIMATE_INTEREST = "legitimate_interest"  # GDPR art. 6(1)(f), documented


class LineType(StrEnum):
    MOBILE = "mobile"
    FIXED = "fixed"
    UNKNOWN = "unknown"  # treated as a mobile: the stricter rule applies


class AbandonWindow(StrEnum):
    CALENDAR_DAY = "calendar_day"  # per campaign per day in the rule set's time zone (UK)
    ROLLING_30_DAYS = "rolling_30_days"  # per campaign over the last 30 days (US)


@dataclass(frozen=True, slots=True)
class LineConsent:
    """The bases that allow a call for one purpose, by line type."""

    mobile: frozenset[Basis]
    fixed: frozenset[Basis]

    def accepted(self, line: LineType) -> frozenset[Basis]:
        return self.fixed if line is LineType.FIXED else self.mobile


ANY_BASIS = frozenset(Basis)
NO_BASIS_NEEDED: frozenset[Basis] = frozenset()
EXPRESS = frozenset({Basis.EXPRESS_WRITTEN, Basis.EXPRESS})
WRITTEN = frozenset({Basis.EXPRESS_WRITTEN})


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    name: str
    # The abandon rate the law caps, and how it is counted. None: no statutory cap (the
    # campaign's own target still applies).
    abandon_limit: float | None
    abandon_window: AbandonWindow
    count_amd_false_positives: bool  # UK: a person AMD hung up on counts as abandoned
    ledger_timezone: str  # whose calendar day the UK ledger keeps
    grace_s: float  # an answered person gets an agent or the message within this
    # True: the grace runs from the answer, AMD's listening included (UK: "2 s of the person
    # starting to speak"); False: from the end of the greeting, when AMD has decided (US).
    grace_counts_amd: bool
    min_ring_s: float
    max_ring_s: float | None
    calling_hours: Hours | None  # in the called person's local time; None: no statutory window
    attempts_per_day: int | None  # per number, all campaigns, in the callee's local day
    attempts_per_week: int | None  # per number, all campaigns, over 7 x 24 h
    attempts_per_campaign: int | None  # per contact and campaign
    lockout_after_abandon_s: float | None  # no predictive call after an abandoned one
    consent: Mapping[Purpose, LineConsent]
    consent_proof_required: bool  # consent to marketing names its source and date (DE, 7a)
    business_presumed_consent: bool  # DE: a business line needs no express consent
    # Registers the lists must be screened against, and at most how many days ago
    # (TPS 28, the US national registry 31).
    registers: Mapping[str, int] = field(default_factory=dict)
    caller_id_required: bool = True
    # Every party must agree to a recording (US all-party states, the state being unknown;
    # DE, StGB 201): a campaign's calls are recorded only when the agent starts it.
    recording_needs_consent: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        check_id("rule set", self.id)
        if not 1 <= len(self.name) <= 100:
            raise InvalidValue("a rule set's name is 1-100 characters")
        if self.abandon_limit is not None and not 0.0 <= self.abandon_limit <= 0.5:
            raise InvalidValue("abandon_limit is a share between 0 and 0.5 (0.03 is 3 %)")
        if not 0.5 <= self.grace_s <= 10.0:
            raise InvalidValue("grace_s is 0.5-10 seconds (the law says 2)")
        if not 5.0 <= self.min_ring_s <= 120.0:
            raise InvalidValue("min_ring_s is 5-120 seconds")
        if self.max_ring_s is not None and not self.min_ring_s <= self.max_ring_s <= 180.0:
            raise InvalidValue("max_ring_s is at least min_ring_s and at most 180 seconds")
        for name, cap in (
            ("attempts_per_day", self.attempts_per_day),
            ("attempts_per_week", self.attempts_per_week),
            ("attempts_per_campaign", self.attempts_per_campaign),
        ):
            if cap is not None and (isinstance(cap, bool) or not 1 <= cap <= 1000):
                raise InvalidValue(f"{name} is 1-1000 or none")
        lockout = self.lockout_after_abandon_s
        if lockout is not None and not 0.0 <= lockout <= 30 * 86400.0:
            raise InvalidValue("lockout_after_abandon_s is 0-30 days in seconds")
        for register, days in self.registers.items():
            check_id("register", register)
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
                raise InvalidValue(f"register {register}: screened within 1-365 days")
        object.__setattr__(self, "consent", MappingProxyType(dict(self.consent)))
        object.__setattr__(self, "registers", MappingProxyType(dict(self.registers)))
        Hours(self.ledger_timezone, {})  # checks the zone

    def accepted_bases(self, purpose: Purpose, line: LineType) -> frozenset[Basis] | None:
        """The bases that allow the call; None: this purpose may not be dialled at all."""
        rule = self.consent.get(purpose)
        return None if rule is None else rule.accepted(line)


EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(timezone: str, weekly: Mapping[str, tuple[str, ...]]) -> Hours:
    # A calling window is applied in each callee's own zone (compliance.py); the zone here
    # only makes the value whole.
    return Hours(timezone, weekly)


UK = RuleSet(
    id="uk",
    name="United Kingdom (Ofcom, PECR)",
    abandon_limit=0.03,
    abandon_window=AbandonWindow.CALENDAR_DAY,
    count_amd_false_positives=True,
    ledger_timezone="Europe/London",
    grace_s=2.0,
    grace_counts_amd=True,
    min_ring_s=15.0,
    max_ring_s=None,
    # No statutory window; the DMA code's 08:00-21:00 is what UK centres keep to.
    calling_hours=_hours("Europe/London", {day: ("08:00-21:00",) for day in EVERY_DAY}),
    attempts_per_day=None,
    attempts_per_week=None,
    attempts_per_campaign=None,
    lockout_after_abandon_s=72 * 3600.0,
    consent={
        # Live sales calls need no opt-in, but TPS-listed numbers are screened out (unless
        # the person consented) and an objection stops every call.
        Purpose.MARKETING: LineConsent(NO_BASIS_NEEDED, NO_BASIS_NEEDED),
        Purpose.SERVICE: LineConsent(NO_BASIS_NEEDED, NO_BASIS_NEEDED),
        Purpose.COLLECTIONS: LineConsent(NO_BASIS_NEEDED, NO_BASIS_NEEDED),
        Purpose.RESEARCH: LineConsent(NO_BASIS_NEEDED, NO_BASIS_NEEDED),
    },
    consent_proof_required=False,
    business_presumed_consent=False,
    registers={"tps": 28},
    description="abandoned + AMD estimate over live calls <= 3 % per campaign per day; "
    "2 s to an agent or message; ring >= 15 s; 72 h after an abandoned call; TPS within 28 days",
)

US = RuleSet(
    id="us",
    name="United States (FTC TSR, FCC TCPA)",
    abandon_limit=0.03,
    abandon_window=AbandonWindow.ROLLING_30_DAYS,
    count_amd_false_positives=False,
    ledger_timezone="America/New_York",
    grace_s=2.0,
    grace_counts_amd=False,
    min_ring_s=15.0,
    max_ring_s=None,
    calling_hours=_hours("America/New_York", {day: ("08:00-21:00",) for day in EVERY_DAY}),
    attempts_per_day=None,
    attempts_per_week=None,
    attempts_per_campaign=None,
    lockout_after_abandon_s=None,
    consent={
        # Autodialled calls to mobiles: prior express consent, written for marketing.
        Purpose.MARKETING: LineConsent(WRITTEN, NO_BASIS_NEEDED),
        Purpose.SERVICE: LineConsent(EXPRESS, NO_BASIS_NEEDED),
        Purpose.COLLECTIONS: LineConsent(EXPRESS, NO_BASIS_NEEDED),
        Purpose.RESEARCH: LineConsent(EXPRESS, NO_BASIS_NEEDED),
    },
    consent_proof_required=False,
    business_presumed_consent=False,
    registers={"national": 31},
    recording_needs_consent=True,
    description="abandoned over live calls <= 3 % per campaign over 30 days; 08:00-21:00 "
    "callee time; ring >= 15 s; written consent for marketing to mobiles; DNC within 31 days",
)

DE = RuleSet(
    id="de",
    name="Germany (UWG, industry code)",
    abandon_limit=0.03,  # no statutory rate: the code says avoid lost calls; 3 % as the cap
    abandon_window=AbandonWindow.CALENDAR_DAY,
    count_amd_false_positives=True,
    ledger_timezone="Europe/Berlin",
    grace_s=2.0,
    grace_counts_amd=True,
    min_ring_s=15.0,
    max_ring_s=40.0,
    calling_hours=_hours(
        "Europe/Berlin",
        {
            **{day: ("08:00-20:00",) for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": ("09:00-18:00",),
        },
    ),
    attempts_per_day=3,
    attempts_per_week=15,
    attempts_per_campaign=30,
    lockout_after_abandon_s=None,
    consent={
        # Every advertising call to a consumer needs prior express consent (UWG 7), with
        # proof (7a); businesses: presumed consent.
        Purpose.MARKETING: LineConsent(EXPRESS, EXPRESS),
        Purpose.SERVICE: LineConsent(ANY_BASIS, ANY_BASIS),
        Purpose.COLLECTIONS: LineConsent(ANY_BASIS, ANY_BASIS),
        Purpose.RESEARCH: LineConsent(ANY_BASIS, ANY_BASIS),
    },
    consent_proof_required=True,
    business_presumed_consent=True,
    registers={},
    recording_needs_consent=True,
    description="express consent with proof for marketing to consumers; Mon-Fri 8-20, "
    "Sat 9-18 callee time; 3 attempts a day, 15 a week, 30 a campaign; ring 15-40 s",
)

PRESETS: Mapping[str, RuleSet] = MappingProxyType({r.id: r for r in (UK, US, DE)})


def custom_rule_set(
    rule_set_id: str, name: str, base: str, changes: Mapping[str, object]
) -> RuleSet:
    """A rule set of a centre's own: a preset with some fields made stricter."""
    preset = PRESETS.get(base)
    if preset is None:
        raise InvalidValue(f"a custom rule set starts from one of {', '.join(PRESETS)}")
    if rule_set_id in PRESETS:
        raise InvalidValue(f"rule set id {rule_set_id!r} is a preset's")
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise InvalidValue(f"rule set fields {', '.join(sorted(unknown))} cannot be changed")
    try:
        made = replace(preset, id=rule_set_id, name=name, **changes)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InvalidValue(f"rule set: {exc}") from None
    looser = _looser_than(made, preset)
    if looser:
        raise InvalidValue(
            f"a rule set made from {base} may only be stricter than it: {'; '.join(looser)}"
        )
    return replace(made, description=f"custom, from {base}")


def _looser_than(rules: RuleSet, law: RuleSet) -> list[str]:
    """Where `rules` allows what `law` does not."""
    found = []

    def at_most(name: str, value: float | None, bound: float | None) -> None:
        if bound is not None and (value is None or value > bound):
            found.append(f"{name} must be at most {bound}")

    at_most("abandon_limit", rules.abandon_limit, law.abandon_limit)
    at_most("grace_s", rules.grace_s, law.grace_s)
    at_most("max_ring_s", rules.max_ring_s, law.max_ring_s)
    at_most("attempts_per_day", rules.attempts_per_day, law.attempts_per_day)
    at_most("attempts_per_week", rules.attempts_per_week, law.attempts_per_week)
    at_most("attempts_per_campaign", rules.attempts_per_campaign, law.attempts_per_campaign)
    if law.abandon_window is AbandonWindow.CALENDAR_DAY:
        if rules.abandon_window is not AbandonWindow.CALENDAR_DAY:
            found.append(
                "abandon_window must stay calendar_day (a rolling window averages a bad day)"
            )
        if rules.ledger_timezone != law.ledger_timezone:
            found.append(f"ledger_timezone must stay {law.ledger_timezone} (the law's days)")
    if rules.min_ring_s < law.min_ring_s:
        found.append(f"min_ring_s must be at least {law.min_ring_s}")
    if law.lockout_after_abandon_s is not None and (
        rules.lockout_after_abandon_s is None
        or rules.lockout_after_abandon_s < law.lockout_after_abandon_s
    ):
        found.append(f"lockout_after_abandon_s must be at least {law.lockout_after_abandon_s}")
    if law.grace_counts_amd and not rules.grace_counts_amd:
        found.append("the grace must count AMD's listening time")
    if law.count_amd_false_positives and not rules.count_amd_false_positives:
        found.append("AMD false positives must be counted")
    if law.calling_hours is not None and (
        rules.calling_hours is None or not rules.calling_hours.inside(law.calling_hours)
    ):
        found.append("calling hours must lie within the law's")
    for flag in ("consent_proof_required", "caller_id_required", "recording_needs_consent"):
        if getattr(law, flag) and not getattr(rules, flag):
            found.append(f"{flag} must stay on")
    if rules.business_presumed_consent and not law.business_presumed_consent:
        found.append("business_presumed_consent cannot be turned on")
    for register, days in law.registers.items():
        if rules.registers.get(register, 10**6) > days:
            found.append(f"register {register} must be screened within {days} days")
    for purpose, rule in rules.consent.items():
        base = law.consent.get(purpose)
        if base is None:
            found.append(f"{purpose.value} calls are not allowed")
            continue
        for line in (LineType.MOBILE, LineType.FIXED):
            need, allowed = base.accepted(line), rule.accepted(line)
            if need and (not allowed or not allowed <= need):
                names = ", ".join(sorted(b.value for b in need))
                found.append(f"{purpose.value} to {line.value}: only {names} allow a call")
    return found


CHANGEABLE = frozenset(
    {
        "abandon_limit",
        "abandon_window",
        "count_amd_false_positives",
        "ledger_timezone",
        "grace_s",
        "grace_counts_amd",
        "min_ring_s",
        "max_ring_s",
        "calling_hours",
        "attempts_per_day",
        "attempts_per_week",
        "attempts_per_campaign",
        "lockout_after_abandon_s",
        "consent",
        "consent_proof_required",
        "business_presumed_consent",
        "registers",
        "caller_id_required",
        "recording_needs_consent",
    }
)
