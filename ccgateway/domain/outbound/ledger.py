"""Abandon ledgers: the abandon rate by the law's own definition, and what it allows now.

One ledger per campaign, counted the way its rule set says:
- UK (and DE by default): per calendar day in the rule set's time zone; abandoned calls plus
  a reasoned estimate of the people answering-machine detection hung up on, over live calls
  plus that estimate. The estimate is the campaign's share of machine verdicts that were in
  fact people (from listening to a sample) times the machine verdicts;
- US: per rolling 30 days (to the minute), abandoned over live calls.

A person who hangs up within the grace, before an agent could come, is a live call but not
an abandoned one.

What the ledger allows: predictive dialing while one more abandoned call would still leave
the rate within the limit (`stopped` otherwise: only dials with an agent kept for them, which
cannot be abandoned, go out until enough live calls have been connected), and a `throttle`
for the pacer that eases off from 1 at 98 % of the limit to 0 at the limit, so the
limit is approached slowly and not hit (the pacer itself aims at 97 % of it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ccgateway.domain.calendar import Day, local_time, zone
from ccgateway.domain.outbound.rules import AbandonWindow, RuleSet

EASE_FROM = 0.98  # the throttle eases off from this share of the limit (the pacer aims at 97 %)
MINUTE = 60.0
THIRTY_DAYS_MIN = 30 * 24 * 60


@dataclass(slots=True)
class Tally:
    live: int = 0  # people AMD let through (connected, abandoned, hung up in the grace)
    abandoned: int = 0
    machines: int = 0  # AMD machine verdicts

    def add(self, other: Tally, sign: int = 1) -> None:
        self.live += sign * other.live
        self.abandoned += sign * other.abandoned
        self.machines += sign * other.machines


@dataclass(frozen=True, slots=True)
class LedgerView:
    window: str
    live: int
    abandoned: int
    machines: int
    amd_estimate: float  # people taken for machines, estimated (UK)
    rate: float | None  # by the rule set's definition; None before any live call
    limit: float | None
    stopped: bool
    throttle: float


class AbandonLedger:
    def __init__(self, rules: RuleSet, amd_false_positive_share: float, target: float) -> None:
        self.rules = rules
        self.share = amd_false_positive_share
        self.limit = min(target, rules.abandon_limit) if rules.abandon_limit is not None else target
        self._tz = zone(rules.ledger_timezone)
        self._days: dict[Day, Tally] = {}  # calendar-day ledgers (the last few days)
        self._minutes: deque[tuple[int, Tally]] = deque()  # rolling: oldest first
        self._rolling = Tally()  # the sum of `_minutes`

    # --- what happened ------------------------------------------------------------------

    def live(self, at: float, abandoned: bool = False) -> None:
        tally = self._bucket(at)
        tally.live += 1
        tally.abandoned += abandoned
        if self._is_rolling:
            self._rolling.live += 1
            self._rolling.abandoned += abandoned

    def machine(self, at: float) -> None:
        self._bucket(at).machines += 1
        if self._is_rolling:
            self._rolling.machines += 1

    # --- what it says -------------------------------------------------------------------

    def adopt(self, other: AbandonLedger) -> None:
        """Keep what another ledger of the same campaign counted (its settings changed)."""
        if other.rules.abandon_window is self.rules.abandon_window:
            self._days = {
                day: Tally(t.live, t.abandoned, t.machines) for day, t in other._days.items()
            }
            self._minutes = deque(
                (m, Tally(t.live, t.abandoned, t.machines)) for m, t in other._minutes
            )
            self._rolling = Tally(
                other._rolling.live, other._rolling.abandoned, other._rolling.machines
            )

    def tally(self, now: float) -> Tally:
        """The window's counts at `now`. Time only moves forward: a rolling window forgets
        what has left it, so a later `now` cannot be followed by an earlier one."""
        if not self._is_rolling:
            found = self._days.get(local_time(now, self._tz).day)
            return Tally(found.live, found.abandoned, found.machines) if found else Tally()
        newest = int(now // MINUTE)
        while self._minutes and self._minutes[0][0] <= newest - THIRTY_DAYS_MIN:
            self._rolling.add(self._minutes.popleft()[1], -1)
        return Tally(self._rolling.live, self._rolling.abandoned, self._rolling.machines)

    def counts(self, now: float) -> tuple[float, float]:
        """(abandoned, live) as the rule set counts them, estimate included."""
        tally = self.tally(now)
        estimate = self._estimate(tally)
        return tally.abandoned + estimate, tally.live + estimate

    def rate(self, now: float) -> float | None:
        abandoned, live = self.counts(now)
        return abandoned / live if live > 0 else None

    def stopped(self, now: float) -> bool:
        """True when one more abandoned call would take the rate over the limit."""
        abandoned, live = self.counts(now)
        return abandoned + 1.0 > self.limit * (live + 1.0)

    def throttle(self, now: float) -> float:
        if self.stopped(now):
            return 0.0
        rate = self.rate(now) or 0.0
        if self.limit <= 0.0:
            return 0.0
        ease = (self.limit - rate) / (self.limit * (1.0 - EASE_FROM))
        return max(0.0, min(1.0, ease))

    def view(self, now: float) -> LedgerView:
        tally = self.tally(now)
        return LedgerView(
            self.rules.abandon_window.value,
            tally.live,
            tally.abandoned,
            tally.machines,
            round(self._estimate(tally), 3),
            self.rate(now),
            self.limit,
            self.stopped(now),
            self.throttle(now),
        )

    def _estimate(self, tally: Tally) -> float:
        return tally.machines * self.share if self.rules.count_amd_false_positives else 0.0

    @property
    def _is_rolling(self) -> bool:
        return self.rules.abandon_window is AbandonWindow.ROLLING_30_DAYS

    def _bucket(self, at: float) -> Tally:
        """Events come in time order (a late one joins the newest minute)."""
        if not self._is_rolling:
            day = local_time(at, self._tz).day
            if day not in self._days:
                for old in sorted(self._days)[:-2]:
                    del self._days[old]  # keep yesterday's and the day before for views
                self._days[day] = Tally()
            return self._days[day]
        minute = int(at // MINUTE)
        if not self._minutes or self._minutes[-1][0] < minute:
            self._minutes.append((minute, Tally()))
        return self._minutes[-1][1]
