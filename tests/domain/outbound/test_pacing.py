"""The pacer: what it promises whatever it has learned (never below progressive, within the
line cap, more calls for a higher threshold), what it learns (survival curves with censored
durations, the live share, the threshold's feedback), and the ledger's say over it."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.pacing import (
    DialEnd,
    Pacer,
    PaceState,
    decide,
)
from ccgateway.domain.outbound.rules import UK, US
from ccgateway.domain.outbound.survival import Curve, Samples

NOON = 1_796_126_400.0

states = st.builds(
    PaceState,
    free_agents=st.integers(0, 60),
    ringing_ages_s=st.lists(st.floats(0, 40), max_size=80),
    busy_elapsed_s=st.lists(st.floats(0, 900), max_size=80),
    max_lines=st.one_of(st.none(), st.integers(0, 200)),
    live_waiting=st.integers(0, 5),
)


def trained(seed: int = 1, p: float = 0.3, dials: int = 400) -> Pacer:
    """A pacer that has seen `dials` exponential ring outcomes and busy times."""
    rng = random.Random(seed)
    pacer = Pacer(0.03)
    for _ in range(dials):
        end = DialEnd.LIVE if rng.random() < p else DialEnd.NO_ANSWER
        pacer.dial_ended(end, rng.expovariate(1 / 15))
        pacer.busy_ended(rng.expovariate(1 / 135))
    return pacer


@settings(max_examples=150, deadline=None)
@given(states, st.floats(1e-4, 0.9))
def test_never_fewer_calls_than_progressive_and_never_over_the_line_cap(
    state: PaceState, threshold: float
) -> None:
    pacer = trained()
    pacer.threshold = threshold
    placed = pacer.calls_to_place(state)
    in_flight = len(state.ringing_ages_s) + state.live_waiting
    room = math.inf if state.max_lines is None else state.max_lines - in_flight
    progressive = max(0, state.free_agents - in_flight)
    assert placed >= min(progressive, max(0, room))
    assert placed <= max(0, room)


@settings(max_examples=60, deadline=None)
@given(states)
def test_a_higher_threshold_never_places_fewer_calls(state: PaceState) -> None:
    pacer = trained()
    counts = []
    for threshold in (0.005, 0.02, 0.08, 0.3):
        pacer.threshold = threshold
        counts.append(pacer.calls_to_place(state))
    assert counts == sorted(counts)


def test_more_busy_agents_mean_fewer_calls_for_the_same_free_ones() -> None:
    pacer = trained()
    few = pacer.calls_to_place(PaceState(5, [], [60.0] * 5))
    many = pacer.calls_to_place(PaceState(5, [], [60.0] * 50))
    assert many >= few  # more agents about to free up: more calls, never fewer


def test_a_throttle_of_zero_leaves_progressive_only() -> None:
    pacer = trained()
    pacer.throttle = 0.0
    assert pacer.calls_to_place(PaceState(4, [3.0], [100.0] * 10)) == 3


def test_the_threshold_learns_down_after_abandons_and_up_after_connects() -> None:
    pacer = Pacer(0.03)
    start = pacer.threshold
    pacer.live_handled(True)
    assert pacer.threshold < start
    lower = pacer.threshold
    for _ in range(50):
        pacer.live_handled(False)
    assert pacer.threshold > lower
    assert pacer.measured_abandon_rate() == 1 / 51


def test_the_live_share_moves_from_the_prior_to_what_is_seen() -> None:
    pacer = Pacer(0.03)
    assert pacer.live_share == pacer.priors.live_share
    for _ in range(300):
        pacer.dial_ended(DialEnd.NO_ANSWER, 25.0)
    assert pacer.live_share == 0.0


def test_censored_busy_times_keep_early_short_calls_from_looking_typical() -> None:
    """Just after a start, only the short calls have ended: a plain average says calls
    are short; counting the agents still busy as censored keeps the estimate honest."""
    rng = random.Random(7)
    durations = [rng.expovariate(1 / 135) for _ in range(400)]
    horizon = 60.0  # seen so far: one minute in
    ended = sorted(d for d in durations if d <= horizon)
    running = [horizon for d in durations if d > horizon]
    samples = Samples(5000)
    for d in ended:
        samples.add(d)
    plain = Curve(samples, (135.0,))
    censored = Curve(samples, (135.0,))
    censored.censored = running
    truth = math.exp(-30 / 135)
    assert abs(censored(30.0) - truth) < 0.05
    assert plain(30.0) < truth - 0.2  # without censoring: far too pessimistic about length


def test_beyond_the_longest_sample_the_curve_continues_instead_of_dropping_to_zero() -> None:
    rng = random.Random(3)
    samples = Samples(5000)
    for _ in range(2000):
        samples.add(rng.expovariate(1 / 100))
    curve = Curve(samples, (100.0,))
    longest = samples.values[-1]
    assert 0.0 < curve(longest + 50) < curve(longest)
    # memoryless tail: the chance to end within 100 s stays near 1 - e^-1
    assert abs((1 - curve(longest + 150) / curve(longest + 50)) - (1 - math.exp(-1))) < 0.15


def test_at_the_ledgers_limit_the_decision_is_progressive_with_agents_kept() -> None:
    ledger = AbandonLedger(UK, 0.0, 0.03)
    pacer = trained()
    state = PaceState(4, [2.0], [100.0] * 20)
    assert decide(pacer, ledger, state, NOON).keep_agents  # a new day: no room yet
    for _ in range(100):
        ledger.live(NOON - 60)
    free = decide(pacer, ledger, state, NOON)
    assert not free.keep_agents and free.calls >= 3
    ledger.live(NOON, abandoned=True)
    ledger.live(NOON, abandoned=True)
    ledger.live(NOON, abandoned=True)
    kept = decide(pacer, ledger, state, NOON + 1)
    assert kept.keep_agents and kept.calls == 3  # one per free agent not already covered


def test_the_us_ledger_remembers_30_days_and_then_forgets() -> None:
    ledger = AbandonLedger(US, 0.0, 0.03)
    for _ in range(97):
        ledger.live(NOON)
    for _ in range(3):
        ledger.live(NOON, abandoned=True)
    assert ledger.rate(NOON + 86400) == 0.03
    assert ledger.rate(NOON + 30 * 86400 + 60) is None
