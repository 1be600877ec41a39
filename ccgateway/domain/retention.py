"""How long each kind of personal data is kept, and what the law keeps longer.

A policy gives a period in days per kind of data (none: kept for ever, the default), with
overrides per queue (for what a queue's calls leave behind) and per campaign or rule set
(for what a campaign's dials leave behind); a campaign's own wins over its rule set's, which
wins over the default. Under every period lies the law's floor (`floors`): a period shorter
than the floor is kept to the floor, so a policy can never delete what a regulator requires.
A legal hold (a number, a campaign, a contact) suspends deletion altogether.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.rules import AbandonWindow, RuleSet

DAY_S = 86400.0
MAX_DAYS = 36_500  # a hundred years: "for ever" is no period at all (null)


class Kind(StrEnum):
    INTERACTIONS = "interactions"  # finished calls, callbacks and tasks
    CALLBACKS = "callbacks"  # ended ones
    TASKS = "tasks"  # ended ones
    NOTES = "notes"
    DIAL_RECORDS = "dial_records"
    DISPOSITIONS = "dispositions"  # with their script answers and notes
    REFUSALS = "refusals"
    CONTACTS = "contacts"  # of campaigns not running; a list goes with its last contact
    RECORDINGS = "recordings"  # of ended calls: the row and the file
    AUDIT = "audit"


QUEUE_KINDS = frozenset({Kind.INTERACTIONS, Kind.CALLBACKS, Kind.TASKS, Kind.RECORDINGS})
CAMPAIGN_KINDS = frozenset({Kind.DIAL_RECORDS, Kind.DISPOSITIONS, Kind.REFUSALS, Kind.CONTACTS})

Periods = Mapping[Kind, int | None]


class HoldKind(StrEnum):
    NUMBER = "number"  # everything about the number: calls, callbacks, notes, dials
    CAMPAIGN = "campaign"  # the campaign's dials, dispositions, refusals and contacts
    CONTACT = "contact"  # "<campaign_id>:<contact_id>": the contact and its dials
    RECORDING = "recording"  # one recording, by its id


@dataclass(frozen=True, slots=True)
class Floor:
    kind: Kind
    days: int
    why: str


def floors(rules: RuleSet) -> list[Floor]:
    """What a campaign under these rules must keep, at least, whatever the policy says."""
    found = []
    if rules.abandon_limit is not None:
        window = 30 if rules.abandon_window is AbandonWindow.ROLLING_30_DAYS else 1
        found.append(
            Floor(
                Kind.DIAL_RECORDS,
                window + 1,
                f"the abandon-rate ledger of rule set {rules.id} counts the dials of the last "
                f"{window} day(s)",
            )
        )
    if rules.consent_proof_required:
        why = (
            f"rule set {rules.id}: the proof of consent to an advertising call is kept for 5 "
            "years after it was given or last used (Germany: UWG 7a)"
        )
        found += [Floor(Kind.CONTACTS, 1827, why), Floor(Kind.DIAL_RECORDS, 1827, why)]
    return found


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    default: Periods = field(default_factory=dict)
    queues: Mapping[str, Periods] = field(default_factory=dict)
    campaigns: Mapping[str, Periods] = field(default_factory=dict)
    rule_sets: Mapping[str, Periods] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_periods("default", self.default, frozenset(Kind))
        for queue_id, periods in self.queues.items():
            _check_periods(f"queue {queue_id}", periods, QUEUE_KINDS)
        for campaign_id, periods in self.campaigns.items():
            _check_periods(f"campaign {campaign_id}", periods, CAMPAIGN_KINDS)
        for rule_set_id, periods in self.rule_sets.items():
            _check_periods(f"rule set {rule_set_id}", periods, CAMPAIGN_KINDS)

    def days(
        self,
        kind: Kind,
        *,
        queue_id: str | None = None,
        campaign_id: str | None = None,
        rules: RuleSet | None = None,
    ) -> int | None:
        """The period for one queue's or campaign's data, the law's floor under it; None:
        kept for ever."""
        chosen = self.default.get(kind)
        for scope, key in (
            (self.queues, queue_id),
            (self.rule_sets, rules.id if rules else None),
            (self.campaigns, campaign_id),
        ):
            if key is not None and kind in scope.get(key, {}):
                chosen = scope[key][kind]
        if chosen is None or rules is None:
            return chosen
        return max([chosen, *(f.days for f in floors(rules) if f.kind is kind)])

    def cutoff(
        self,
        now: float,
        kind: Kind,
        *,
        queue_id: str | None = None,
        campaign_id: str | None = None,
        rules: RuleSet | None = None,
    ) -> float | None:
        """Data of this kind and scope older than this is past its period (None: never)."""
        days = self.days(kind, queue_id=queue_id, campaign_id=campaign_id, rules=rules)
        return None if days is None else now - days * DAY_S


@dataclass(frozen=True, slots=True)
class PurgeScope:
    """The cutoffs of one kind's purge: per queue or campaign (None: kept for ever), and
    for every other (None: kept for ever)."""

    cutoffs: Mapping[str, float | None]
    default: float | None


def purge_plan(
    policy: RetentionPolicy,
    now: float,
    campaigns: Mapping[str, str],
    rule_sets: Mapping[str, RuleSet],
) -> dict[Kind, PurgeScope]:
    """Each kind's cutoffs at `now`: per queue with a period of its own, per campaign (under
    its rule set's floors: `campaigns` maps each campaign with data to its rule set id), and
    for everything else. Data of a campaign whose rule set is gone is kept to the strictest
    floor of all."""
    plan = {}
    for kind in Kind:
        if kind in QUEUE_KINDS:
            cutoffs = {
                q: policy.cutoff(now, kind, queue_id=q)
                for q, periods in policy.queues.items()
                if kind in periods
            }
            plan[kind] = PurgeScope(cutoffs, policy.cutoff(now, kind))
            continue
        if kind not in CAMPAIGN_KINDS:
            plan[kind] = PurgeScope({}, policy.cutoff(now, kind))
            continue
        strictest = max(
            (f.days for r in rule_sets.values() for f in floors(r) if f.kind is kind), default=0
        )
        by_campaign: dict[str, float | None] = {}
        for campaign_id, rule_set_id in campaigns.items():
            rules = rule_sets.get(rule_set_id)
            if rules is not None:
                by_campaign[campaign_id] = policy.cutoff(
                    now, kind, campaign_id=campaign_id, rules=rules
                )
            else:
                days = policy.days(kind, campaign_id=campaign_id)
                by_campaign[campaign_id] = _at_least(days, strictest, now)
        plan[kind] = PurgeScope(by_campaign, _at_least(policy.days(kind), strictest, now))
    return plan


def _at_least(days: int | None, floor_days: int, now: float) -> float | None:
    return None if days is None else now - max(days, floor_days) * DAY_S


def check_hold(kind: HoldKind, value: str) -> str:
    if not 1 <= len(value) <= 129 or any(c in value for c in "\x00\r\n"):
        raise InvalidValue("a hold's value is 1-129 characters on one line")
    if kind is HoldKind.CONTACT and ":" not in value.strip(":"):
        raise InvalidValue("a contact's hold is <campaign_id>:<contact_id>")
    return value


def every_floor(rule_sets: Iterable[RuleSet]) -> list[tuple[str, Floor]]:
    return [(r.id, f) for r in rule_sets for f in floors(r)]


def _check_periods(scope: str, periods: Periods, allowed: frozenset[Kind]) -> None:
    for kind, days in periods.items():
        if kind not in allowed:
            names = ", ".join(sorted(allowed))
            raise InvalidValue(f"{scope}: {kind} has no period there (only {names})")
        whole = isinstance(days, int) and not isinstance(days, bool)
        if days is not None and not (whole and 1 <= days <= MAX_DAYS):
            raise InvalidValue(f"{scope}: {kind} is kept 1-{MAX_DAYS} days, or null (for ever)")
