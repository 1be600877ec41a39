"""The peers' pacing, as policies of the dialer simulation (sim/dialer.py).

- `Progressive`: one call per free agent, the agent kept for it: it cannot abandon.
- `FixedRatio(r)`: a static dial level: round(r x free agents) calls in flight (VICIdial's
  RATIO method with "available only" tally); the benchmark tunes r in hindsight per cell.
- `VicidialAdaptive`: an emulation of VICIdial's AST_VDadapt.pl (2.4): every second it
  samples the ready agents, the calls waiting for an agent and the agents logged in; every
  15 s it scales the dial level by 1 + (mean ready - mean waiting) / mean agents over the
  last 15 samples (intensity 0, no differential target), capped at the maximum adapt level
  (default 3.0) and never below 1.0; when the day's drops exceed the target share of the
  answered calls (after 50 calls; drop stats refreshed every 60 s) it cuts the level:
  ADAPT_HARD_LIMIT to 1.0 (our default), ADAPT_AVERAGE by half, ADAPT_TAPERED by the
  share of the day left (to 1.0 past the latest target time, the shift's end); a last-minute
  drop rate over 50 % (of more than 20 calls) halves it too. Calls placed: round(level x
  ready agents) minus the calls in flight (AST_VDauto_dial.pl, available-only tally).
- `ErlangBOpenLoop`: a Poisson dial stream whose live rate makes B(N, A) = target
  (sim/optimum.py `erlang_b_open_loop`): it ignores the floor entirely.
- `TopUp`: the exact optimum's own policy on the Markov tier (ring up to r*(b) calls with b
  agents busy), time-sharing its two component policies in blocks when randomised.
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Literal

from ccgateway.domain.outbound.pacing import DialEnd, PaceDecision, PaceState
from ccgateway.sim.dialer import QuietPolicy
from ccgateway.sim.optimum import OptimumResult, erlang_b_open_loop


def _in_flight(state: PaceState) -> int:
    return len(state.ringing_ages_s) + state.live_waiting


def _room(state: PaceState, wanted: int) -> int:
    """`wanted` cut to the line cap."""
    if state.max_lines is None:
        return max(0, wanted)
    return max(0, min(wanted, state.max_lines - _in_flight(state)))


class Progressive(QuietPolicy):
    def decide(self, state: PaceState, now: float) -> PaceDecision:
        return PaceDecision(_room(state, state.free_agents - _in_flight(state)), True)


class FixedRatio(QuietPolicy):
    def __init__(self, ratio: float) -> None:
        if ratio < 0:
            raise ValueError("a dial ratio is not negative")
        self.ratio = ratio

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        goal = round(self.ratio * state.free_agents)
        return PaceDecision(_room(state, goal - _in_flight(state)), False)


AdaptMethod = Literal["hard", "average", "tapered"]


class VicidialAdaptive(QuietPolicy):
    SAMPLE_S = 1.0
    LEVEL_EVERY_S = 15.0
    DROPS_EVERY_S = 60.0
    SAMPLES = 15

    def __init__(
        self,
        target: float = 0.03,
        method: AdaptMethod = "hard",
        max_level: float = 3.0,
        start_level: float = 1.0,
        shift_s: float = 8 * 3600.0,
    ) -> None:
        self.target, self.method, self.max_level = target, method, max_level
        self.level = start_level
        self.shift_s = shift_s
        self.samples: deque[tuple[int, int, int]] = deque(maxlen=self.SAMPLES)
        self.next_sample = 0.0
        self.next_level = self.LEVEL_EVERY_S
        self.next_drops = 0.0
        self.dials = self.connects = self.drops = 0  # today
        self.minute: deque[tuple[float, bool]] = deque()  # (when, dropped) of the dials ended
        self.day_rate = 0.0
        self.minute_calls = 0
        self.minute_drop_share = 0.0

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        while now >= self.next_sample:
            total = state.free_agents + len(state.busy_elapsed_s)
            self.samples.append((state.free_agents, state.live_waiting, total))
            self.next_sample += self.SAMPLE_S
        if now >= self.next_drops:
            self._drop_stats(now)
            self.next_drops = now + self.DROPS_EVERY_S
        if now >= self.next_level:
            self._recompute(now)
            self.next_level = now + self.LEVEL_EVERY_S
        goal = round(self.level * state.free_agents)
        count = _room(state, goal - _in_flight(state))
        self.dials += count
        return PaceDecision(count, False)

    def live_handled(self, abandoned: bool, kept: bool, now: float) -> None:
        self.drops += abandoned
        self.connects += not abandoned
        self.minute.append((now, abandoned))

    def dial_ended(self, end: DialEnd, ring_s: float, now: float) -> None:
        if end is not DialEnd.LIVE:
            self.minute.append((now, False))

    def wake_at(self, now: float) -> float | None:
        return self.next_sample

    def _drop_stats(self, now: float) -> None:
        answered = self.connects + self.drops
        self.day_rate = self.drops / answered if answered else 0.0
        while self.minute and self.minute[0][0] < now - 60.0:
            self.minute.popleft()
        self.minute_calls = len(self.minute)
        dropped = sum(1 for _, d in self.minute if d)
        self.minute_drop_share = dropped / self.minute_calls if self.minute_calls else 0.0

    def _recompute(self, now: float) -> None:
        n = len(self.samples)
        if n:
            ready = sum(s[0] for s in self.samples) / n
            waiting = sum(s[1] for s in self.samples) / n
            agents = sum(s[2] for s in self.samples) / n
            if agents > 0:
                self.level *= 1.0 + (ready - waiting) / agents
        level = min(self.level, self.max_level)
        level = max(level, 1.0)
        if self.minute_calls > 20 and self.minute_drop_share > 0.5:
            level /= 2.0
        if self.dials > 50 and self.day_rate > self.target:
            if self.method == "hard":
                level = 1.0
            elif self.method == "average":
                level /= 2.0
            else:
                hours_left = (self.shift_s - now) / 3600.0
                level = 1.0 if hours_left < 0 else level * min(1.0, hours_left / 10.0)
        self.level = max(level, 1.0)


class ErlangBOpenLoop(QuietPolicy):
    """Dials as a Poisson stream at the rate that gives the target abandon rate in steady
    state (live calls Poisson at p x rate, no queue): it never looks at the floor."""

    def __init__(
        self, agents: int, p_live: float, seed: int, target: float = 0.03, busy_s: float = 135.0
    ) -> None:
        offered = erlang_b_open_loop(agents, target, p_live, busy_s).offered_erlangs
        self.rate = offered / busy_s / p_live  # dials per second
        self.rng = random.Random(seed)
        self.next = self.rng.expovariate(self.rate)

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        count = 0
        while self.next <= now:
            count += 1
            self.next += self.rng.expovariate(self.rate)
        return PaceDecision(_room(state, count), False)

    def wake_at(self, now: float) -> float | None:
        return self.next


class TopUp(QuietPolicy):
    """The optimum's policy on (busy agents, calls ringing); when it is a randomised mix,
    the first `mix_weight` of every block of `block_s` runs `policy`, the rest `policy_alt`."""

    def __init__(self, optimum: OptimumResult, block_s: float = 900.0) -> None:
        self.optimum, self.block_s = optimum, block_s

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        opt = self.optimum
        policy = opt.policy
        if opt.policy_alt is not None and math.fmod(now, self.block_s) >= opt.mix_weight * (
            self.block_s
        ):
            policy = opt.policy_alt
        busy = min(len(state.busy_elapsed_s), opt.n_agents)
        add = policy.calls_to_add(busy, len(state.ringing_ages_s))
        return PaceDecision(_room(state, add), False)
