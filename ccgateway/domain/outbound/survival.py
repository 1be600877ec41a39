"""Durations the pacer learns (how long dials ring, how long agents stay busy) as survival
curves: an empirical sample kept bounded and sorted, and its Kaplan-Meier curve on a grid
that treats durations still running as censored, with the prior standing in while the
data are thin. Lookups cost O(1), so pacing hundreds of agents stays cheap.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_SAMPLES = 30  # below this the priors carry the estimate


@dataclass
class Samples:
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


class Curve:
    """A survival function on a grid, rebuilt from its samples when they have changed
    enough: lookups are O(1), whatever the sample size.

    Durations still running (an agent busy for 40 s so far) are censored observations: the
    curve is the Kaplan-Meier estimate over both, so the first minutes' short calls, which
    end first, do not make every call look short. Beyond what has been seen the curve goes
    on as the prior would from there (while the data are thin) or with an exponential tail
    of the data's own mean excess, never dropping to a cliff at the longest sample."""

    STEP = 0.25
    REBUILD_AFTER = 25
    TAIL_FROM = 0.05  # below this survival the data's own exponential tail takes over

    def __init__(self, samples: Samples | None, prior: tuple[float, ...]) -> None:
        self.samples = samples
        self.prior = None if samples is None else Curve(None, prior)
        self._prior_values = sorted(prior)
        self.censored: Sequence[float] = ()
        self._grid: list[float] = []
        self._tail: tuple[float, float] | None = None  # exponential tail: (survival, mean)
        self._changes = self.REBUILD_AFTER  # build on first use
        self.version = 0  # moves on at every rebuild (the pacer's caches key on it)

    def changed(self) -> None:
        self._changes += 1

    def __call__(self, t: float) -> float:
        if self._changes >= self.REBUILD_AFTER:
            self._build()
        index = int(t / self.STEP)
        if index < len(self._grid):
            return self._grid[index]
        top = (len(self._grid) - 1) * self.STEP
        if self._tail is not None:
            at_top, mean = self._tail
            return at_top * math.exp(-(t - top) / mean)
        assert self.prior is not None
        last = self._grid[-1] if self._grid else 1.0
        prior_top = self.prior(top)
        return last * self.prior(t) / prior_top if prior_top > 1e-12 else 0.0

    def _build(self) -> None:
        self._changes = 0
        self.version += 1
        if self.samples is None:  # the prior itself: no censoring, always a tail
            self._grid, tail = kaplan_meier(self._prior_values, (), self.STEP, self.TAIL_FROM)
            self._tail = tail or (self._grid[-1], self.STEP)
            return
        assert self.prior is not None
        if len(self.samples) < MIN_SAMPLES:
            self.prior(0.0)  # built
            self._grid, self._tail = self.prior._grid, self.prior._tail
            return
        censored = sorted(self.censored)
        self._grid, self._tail = kaplan_meier(
            self.samples.values, censored, self.STEP, self.TAIL_FROM
        )


def kaplan_meier(
    events: Sequence[float], censored: Sequence[float], step: float, tail_from: float
) -> tuple[list[float], tuple[float, float] | None]:
    """The survival grid of sorted `events` with sorted `censored` times, and its tail:
    (survival at the grid's end, mean excess) once survival falls below `tail_from`; None
    when the data run out first (the caller continues with the prior)."""
    at_risk = len(events) + len(censored)
    if not events:
        return [1.0], None
    grid: list[float] = []
    survival = 1.0
    i = j = 0
    t = 0.0
    while True:
        while i < len(events) and events[i] <= t:
            # events at or before t, after the censorings strictly before them
            while j < len(censored) and censored[j] < events[i]:
                at_risk -= 1
                j += 1
            if at_risk > 0:
                survival *= 1.0 - 1.0 / at_risk
            at_risk -= 1
            i += 1
        while j < len(censored) and censored[j] <= t:
            at_risk -= 1
            j += 1
        grid.append(survival)
        if survival <= tail_from:
            beyond = [e - t for e in events[i:]]
            mean = sum(beyond) / len(beyond) if len(beyond) >= 3 else max(step, t / 4.0)
            return grid, (survival, max(step, mean))
        if i >= len(events):
            return grid, None
        t += step
