"""The peers' pacing as simulation policies."""

from __future__ import annotations

import pytest

from ccgateway.domain.outbound.pacing import PaceState
from ccgateway.sim.baselines import (
    ErlangBOpenLoop,
    FixedRatio,
    Progressive,
    TopUp,
    VicidialAdaptive,
)
from ccgateway.sim.bench import Cell, Setup, exact_fixed_ratio
from ccgateway.sim.dialer import DialerSim, Workload
from ccgateway.sim.optimum import erlang_b_open_loop, solve


@pytest.mark.parametrize(
    ("ratio", "state", "calls"),
    [
        (2.0, PaceState(5, [1.0, 2.0], [], None, 1), 7),  # 10 lines less 3 in flight
        (2.0, PaceState(5, [1.0, 2.0], [], 6, 1), 3),  # the cap leaves room for 3
        (2.0, PaceState(5, [1.0] * 6, [], 6, 0), 0),
        (1.5, PaceState(3, [], [], None, 0), 4),  # round(4.5) = 4, as VICIdial's %.0f
        (3.0, PaceState(0, [], [10.0], None, 0), 0),  # no free agent, no call
    ],
)
def test_fixed_ratio_counts_lines_per_free_agent(
    ratio: float, state: PaceState, calls: int
) -> None:
    decision = FixedRatio(ratio).decide(state, 0.0)
    assert decision.calls == calls and not decision.keep_agents


def test_fixed_ratio_obeys_the_line_cap_in_the_simulation() -> None:
    w = Workload(20, 0.2, hours=1.0, max_lines=8)
    result = DialerSim(w, 1).run(FixedRatio(3.0))
    assert result.peak_lines <= 8 and result.over_cap == 0
    assert result.kept_dials == 0


def test_progressive_keeps_an_agent_for_each_call_and_respects_the_cap() -> None:
    decision = Progressive().decide(PaceState(4, [], [30.0], 3, 0), 0.0)
    assert decision.calls == 3 and decision.keep_agents


def test_erlang_b_stream_has_the_rate_that_gives_the_target() -> None:
    open_loop = erlang_b_open_loop(50, 0.03, 0.3)
    policy = ErlangBOpenLoop(50, 0.3, seed=3)
    assert policy.rate == pytest.approx(open_loop.offered_erlangs / 135.0 / 0.3)
    assert open_loop.dials_per_agent_hour is not None
    assert policy.rate * 3600 / 50 == pytest.approx(open_loop.dials_per_agent_hour)
    result = DialerSim(Workload(50, 0.3, hours=4.0, markov=True), 2).run(policy)
    assert result.dials / (4 * 3600.0) == pytest.approx(policy.rate, rel=0.04)


def test_vicidial_raises_its_level_while_agents_wait_and_cuts_it_on_drops() -> None:
    policy = VicidialAdaptive(method="hard")
    idle = PaceState(5, [], [60.0] * 5, None, 0)
    for second in range(61):
        policy.decide(idle, float(second))
    raised = policy.level
    assert raised > 1.3  # half the agents ready: x1.5 every 15 s, up to the cap of 3
    assert raised <= 3.0
    for _ in range(60):
        policy.live_handled(abandoned=True, kept=False, now=61.0)
    policy.dials = 100
    for second in range(61, 140):
        policy.decide(idle, float(second))
    assert policy.level == 1.0  # ADAPT_HARD_LIMIT: the day's drops are over the target


def test_vicidial_averaging_halves_instead() -> None:
    policy = VicidialAdaptive(method="average", start_level=2.0)
    policy.dials, policy.drops, policy.connects = 100, 10, 90
    busy = PaceState(0, [], [60.0] * 10, None, 0)
    for second in range(16):
        policy.decide(busy, float(second))
    assert policy.level == pytest.approx(1.0)


def test_the_optimum_top_up_policy_reaches_the_exact_utilisation() -> None:
    optimum = solve(10, 0.3)
    us = [
        DialerSim(Workload(10, 0.3, hours=8.0, markov=True), seed).run(TopUp(optimum))
        for seed in (1, 2, 3)
    ]
    mean_u = sum(r.utilisation for r in us) / len(us)
    assert mean_u == pytest.approx(optimum.utilisation, abs=0.02)
    live = sum(r.connected + r.abandoned for r in us)
    assert sum(r.abandoned for r in us) / live == pytest.approx(0.03, abs=0.012)


def test_the_exact_best_fixed_ratio_is_within_the_target_and_below_the_optimum() -> None:
    best = exact_fixed_ratio(Setup(), Cell(10, 0.3, True))
    assert best.abandon_rate <= 0.03
    assert 1.0 < best.ratio < 3.0
    assert best.utilisation <= solve(10, 0.3).utilisation + 1e-9
