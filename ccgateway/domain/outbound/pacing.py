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

import bisect
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

HORIZONS = (1.0, 2.5, 4.0, 6.0, 8.0, 10.0, 12.5, 15.0, 18.0, 22.0, 26.0, 32.0)
MIN_SAMPLES = 30  # below this the priors carry the estimate
EXACT_UP_TO = 80  # trials; beyond, the normal law is accurate enough


class DialEnd(StrEnum):
    LIVE = "live"  # a person answered
    MACHINE = "machine"  # an answering machine (detected)
    NO_ANSWER = "no_answer"
    BUSY = "busy"  # busy, invalid, unreachable: over quickly


@dataclass
class _Samples:
    """A bounded sample of durations, kept sorted for the survival function."""

    limit: int
    values: list[float] = field(default_factory=list)
    order: deque[float] = field(default_factory=deque)

    def add(self, value: float) -> None:
        if len(self.order) >= self.limit:
            old = self.order.popleft()
            del self.values[bisect.bisect_left(self.values, old)]
        self.order.append(value)
        bisect.insort(self.values, value)

    def __len__(self) -> int:
        return len(self.values)

    def survival(self, t: float) -> float:
        """P(duration > t), empirical."""
        n = len(self.values)
        return 1.0 - bisect.bisect_right(self.values, t) / n if n else 1.0


class _Curve:
    """A survival function on a grid, rebuilt from its samples (or the prior) when they have
    changed enough: lookups are O(1), whatever the sample size."""

    STEP = 0.25
    REBUILD_AFTER = 25

    def __init__(self, samples: _Samples, prior: tuple[float, ...]) -> None:
        self.samples, self.prior = samples, prior
        self._grid: list[float] = []
        self._changes = self.REBUILD_AFTER  # build on first use

    def changed(self) -> None:
        self._changes += 1

    def __call__(self, t: float) -> float:
        if self._changes >= self.REBUILD_AFTER:
            self._build()
        index = int(t / self.STEP)
        return self._grid[index] if index < len(self._grid) else 0.0

    def _build(self) -> None:
        self._changes = 0
        use = self.samples.values if len(self.samples) >= MIN_SAMPLES else sorted(self.prior)
        top = use[-1] if use else 0.0
        n = len(use)
        grid = []
        j = 0
        for i in range(int(top / self.STEP) + 2):
            t = i * self.STEP
            while j < n and use[j] <= t:
                j += 1
            grid.append(1.0 - j / n if n else 0.0)
        self._grid = grid


@dataclass(frozen=True, slots=True)
class Priors:
    """What the pacer assumes before it has seen enough: a cautious start."""

    live_share: float = 0.2
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
        aim: float = 0.9,
        priors: Priors | None = None,
        memory: int = 2000,
        step: float = 0.03,
    ) -> None:
        """`target`: the legal cap on abandoned over live calls; the pacer aims at `aim`
        times it. `step`: how fast the threshold learns (per live call)."""
        self.target = target
        self.aim = aim
        self.priors = priors or Priors()
        self._ends: deque[bool] = deque(maxlen=memory)  # did the dial turn live?
        self._lives = 0
        self._live_ring = _Samples(memory)
        self._other_ring = _Samples(memory)
        self._busy = _Samples(memory)
        self._live_curve = _Curve(self._live_ring, self.priors.live_ring_s)
        self._other_curve = _Curve(self._other_ring, self.priors.other_ring_s)
        self._busy_curve = _Curve(self._busy, self.priors.busy_s)
        self.threshold = self.priors.threshold
        self.step = step
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

    def _views(self, state: PaceState) -> list[_Horizon]:
        """The future at each horizon, and the chance a new call turns live in each slot."""
        views = []
        before = 0.0
        p = self.live_share
        for h in HORIZONS:
            by_then = self.live_within(0.0, h, p)
            live = [self.live_within(a, h, p) for a in state.ringing_ages_s]
            live += [1.0] * state.live_waiting  # they need an agent whatever happens
            free = [self.free_within(e, h) for e in state.busy_elapsed_s]
            views.append(_Horizon(live, free, state.free_agents, by_then - before, by_then))
            before = by_then
        return views

    @staticmethod
    def _marginal(views: list[_Horizon]) -> float:
        """P(one more call would be abandoned): it turns live in some slot and finds the
        agents free by then taken by the live answers before it."""
        live = sum(view.slot for view in views)
        if live <= 1e-12:
            return 0.0
        return sum(view.slot * view.taken() for view in views) / live


class _Horizon:
    """Live answers against free agents at one horizon; more new calls can be added."""

    def __init__(
        self, live: list[float], free: list[float], free_now: int, slot: float, new_p: float
    ) -> None:
        self.free_now, self.slot, self.new_p = free_now, slot, new_p
        self.live_mean = sum(live)
        self.live_var = sum(p * (1 - p) for p in live)
        self.free_mean = sum(free)
        self.free_var = sum(p * (1 - p) for p in free)
        self.exact = len(live) <= EXACT_UP_TO and len(free) <= EXACT_UP_TO
        if self.exact:
            self.live_dist = _poisson_binomial(live)
            self.free_dist = _poisson_binomial(free)

    def add_call(self) -> None:
        p = self.new_p
        self.live_mean += p
        self.live_var += p * (1 - p)
        if self.exact:
            if len(self.live_dist) > EXACT_UP_TO + 1:
                self.exact = False
            else:
                self.live_dist = _add_trial(self.live_dist, p)

    def taken(self) -> float:
        """P(the live answers by then are at least the agents free by then)."""
        if self.exact:
            survival = _survival_of(self.live_dist)
            return sum(mass * survival(self.free_now + a) for a, mass in enumerate(self.free_dist))
        mean = self.live_mean - self.free_now - self.free_mean
        sd = math.sqrt(max(1e-12, self.live_var + self.free_var))
        return 0.5 * (1 + math.erf((mean + 0.5) / (sd * math.sqrt(2))))  # P(L - A >= 0)


def _survival_of(dist: list[float]) -> _Survival:
    return _Survival(dist)


class _Survival:
    """k -> P(X >= k) for X with distribution `dist`."""

    def __init__(self, dist: list[float]) -> None:
        tail = [0.0] * (len(dist) + 1)
        for k in range(len(dist) - 1, -1, -1):
            tail[k] = tail[k + 1] + dist[k]
        self.tail = tail

    def __call__(self, k: int) -> float:
        if k <= 0:
            return 1.0
        return self.tail[k] if k < len(self.tail) else 0.0


def _add_trial(dist: list[float], p: float) -> list[float]:
    nxt = [0.0] * (len(dist) + 1)
    q = 1.0 - p
    for k, mass in enumerate(dist):
        nxt[k] += mass * q
        nxt[k + 1] += mass * p
    return nxt


def _poisson_binomial(probabilities: Sequence[float]) -> list[float]:
    """The distribution of the number of successes of independent Bernoulli trials."""
    dist = [1.0]
    for p in probabilities:
        if p > 0.0:
            dist = _add_trial(dist, p)
    return dist
