"""Interval reports: tallies per queue, agent and campaign and 15 minutes, folded as work
ends, summed into any interval of the centre's time zone.

Why 15 minutes: every IANA zone's offset from UTC is a multiple of 15 minutes, so a bucket
of 900 s of epoch time lies wholly inside one local quarter hour, and every 15-minute,
30-minute, hour, day, ISO week (Monday) and month of the centre's wall clock is a union of
buckets, across clock changes too (a day of 23 or 25 hours is 92 or 100 buckets).

What is folded where (the moment that names the bucket):
- a finished call's record (`Interaction`), at its end, into its queue's `QueueTally` and
  its agent's `AgentTally` by the live figures' own functions (figures.py): the figures of
  a report's day are the live figures of that day, derived by the same `queue_figures`;
- an agent's time in each state (and each pause reason), split at bucket boundaries, and
  their logins and logouts, from the agent.state notices;
- a campaign's dial records at their end (outcome, live, abandoned, machine, talk, wait)
  and dispositions at their time (codes, script answers counted per option, numbers summed).

Tallies only add (the longest wait takes the maximum), so the store keeps them as additive
upserts and a report is sums over buckets: nothing is recounted from raw rows per request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, fields
from enum import StrEnum
from itertools import pairwise
from typing import TypeVar

from ccgateway.domain.agents import AgentState
from ccgateway.domain.calendar import (
    Day,
    Zone,
    days_after,
    first_of_month,
    local_midnight,
    local_time,
    utc_offset_s,
)
from ccgateway.domain.commands import Interaction
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.figures import (
    AgentTally,
    FigureRules,
    QueueTally,
    add_to_agent,
    add_to_queue,
    reaches_queue,
)
from ccgateway.domain.outbound.campaigns import DialOutcome
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.outbound.scripts import QuestionKind, Script

BUCKET_S = 900
DAY_S = 86_400
EPOCH_DAY = Day(1970, 1, 1)  # a Thursday: ISO weeks count from Monday 1970-01-05
MONDAY_S = 4 * DAY_S
MAX_GROUPS = 10_000  # intervals in one report: 15 minutes for 104 days, days for 27 years
MAX_RANGE_S = 3 * 366 * DAY_S


class Interval(StrEnum):
    MIN15 = "15m"
    MIN30 = "30m"
    HOUR = "1h"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


WIDTH_S = {
    Interval.MIN15: 900,
    Interval.MIN30: 1800,
    Interval.HOUR: 3600,
    Interval.DAY: DAY_S,
    Interval.WEEK: 7 * DAY_S,
    Interval.MONTH: 28 * DAY_S,  # the shortest, for counting groups only
}


def bucket_of(epoch: float) -> int:
    """The start of the 15-minute bucket holding `epoch`."""
    return int(epoch // BUCKET_S) * BUCKET_S


def interval(text: str) -> Interval:
    try:
        return Interval(text)
    except ValueError:
        known = ", ".join(i.value for i in Interval)
        raise InvalidValue(f"unknown interval {text!r}: use one of {known}") from None


# --- grouping buckets into the centre's intervals --------------------------------------------


def label_of(kind: Interval, bucket: int, tz: Zone) -> int:
    """The start (epoch) of the interval of the centre's wall clock that holds `bucket`:
    the definition the store's grouping (`segments`, `segment_label`) must agree with."""
    local = local_time(bucket, tz)
    if kind in (Interval.MIN15, Interval.MIN30, Interval.HOUR):
        return bucket - (local.minute * 60) % WIDTH_S[kind]
    day = local.day
    if kind is Interval.WEEK:
        day = days_after(day, -local.weekday)
    elif kind is Interval.MONTH:
        day = first_of_month(day)
    return int(local_midnight(day, tz))


