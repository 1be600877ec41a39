"""The exact Markov-tier optimum, progressive dialing and the Erlang B open-loop benchmark."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass

import pytest

from ccgateway.sim.optimum import (
    Policy,
    erlang_b,
    erlang_b_open_loop,
    evaluate_progressive,
    evaluate_top_up,
    progressive_utilisation,
    solve,
)

MEAN_RING_S = 15.0
MEAN_BUSY_S = 135.0


def closed_form_progressive(p_live: float) -> float:
    # each agent alternates busy (mean 135 s) and waiting for a live call (mean 15 / p s)
    return MEAN_BUSY_S / (MEAN_BUSY_S + MEAN_RING_S / p_live)


@pytest.mark.parametrize(("n", "p"), [(1, 0.2), (3, 0.3), (8, 0.2), (8, 0.3)])
def test_progressive_is_exact_abandon_free_and_the_same_for_every_n(n: int, p: float) -> None:
    ev = evaluate_progressive(n, p)
    assert ev.abandon_rate == 0.0
    assert ev.abandons_per_agent_hour == 0.0
    assert ev.utilisation == pytest.approx(closed_form_progressive(p), abs=1e-9)
    assert progressive_utilisation(n, p) == ev.utilisation
    assert ev.balance_error < 1e-9
    assert ev.policy.levels == tuple(n - b for b in range(n + 1))
    assert ev.states == n + 1  # r = N - b is the only ringing level ever seen


def test_the_optimum_meets_the_target_and_beats_progressive() -> None:
    r = solve(6, 0.3, 0.03)
    assert abs(r.abandon_rate - 0.03) < 1e-3
    assert r.abandon_rate == pytest.approx(0.03, abs=1e-9)  # the mixture meets it exactly
    assert r.utilisation > progressive_utilisation(6, 0.3) + 0.05
    # the duality bound from the value iteration certifies optimality
    assert r.utilisation <= r.utilisation_upper_bound + 1e-12
    assert r.utilisation_upper_bound - r.utilisation < 1e-6
    assert r.connects_per_agent_hour == pytest.approx(r.utilisation * 3600 / MEAN_BUSY_S, 1e-9)
    # a generic target is hit by no deterministic policy: two policies, one on each side
    assert r.randomised and r.policy_alt is not None and 0.0 < r.mix_weight < 1.0
    below, above = r.components
    assert below.abandon_rate < 0.03 < above.abandon_rate
    assert below.utilisation < r.utilisation < above.utilisation
    assert r.prices[1] <= r.price <= r.prices[0]
    assert r.top_up_form and r.policy.top_up_form
    assert list(r.policy.levels) == sorted(r.policy.levels, reverse=True)
    assert max(r.policy.levels) < r.max_ringing and not r.cap_binding
    for ev in r.components:
        assert ev.balance_error < 1e-9


def test_no_deterministic_top_up_policy_meeting_the_target_beats_the_optimum() -> None:
    n, p, target = 2, 0.3, 0.03
    best = solve(n, p, target)
    feasible = []
    for levels in itertools.product(range(9), range(6), range(4)):
        ev = evaluate_top_up(n, p, list(levels), max_ringing=8)
        if ev.abandon_rate <= target:
            feasible.append(ev.utilisation)
            assert ev.utilisation <= best.utilisation + 1e-9, levels
    assert max(feasible) > best.utilisation - 0.01  # and some come close


def test_a_vanishing_target_gives_progressive_and_a_huge_one_full_utilisation() -> None:
    n, p = 5, 0.3
    prog = progressive_utilisation(n, p)
    targets = [1e-6, 1e-3, 0.03, 0.3, 0.8]
    us = [solve(n, p, t).utilisation for t in targets]
    assert us == sorted(us)
    assert prog - 1e-12 <= us[0] < prog + 1e-3
    assert us[-1] > 0.98


def test_a_larger_ringing_cap_changes_nothing() -> None:
    r = solve(5, 0.2)
    wider = solve(5, 0.2, max_ringing=2 * r.max_ringing)
    assert wider.utilisation == pytest.approx(r.utilisation, abs=1e-8)
    assert wider.policy.levels == r.policy.levels
    assert not wider.cap_binding


def test_a_given_cap_is_a_hard_limit_and_reported_when_it_binds() -> None:
    r = solve(4, 0.2, 0.3, max_ringing=6)
    assert r.max_ringing == 6 and r.cap_binding
    assert max(r.policy.levels) == 6
    assert r.abandon_rate <= 0.3 + 1e-12


def test_the_top_up_policy_reevaluated_gives_the_components() -> None:
    r = solve(4, 0.3)
    for ev in r.components:
        again = evaluate_top_up(4, 0.3, list(ev.policy.levels), max_ringing=r.max_ringing)
        assert again.utilisation == pytest.approx(ev.utilisation, abs=1e-10)
        assert again.abandon_rate == pytest.approx(ev.abandon_rate, abs=1e-10)
    policy = r.policy
    for b in range(5):
        for ring in range(12):
            assert policy.target(b, ring) == max(ring, policy.levels[b])
            assert policy.calls_to_add(b, ring) >= 0


@dataclass
class SimStats:
    utilisation: float
    abandon_rate: float
    live: int


def simulate(policy: Policy, n: int, p: float, horizon_s: float, seed: int) -> SimStats:
    """A discrete-event simulation of the Markov tier: each dialled call rings an exponential
    time and is live with probability p, each connected call keeps its agent an exponential
    time; after every event the dialer tops up per `policy`."""
    rng = random.Random(seed)
    events: list[tuple[float, int, str]] = []
    seq = itertools.count()
    busy = ringing = 0
    warmup = 0.05 * horizon_s
    busy_time = 0.0
    live = abandoned = 0

    def dial(at: float) -> None:
        nonlocal ringing
        add = policy.calls_to_add(busy, ringing)
        for _ in range(add):
            heapq.heappush(events, (at + rng.expovariate(1.0 / MEAN_RING_S), next(seq), "ring"))
        ringing += add

    t = 0.0
    dial(t)
    while events:
        at, _, kind = heapq.heappop(events)
        if at > horizon_s:
            break
        if at > warmup:
            busy_time += busy * (at - max(t, warmup))
        t = at
        if kind == "free":
            busy -= 1
        else:
            ringing -= 1
            if rng.random() < p:
                counted = at > warmup
                live += counted
                if busy < n:
                    busy += 1
                    heapq.heappush(
                        events, (at + rng.expovariate(1.0 / MEAN_BUSY_S), next(seq), "free")
                    )
                else:
                    abandoned += counted
        dial(t)
    return SimStats(busy_time / ((horizon_s - warmup) * n), abandoned / live, live)


def test_exact_averages_agree_with_a_discrete_event_simulation() -> None:
    n, p = 6, 0.3
    r = solve(n, p, 0.1)  # a higher target: enough abandons for a sharp estimate
    ev = r.components[0]
    sim = simulate(ev.policy, n, p, horizon_s=1.5e6, seed=20240611)
    assert sim.live > 40_000
    assert sim.utilisation == pytest.approx(ev.utilisation, rel=0.01)
    assert sim.abandon_rate == pytest.approx(ev.abandon_rate, rel=0.06)


@pytest.mark.parametrize(("n", "u"), [(10, 0.54), (20, 0.68), (50, 0.81), (100, 0.88)])
def test_erlang_b_open_loop_reproduces_the_note(n: int, u: float) -> None:
    low, high = erlang_b_open_loop(n, 0.03, p_live=0.2), erlang_b_open_loop(n, 0.03, p_live=0.3)
    assert round(low.utilisation, 2) == u
    assert low.abandon_rate == pytest.approx(0.03, rel=1e-9)
    # U depends on N and the target only; p sets how many dials it takes
    assert high.utilisation == low.utilisation
    assert low.dials_per_agent_hour is not None and high.dials_per_agent_hour is not None
    assert low.dials_per_agent_hour == pytest.approx(1.5 * high.dials_per_agent_hour)


def test_erlang_b_known_values() -> None:
    assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0)
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    assert erlang_b(0, 3.0) == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_agents": 0, "p_live": 0.2},
        {"n_agents": 3, "p_live": 0.0},
        {"n_agents": 3, "p_live": 1.5},
        {"n_agents": 3, "p_live": 0.2, "abandon_target": 0.0},
        {"n_agents": 3, "p_live": 0.2, "abandon_target": 1.0},
        {"n_agents": 3, "p_live": 0.2, "mean_ring_s": 0.0},
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        solve(**kwargs)  # type: ignore[arg-type]


def test_open_loop_is_below_the_optimum_everywhere_small() -> None:
    for n in (2, 5, 10):
        assert erlang_b_open_loop(n).utilisation < solve(n, 0.2).utilisation
    assert math.isclose(erlang_b_open_loop(1, 0.5).utilisation, 0.5)
