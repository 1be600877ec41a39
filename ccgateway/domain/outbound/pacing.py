"""How many calls to place now: model-based predictive pacing, learned online.

The dialer sees the calls ringing (and how long each has rung), the people on the line
without an agent yet, the agents talking or in wrap-up (and for how long), and the agents
free. Each call placed is worth a conversation if a person answers and an agent is free
for them, and costs an abandon if a person answers and nobody is: the law caps the
abandons' share of the live calls.

The model keeps, per campaign, what it has seen:
- how dials end: the share that turn live, and the ring time of live endings and of the
  others, as empirical distributions (priors until enough are seen);
- how long an agent is busy with a connected call (talk + wrap), empirically.
From these it knows, for a call that has rung `a` seconds, the chance it turns live within
the next `h` seconds, and for an agent busy `e` seconds, the chance they are free within
`h`.

The decision is the one a Lagrangian (constrained) optimum takes: place another call while
the chance that *it* would be abandoned stays under a threshold. That chance is computed
at the moments it could turn live (the `HORIZONS`, weighted by its ring-time law): it is
abandoned if, by then, the live answers of the calls already out (and of the extra ones
placed before it) have taken every agent free by then; those counts are Poisson-binomial,
taken exactly while small and by the normal law beyond. The threshold is learned: after
every live call it moves a little (up when the call was connected, down when it was
abandoned) so that the long-run abandon rate settles at `aim` x the target (stochastic
approximation); the ledgers' `throttle` scales it down as a legal limit comes near.

It never places fewer calls than progressive dialing would (one per free agent not already
covered by a call in flight): progressive cannot abandon, so the floor costs nothing. The
same code runs in the live dialer and in the simulator (ccgateway/sim/dialer.py).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.outbound.horizons import (
    EXACT_UP_TO,
    Chances,
    Horizon,
    as_chances,
    poisson_binomial,
)
from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.survival import MIN_SAMPLES, Curve, Samples

HORIZONS = (1.0, 2.5, 4.0, 6.0, 8.0, 11.0, 14.0, 18.0, 23.0, 30.0)


class DialEnd(StrEnum):
    LIVE = "live"  # a person answered
    MACHINE = "machine"  # an answering machine (detected)
    NO_ANSWER = "no_answer"
    BUSY = "busy"  # busy, invalid, unreachable: over quickly


@dataclass(frozen=True, slots=True)
class Priors:
    """What the pacer assumes before it has seen enough: a cautious start."""

    live_share: float = 0.5  # over-estimating who answers dials fewer calls: safe
    live_ring_s: tuple[float, ...] = (3.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 14.0, 18.0)
    other_ring_s: tuple[float, ...] = (4.0, 4.0, 12.0, 15.0, 18.0, 25.0, 25.0, 25.0)
    busy_s: tuple[float, ...] = (40.0, 60.0, 80.0, 100.0, 130.0, 160.0, 200.0, 300.0)
    threshold: float = 0.03  # the first marginal abandon chance allowed


@dataclass(frozen=True, slots=True)
class PaceState:
    """What the dialer sees right now (for one campaign)."""

    free_agents: int
    ringing_ages_s: Sequence[float]  # how long each call in flight has rung
    busy_elapsed_s: Sequence[float]  # how long each busy agent has been busy
    max_lines: int | None = None  # no more calls in flight than this
    live_waiting: int = 0  # people on the line who have no agent yet (within the 2 s)


class Pacer:
    def __init__(
        self,
        target: float = 0.03,
        aim: float = 0.97,
        priors: Priors | None = None,
        memory: int = 2000,
        step: float = 0.01,
        grace_s: float = 0.0,
    ) -> None:
        """`target`: the legal cap on abandoned over live calls; the pacer aims at `aim`
        times it. `step`: how fast the threshold learns (per live call)."""
        self.target = target
        self.aim = aim
        self.priors = priors or Priors()
        self._ends: deque[bool] = deque(maxlen=memory)  # did the dial turn live?
        self._lives = 0
        self._live_ring = Samples(memory)
        self._other_ring = Samples(memory)
        self._busy = Samples(memory)
        self._live_curve = Curve(self._live_ring, self.priors.live_ring_s)
        self._other_curve = Curve(self._other_ring, self.priors.other_ring_s)
        self._busy_curve = Curve(self._busy, self.priors.busy_s)
        self.threshold = self.priors.threshold
        self.step = step
        self.grace_s = grace_s  # a person waits this long for an agent (0: abandoned at once)
        self._ring_key: tuple[int, int, float] | None = None
        self._busy_key = -1
        self._ring_cache: dict[int, Chances] = {}
        self._busy_cache: dict[int, Chances] = {}
        self._new_call: list[float] = []
        self.throttle = 1.0  # set by the ledgers: 1 = as learned, 0 = progressive only
        self.live_calls = 0
        self.abandoned = 0

    # --- what it learns ----------------------------------------------------------------

    def dial_ended(self, end: DialEnd, ring_s: float) -> None:
        live = end is DialEnd.LIVE
        if len(self._ends) == self._ends.maxlen and self._ends[0]:
            self._lives -= 1
        self._ends.append(live)
        self._lives += live
        (self._live_ring if live else self._other_ring).add(max(0.0, ring_s))
        (self._live_curve if live else self._other_curve).changed()

    def busy_ended(self, busy_s: float) -> None:
        """An agent's talk and wrap-up of a connected call took this long."""
        self._busy.add(max(0.0, busy_s))
        self._busy_curve.changed()

    def live_handled(self, abandoned: bool) -> None:
        """A person answered and got an agent, or was abandoned: the threshold learns."""
        self.live_calls += 1
        self.abandoned += abandoned
        goal = self.aim * self.target
        self.threshold *= math.exp(self.step * (goal - float(abandoned)) / goal)
        self.threshold = min(0.9, max(1e-4, self.threshold))

    # --- the estimates ---------------------------------------------------------------

    @property
    def live_share(self) -> float:
        n = len(self._ends)
        weight = min(1.0, n / MIN_SAMPLES)  # blend the prior out as samples come in
        observed = self._lives / n if n else self.priors.live_share
        return weight * observed + (1.0 - weight) * self.priors.live_share

    @property
    def busy_seen(self) -> int:
        """How many agents' busy times (talk and wrap-up) it keeps to learn from."""
        return len(self._busy)

    def measured_abandon_rate(self) -> float | None:
        return self.abandoned / self.live_calls if self.live_calls else None

    def live_within(self, age_s: float, h: float, p: float | None = None) -> float:
        """P(a call that has rung `age_s` and still rings turns live within `h` more)."""
        p = self.live_share if p is None else p
        live_now = self._live_curve(age_s)
        live_then = self._live_curve(age_s + h)
        still = p * live_now + (1.0 - p) * self._other_curve(age_s)
        if still <= 1e-9:
            return 0.0
        return min(1.0, p * (live_now - live_then) / still)

    def free_within(self, elapsed_s: float, h: float) -> float:
        """P(an agent busy `elapsed_s` so far is free within `h` more)."""
        now = self._busy_curve(elapsed_s)
        if now <= 1e-9:
            return 1.0  # longer than anything seen: likely to end soon
        return max(0.0, min(1.0, 1.0 - self._busy_curve(elapsed_s + h) / now))

    # --- the decision ----------------------------------------------------------------

    def calls_to_place(self, state: PaceState) -> int:
        """How many new calls to place now (0 or more)."""
        in_flight = len(state.ringing_ages_s) + state.live_waiting
        progressive = max(0, state.free_agents - in_flight)
        room = 10**6 if state.max_lines is None else state.max_lines - in_flight
        if room <= 0:
            return 0
        limit = self.threshold * self.throttle
        if limit <= 0.0:
            return min(progressive, room)
        views = self._views(state)
        placed = 0
        while placed < room:
            if placed >= progressive and self._marginal(views) > limit:
                break
            for view in views:
                view.add_call()
            placed += 1
        return placed

    def _views(self, state: PaceState) -> list[Horizon]:
        """The future at each horizon, and the chance a new call turns live in each slot.

        Each call ringing and each busy agent contributes one chance per horizon; those
        depend only on the age's grid cell, so they are cached per cell until a curve is
        rebuilt (hundreds of agents cost a dictionary look-up each)."""
        p = (
            round(self.live_share * 200) / 200
        )  # to 0.5 %: a new p every dial would empty the caches
        self._busy_curve.censored = state.busy_elapsed_s
        self._live_curve(0.0), self._other_curve(0.0), self._busy_curve(0.0)  # rebuilt if due
        ring_key = (self._live_curve.version, self._other_curve.version, p)
        if ring_key != self._ring_key:
            self._ring_key = ring_key
            self._ring_cache.clear()
            self._new_call = [self.live_within(0.0, h, p) for h in HORIZONS]
        if self._busy_curve.version != self._busy_key:
            self._busy_key = self._busy_curve.version
            self._busy_cache.clear()
        step = Curve.STEP
        ringing = []
        for age in state.ringing_ages_s:
            cell = int(age / step)
            chances = self._ring_cache.get(cell)
            if chances is None:
                chances = self._ring_cache[cell] = self._ring_chances(cell * step, p)
            ringing.append(chances)
        busy = []
        for elapsed in state.busy_elapsed_s:
            cell = int(elapsed / step)
            chances = self._busy_cache.get(cell)
            if chances is None:
                chances = self._busy_cache[cell] = self._busy_chances(cell * step)
            busy.append(chances)
        exact = len(ringing) + state.live_waiting + len(busy) <= EXACT_UP_TO
        n = len(HORIZONS)
        # Column sums over the calls (and agents) at each horizon, in C: chances, squares.
        zero = (0.0,) * n
        live_sum = [*map(sum, zip(zero, *(c[0] for c in ringing), strict=True))]
        live_sq = [*map(sum, zip(zero, *(c[1] for c in ringing), strict=True))]
        free_sum = [*map(sum, zip(zero, *(c[0] for c in busy), strict=True))]
        free_sq = [*map(sum, zip(zero, *(c[1] for c in busy), strict=True))]
        views = []
        before = 0.0
        for k, by_then in enumerate(self._new_call):
            view = Horizon(state.free_agents, by_then - before, by_then)
            view.live_mean = live_sum[k] + state.live_waiting  # the waiting need an agent
            view.live_var = live_sum[k] - live_sq[k]
            view.free_mean, view.free_var = free_sum[k], free_sum[k] - free_sq[k]
            if exact:
                live = [c[0][k] for c in ringing] + [1.0] * state.live_waiting
                view.exact = True
                view.live_dist = poisson_binomial(live)
                view.free_dist = poisson_binomial([c[0][k] for c in busy])
            views.append(view)
            before = by_then
        return views

    def _ring_chances(self, age: float, p: float) -> Chances:
        return as_chances([self.live_within(age, h, p) for h in HORIZONS])

    def _busy_chances(self, elapsed: float) -> Chances:
        return as_chances([self.free_within(elapsed, h + self.grace_s) for h in HORIZONS])

    @staticmethod
    def _marginal(views: list[Horizon]) -> float:
        """P(one more call would be abandoned): it turns live in some slot and finds the
        agents free by then taken by the live answers before it."""
        live = sum(view.slot for view in views)
        if live <= 1e-12:
            return 0.0
        return sum(view.slot * view.taken() for view in views if view.slot > 0.0) / live


def new_pacer(target: float, grace_s: float) -> Pacer:
    """A campaign's pacer as the live dialer makes it (and the simulator, the same way):
    its first threshold is the target, a person waits `grace_s` for an agent."""
    return Pacer(target, priors=Priors(threshold=target), grace_s=grace_s)


@dataclass(frozen=True, slots=True)
class PaceDecision:
    calls: int
    keep_agents: bool  # each call has a free agent kept for it (progressive): no abandons


def decide(pacer: Pacer, ledger: AbandonLedger, state: PaceState, now: float) -> PaceDecision:
    """The campaign's pacing, as the live dialer and the simulator both run it: the pacer's
    count, eased off by the ledger as the legal limit comes near; at the limit, progressive
    dialing with an agent kept for every call until live calls have made room again."""
    if ledger.stopped(now):
        in_flight = len(state.ringing_ages_s) + state.live_waiting
        count = max(0, state.free_agents - in_flight)
        if state.max_lines is not None:
            count = max(0, min(count, state.max_lines - in_flight))
        return PaceDecision(count, True)
    pacer.throttle = ledger.throttle(now)
    return PaceDecision(pacer.calls_to_place(state), False)