@dataclass(frozen=True, slots=True)
class Segment:
    """Buckets [start, end) under one UTC offset (and, for months, in one month): within
    it, an interval's group is `(bucket + shift) // width` (`width` 0: the whole segment
    is one group), which SQL computes as well as Python."""

    start: int
    end: int
    offset_s: int
    width: int
    shift: int
    month: Day | None = None

    def key(self, bucket: int) -> int:
        return (bucket + self.shift) // self.width if self.width else 0


def segments(kind: Interval, start: int, end: int, tz: Zone) -> list[Segment]:
    """The buckets from `start` to `end` (bucket starts) cut where the zone's offset
    changes (and, for months, where a month begins)."""
    cuts = _offset_changes(start, end, tz)
    if kind is Interval.MONTH:
        cuts = sorted(set(cuts) | set(_month_starts(start, end, tz)))
    bounds = [start, *(c for c in cuts if start < c < end), end]
    out = []
    for low, high in pairwise(bounds):
        offset = utc_offset_s(low, tz)
        if kind is Interval.MONTH:
            out.append(Segment(low, high, offset, 0, 0, first_of_month(local_time(low, tz).day)))
        else:
            anchor = MONDAY_S if kind is Interval.WEEK else 0
            out.append(Segment(low, high, offset, WIDTH_S[kind], offset - anchor))
    return out


def segment_label(kind: Interval, segment: Segment, key: int, tz: Zone) -> int:
    """The start (epoch) of the interval that `key` names within `segment`."""
    if kind in (Interval.MIN15, Interval.MIN30, Interval.HOUR):
        return key * segment.width - segment.shift
    if kind is Interval.DAY:
        return int(local_midnight(days_after(EPOCH_DAY, key), tz))
    if kind is Interval.WEEK:
        return int(local_midnight(days_after(EPOCH_DAY, key * 7 + 4), tz))
    assert segment.month is not None
    return int(local_midnight(segment.month, tz))


