"""The pacer's arithmetic at one horizon: how many live answers the calls out will bring
against how many agents will be free by then, as Poisson-binomial counts (exact while the
trials are few, by the normal law beyond), so the chance a new call is abandoned is
computed, not guessed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EXACT_UP_TO = 24  # trials; beyond, the normal law is accurate enough


class Horizon:
    """Live answers against free agents at one horizon; more new calls can be added.

    The counts are Poisson-binomial: exact while there are few trials, by the normal law
    (with a continuity correction) beyond."""

    __slots__ = (
        "exact",
        "free_dist",
        "free_mean",
        "free_now",
        "free_var",
        "live_dist",
        "live_mean",
        "live_var",
        "new_p",
        "slot",
    )

    def __init__(self, free_now: int, slot: float, new_p: float) -> None:
        self.free_now, self.slot, self.new_p = free_now, slot, new_p
        self.live_mean = self.live_var = self.free_mean = self.free_var = 0.0
        self.exact = False
        self.live_dist: list[float] = []
        self.free_dist: list[float] = []

    def add_call(self) -> None:
        p = self.new_p
        self.live_mean += p
        self.live_var += p * (1 - p)
        if self.exact:
            if len(self.live_dist) + len(self.free_dist) > EXACT_UP_TO + 2:
                self.exact = False
            else:
                self.live_dist = add_trial(self.live_dist, p)

    def taken(self) -> float:
        """P(the live answers by then are at least the agents free by then)."""
        if self.exact:
            survival = Survival(self.live_dist)
            return sum(mass * survival(self.free_now + a) for a, mass in enumerate(self.free_dist))
        mean = self.live_mean - self.free_now - self.free_mean
        sd = math.sqrt(max(1e-12, self.live_var + self.free_var))
        return 0.5 * (1 + math.erf((mean + 0.5) / (sd * math.sqrt(2))))  # P(L - A >= 0)


class Survival:
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


Chances = tuple[tuple[float, ...], tuple[float, ...]]  # per horizon: chances, their squares


def as_chances(values: list[float]) -> Chances:
    return tuple(values), tuple(v * v for v in values)


def add_trial(dist: list[float], p: float) -> list[float]:
    nxt = [0.0] * (len(dist) + 1)
    q = 1.0 - p
    for k, mass in enumerate(dist):
        nxt[k] += mass * q
        nxt[k + 1] += mass * p
    return nxt


def poisson_binomial(probabilities: Sequence[float]) -> list[float]:
    """The distribution of the number of successes of independent Bernoulli trials."""
    dist = [1.0]
    for p in probabilities:
        if p > 0.0:
            dist = add_trial(dist, p)
    return dist