def _offset_changes(start: int, end: int, tz: Zone) -> list[int]:
    """The first bucket of each new offset: probed daily, found to the bucket by halving."""
    changes = []
    low, offset = start, utc_offset_s(start, tz)
    while low < end - BUCKET_S:
        high = min(low + DAY_S, end - BUCKET_S)
        if utc_offset_s(high, tz) != offset:
            first, last = low, high  # offset(first) is the old one, offset(last) the new
            while last - first > BUCKET_S:
                middle = bucket_of((first + last) // 2)
                if utc_offset_s(middle, tz) == offset:
                    first = middle
                else:
                    last = middle
            changes.append(last)
            offset = utc_offset_s(last, tz)
        low = high
    return changes


def _month_starts(start: int, end: int, tz: Zone) -> Iterator[int]:
    month = first_of_month(local_time(start, tz).day)
    while True:
        month = first_of_month(month, 1)
        moment = int(local_midnight(month, tz))
        if moment >= end:
            return
        yield bucket_of(moment)


@dataclass(frozen=True, slots=True)
class Span:
    """What a report covers: buckets [start, end) in intervals of `kind` in `tz`."""

    kind: Interval
    start: int
    end: int
    tz: Zone

    @property
    def groups(self) -> int:
        """How many intervals, at most (months counted as 28 days)."""
        width = WIDTH_S[self.kind]
        return (self.end - self.start + width - 1) // width + 1


def span(kind: Interval, start: float, end: float, tz: Zone) -> Span:
    """The buckets a report from `start` to `end` covers, checked: an interval at either
    edge counts only the part inside the range (give the edges on the interval's starts)."""
    if end <= start:
        raise InvalidValue("'to' must be after 'from'")
    if start < 7 * DAY_S:
        raise InvalidValue("'from' must be after 1970-01-08")
    if end - start > MAX_RANGE_S:
        raise InvalidValue("a report covers at most 3 years")
    found = Span(kind, bucket_of(start), -(-int(end) // BUCKET_S) * BUCKET_S, tz)
    if found.groups > MAX_GROUPS:
        raise InvalidValue(
            f"{found.groups} intervals of {kind.value} in that range: at most {MAX_GROUPS} "
            "per report (choose a longer interval or a shorter range)"
        )
    return found


# --- tallies ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Activity:
    """An agent's time in each state (seconds) and their logins and logouts."""

    available_s: float = 0.0
    reserved_s: float = 0.0
    on_call_s: float = 0.0
    wrap_up_s: float = 0.0
    paused_s: float = 0.0
    logins: int = 0
    logouts: int = 0


@dataclass(slots=True)
class CampaignTally:
    """A campaign's dials by outcome (at their end) and dispositions (at their time)."""

    dials: int = 0  # placed: every outcome but a skipped preview
    connected: int = 0
    abandoned: int = 0
    hung_up: int = 0
    machine: int = 0
    no_answer: int = 0
    busy: int = 0
    failed: int = 0
    lost: int = 0
    skipped: int = 0
    talk_s: float = 0.0
    wait_s: float = 0.0  # a person on the line to their agent, summed over `waited`
    waited: int = 0
    dispositions: int = 0


@dataclass(slots=True)
class Count:
    """A keyed count: a disposition code, an answer option, a number question's total."""

    count: int = 0
    total: float = 0.0


T = TypeVar("T", QueueTally, AgentTally, Activity, CampaignTally, Count)


def merge(into: T, other: T) -> T:
    """Add `other` to `into` (a longest wait takes the maximum); returns `into`."""
    for f in fields(into):
        mine, theirs = getattr(into, f.name), getattr(other, f.name)
        setattr(into, f.name, max(mine, theirs) if f.name.startswith("longest") else mine + theirs)
    return into


Key = tuple[str, int]  # (id, bucket start)
CountKey = tuple[str, int, str]  # (id, bucket start, what)


@dataclass(slots=True)
class Deltas:
    """What was folded since the last flush: every tally to add to the store."""

    queues: dict[Key, QueueTally] = field(default_factory=dict)
    agents: dict[Key, AgentTally] = field(default_factory=dict)
    activity: dict[Key, Activity] = field(default_factory=dict)
    pauses: dict[CountKey, float] = field(default_factory=dict)  # seconds per pause reason
    campaigns: dict[Key, CampaignTally] = field(default_factory=dict)
    counts: dict[CountKey, Count] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.queues, self.agents, self.activity, self.campaigns, self.counts))

    def absorb(self, other: Deltas) -> None:
        """Add `other`'s tallies to these."""
        _absorb(self.queues, other.queues)
        _absorb(self.agents, other.agents)
        _absorb(self.activity, other.activity)
        _absorb(self.campaigns, other.campaigns)
        _absorb(self.counts, other.counts)
        for key, seconds in other.pauses.items():
            self.pauses[key] = self.pauses.get(key, 0.0) + seconds


@dataclass(frozen=True, slots=True)
class OpenState:
    state: AgentState
    reason: str
    since: float


K = TypeVar("K")


def _absorb(mine: dict[K, T], theirs: dict[K, T]) -> None:
    for key, tally in theirs.items():
        had = mine.get(key)
        mine[key] = tally if had is None else merge(had, tally)


class ReportFold:
    """Folds finished work into `Deltas`; `take` hands them over and starts afresh.

    Agents' open states are kept here: a state's time is counted when it changes, and up
    to `now` at every `take` (so a crash loses at most the time since the last one)."""

    def __init__(self, rules: FigureRules) -> None:
        self.rules = rules
        self.deltas = Deltas()
        self.open: dict[str, OpenState] = {}

    def add_interaction(self, record: Interaction) -> None:
        bucket = bucket_of(record.ended_at)
        if record.agent_id is not None:
            tally = self.deltas.agents.setdefault((record.agent_id, bucket), AgentTally())
            add_to_agent(tally, record)
        if reaches_queue(record):
            assert record.queue_id is not None
            queue = self.deltas.queues.setdefault((record.queue_id, bucket), QueueTally())
            add_to_queue(queue, record, self.rules)

    def agent_state(self, agent_id: str, state: AgentState, reason: str | None, now: float) -> None:
        """An agent's state (and reason) as of `now`; the same again changes nothing."""
        logged_out = AgentState.LOGGED_OUT
        # An agent not known yet is new (those of the start are `seed`ed): logged out till now.
        before = self.open.get(agent_id) or OpenState(logged_out, "", now)
        new = OpenState(state, reason or "", now)
        if (before.state, before.reason) == (new.state, new.reason):
            return
        self._spend(agent_id, before, now)
        if before.state is logged_out and state is not logged_out:
            self._activity(agent_id, now).logins += 1
        elif before.state is not logged_out and state is logged_out:
            self._activity(agent_id, now).logouts += 1
        self.open[agent_id] = new

    def seed(self, agent_id: str, state: AgentState, reason: str | None, now: float) -> None:
        """An agent's state as the controller starts: their time counts from `now`, and
        no login is counted (they logged in before)."""
        self.open[agent_id] = OpenState(state, reason or "", now)

    def keep_only(self, agent_ids: Collection[str], now: float) -> None:
        """Agents deleted (all but `agent_ids`): their open time counted up to `now`."""
        for agent_id in set(self.open) - set(agent_ids):
            self._spend(agent_id, self.open.pop(agent_id), now)

    def add_dial(self, record: DialRecord) -> None:
        key = (record.campaign_id, bucket_of(record.ended_at))
        tally = self.deltas.campaigns.setdefault(key, CampaignTally())
        outcome = record.outcome
        setattr(tally, outcome.value, getattr(tally, outcome.value) + 1)
        if outcome is DialOutcome.SKIPPED:
            return
        tally.dials += 1
        tally.talk_s += record.talk_s
        if record.wait_s is not None:
            tally.wait_s += record.wait_s
            tally.waited += 1

    def add_disposition(self, record: DispositionRecord, script: Script | None) -> None:
        """A disposition and its script's answers (free text counted, never kept)."""
        bucket = bucket_of(record.at)
        campaign = record.campaign_id
        self.deltas.campaigns.setdefault((campaign, bucket), CampaignTally()).dispositions += 1
        self._count(campaign, bucket, f"disposition:{record.code}")
        questions = {q.id: q for q in script.questions} if script is not None else {}
        for question_id, raw in record.answers.items():
            question = questions.get(question_id)
            if question is None:
                continue
            try:
                value = question.check(raw)
            except InvalidValue:
                continue  # the script changed since
            kind = question.kind
            number = kind in (QuestionKind.NUMBER, QuestionKind.SCALE)
            self._count(campaign, bucket, f"answer:{question_id}", float(value) if number else 0)
            if kind is QuestionKind.YES_NO:
                self._count(campaign, bucket, f"answer:{question_id}={'yes' if value else 'no'}")
            elif kind is QuestionKind.CHOICE:
                self._count(campaign, bucket, f"answer:{question_id}={value}")
            elif kind is QuestionKind.SCALE:
                self._count(campaign, bucket, f"answer:{question_id}={int(float(value))}")

    def give_back(self, deltas: Deltas) -> None:
        """Tallies taken but not written: folded in again, for the next flush."""
        deltas.absorb(self.deltas)
        self.deltas = deltas

    def take(self, now: float) -> Deltas:
        """Everything folded so far, open states counted up to `now`; then afresh."""
        for agent_id, before in list(self.open.items()):
            if now > before.since:
                self._spend(agent_id, before, now)
                self.open[agent_id] = OpenState(before.state, before.reason, now)
        taken, self.deltas = self.deltas, Deltas()
        return taken

    def _count(self, campaign: str, bucket: int, what: str, total: float = 0.0) -> None:
        count = self.deltas.counts.setdefault((campaign, bucket, what), Count())
        count.count += 1
        count.total += total

    def _activity(self, agent_id: str, at: float) -> Activity:
        return self.deltas.activity.setdefault((agent_id, bucket_of(at)), Activity())

    def _spend(self, agent_id: str, spell: OpenState, until: float) -> None:
        """The spell's time up to `until`, cut at bucket boundaries (logged out: none)."""
        if spell.state is AgentState.LOGGED_OUT:
            return
        name = f"{spell.state.value}_s"
        moment = spell.since
        while moment < until:
            bucket = bucket_of(moment)
            upto = min(until, bucket + BUCKET_S)
            activity = self._activity(agent_id, moment)
            setattr(activity, name, getattr(activity, name) + (upto - moment))
            if spell.state is AgentState.PAUSED:
                key = (agent_id, bucket, spell.reason)
                self.deltas.pauses[key] = self.deltas.pauses.get(key, 0.0) + (upto - moment)
            moment = upto


# --- the figures of summed tallies ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    """An agent's time by state in an interval. occupancy = (reserved + on call + wrap-up)
    / (available + reserved + on call + wrap-up): handling time over time ready or handling
    (the live occupancy's, which also counts non-voice work held while available as busy);
    after-call work = time in wrap-up, and per answered call."""

    logged_in_s: float
    available_s: float
    reserved_s: float
    on_call_s: float
    wrap_up_s: float
    paused_s: float
    logins: int
    logouts: int
    occupancy: float | None
    acw_per_call_s: float | None


def activity_figures(a: Activity, calls_answered: int) -> ActivityFigures:
    busy = a.reserved_s + a.on_call_s + a.wrap_up_s
    return ActivityFigures(
        logged_in_s=round(busy + a.available_s + a.paused_s, 3),
        available_s=round(a.available_s, 3),
        reserved_s=round(a.reserved_s, 3),
        on_call_s=round(a.on_call_s, 3),
        wrap_up_s=round(a.wrap_up_s, 3),
        paused_s=round(a.paused_s, 3),
        logins=a.logins,
        logouts=a.logouts,
        occupancy=round(busy / (busy + a.available_s), 4) if busy + a.available_s else None,
        acw_per_call_s=round(a.wrap_up_s / calls_answered, 3) if calls_answered else None,
    )


@dataclass(frozen=True, slots=True)
class AbandonDefinition:
    """A campaign's rule set's way of counting abandoned calls (ledger.py): with
    `count_machines`, the people taken for machines (machine verdicts x `share`) are added
    to both abandoned and live calls (UK, DE)."""

    count_machines: bool = False
    share: float = 0.0


@dataclass(frozen=True, slots=True)
class CampaignReportFigures:
    """connect_rate = connected / dials; live = connected + abandoned + hung up in the
    grace; abandon_rate by the rule set's definition over the interval (not its ledger's
    window); wait = a person on the line to their agent, mean."""

    dials: int
    outcomes: dict[str, int]
    connect_rate: float | None
    live: int
    abandon_rate: float | None
    talk_s: float
    wait_mean_s: float | None
    dispositions: int


def campaign_figures(t: CampaignTally, rule: AbandonDefinition) -> CampaignReportFigures:
    outcomes = {o.value: getattr(t, o.value) for o in DialOutcome}
    live = t.connected + t.abandoned + t.hung_up
    estimate = t.machine * rule.share if rule.count_machines else 0.0
    whole = live + estimate
    return CampaignReportFigures(
        dials=t.dials,
        outcomes=outcomes,
        connect_rate=round(t.connected / t.dials, 4) if t.dials else None,
        live=live,
        abandon_rate=round((t.abandoned + estimate) / whole, 4) if whole else None,
        talk_s=round(t.talk_s, 3),
        wait_mean_s=round(t.wait_s / t.waited, 3) if t.waited else None,
        dispositions=t.dispositions,
    )
