"""The dialer simulation's accounting: kept agents, variants, determinism, the pacer's view."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ccgateway.domain.outbound.pacing import DialEnd, PaceDecision, PaceState
from ccgateway.domain.outbound.rules import UK, US
from ccgateway.sim.baselines import Progressive
from ccgateway.sim.dialer import DialerSim, QuietPolicy, Workload
from ccgateway.sim.optimum import progressive_utilisation
from ccgateway.sim.policies import PacerPolicy, shift_start


@dataclass
class Scripted(QuietPolicy):
    """Places the scripted decisions one per call, records what it sees and hears."""

    script: list[PaceDecision]
    seen: list[PaceState] = field(default_factory=list)
    handled: list[tuple[bool, bool]] = field(default_factory=list)
    ends: list[DialEnd] = field(default_factory=list)

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        self.seen.append(state)
        return self.script.pop(0) if self.script else PaceDecision(0, False)

    def dial_ended(self, end: DialEnd, ring_s: float, now: float) -> None:
        self.ends.append(end)

    def live_handled(self, abandoned: bool, kept: bool, now: float) -> None:
        self.handled.append((abandoned, kept))


def test_progressive_never_abandons_and_matches_the_exact_utilisation() -> None:
    exact = progressive_utilisation(20, 0.3)
    us = []
    for seed in (1, 2):
        result = DialerSim(Workload(20, 0.3, hours=8.0, markov=True), seed).run(Progressive())
        assert result.abandoned == 0
        assert result.kept_dials == result.dials
        us.append(result.utilisation)
    assert sum(us) / len(us) == pytest.approx(exact, abs=0.02)


def test_progressive_on_the_realistic_tier_never_abandons() -> None:
    result = DialerSim(Workload(10, 0.2, hours=2.0), 3).run(Progressive())
    assert result.abandoned == 0 and result.connected > 0
    assert max(result.waits) == 0.0


def test_a_kept_agent_cannot_be_taken_by_another_call() -> None:
    # One agent, every dial turns live: the kept call gets the agent, the other call is
    # abandoned, whichever answers first.
    for seed in range(6):
        policy = Scripted([PaceDecision(1, True), PaceDecision(1, False)])
        result = DialerSim(Workload(1, 1.0, hours=0.05, markov=True), seed).run(policy)
        assert (result.dials, result.connected, result.abandoned) == (2, 1, 1)
        assert sorted(policy.handled) == [(False, True), (True, False)]
        after_kept = policy.seen[1]
        assert after_kept.free_agents == 0
        assert list(after_kept.ringing_ages_s) == []  # a kept call is not the pacer's


def test_the_pace_state_leaves_kept_calls_out_of_lines_and_rings() -> None:
    policy = Scripted([PaceDecision(2, True), PaceDecision(3, False)])
    DialerSim(Workload(4, 0.3, hours=0.01, max_lines=10), 1).run(policy)
    state = policy.seen[2]
    assert state.free_agents == 2
    assert len(state.ringing_ages_s) == 3
    assert state.max_lines == 8  # the cap less the kept calls


def test_a_kept_agent_is_free_again_when_its_dial_ends_otherwise() -> None:
    policy = Scripted([PaceDecision(1, True)] * 100_000)  # the simulator keeps only free agents
    result = DialerSim(Workload(1, 0.0, hours=0.5), 1).run(policy)
    assert result.connected == 0 and result.dials > 10
    assert result.dials == result.kept_dials


def test_the_same_seed_gives_the_same_day() -> None:
    w = Workload(10, 0.3, hours=0.5, amd_false_positive=0.03, login_churn=True)
    first = DialerSim(w, 7).run(PacerPolicy())
    second = DialerSim(w, 7).run(PacerPolicy())
    assert first == second
    assert DialerSim(w, 8).run(PacerPolicy()) != first


@pytest.mark.parametrize(
    "variant",
    [
        {"amd_false_positive": 0.03},
        {"amd_false_positive": 0.03, "grace_counts_amd": False},
        {"drift_to": 0.15},
        {"login_churn": True},
        {"max_lines": 6},
    ],
)
def test_each_variant_runs_within_the_rules(variant: dict[str, object]) -> None:
    w = Workload(10, 0.3, hours=0.5, **variant)  # type: ignore[arg-type]
    rules = UK if w.grace_counts_amd else US
    policy = PacerPolicy(rules, amd_share=w.amd_share, start_epoch=shift_start(rules, 0))
    result = DialerSim(w, 5).run(policy)
    assert result.connected > 0
    assert result.silent == 0 and result.waits_over_grace == 0
    assert max(result.waits) <= w.grace_s + 1e-9
    if w.amd_false_positive:
        assert result.amd_lost > 0 and result.machines > result.amd_lost
    if w.login_churn:
        assert result.staffed_s < 10 * 3600.0
    if w.max_lines is not None:
        assert result.peak_lines <= w.max_lines and result.over_cap == 0


def test_amd_under_uk_rules_decides_within_the_grace() -> None:
    w = Workload(10, 0.3, hours=1.0, amd_false_positive=0.02, amd_delay_s=(2.5, 3.0))
    result = DialerSim(w, 2).run(Progressive())
    # The kept agent waits through AMD's listening, cut at the 2 s grace.
    assert min(result.waits) == pytest.approx(2.0)
    assert result.abandoned == 0


def test_the_pacer_is_fed_like_the_live_dialer() -> None:
    policy = PacerPolicy()
    w = Workload(10, 0.3, hours=1.0, amd_false_positive=0.02)
    result = DialerSim(w, 4).run(policy)
    ledger = policy.ledger.tally(policy.epoch0 + 3000.0)
    assert ledger.live == result.connected + result.abandoned
    assert ledger.abandoned == result.abandoned
    assert ledger.machines == result.machines
    # The pacer's threshold learns only from calls placed at risk.
    assert policy.pacer.live_calls < result.connected + result.abandoned
    assert policy.decisions > 0


def test_shifts_are_consecutive_days_at_nine_local() -> None:
    assert shift_start(UK, 1) - shift_start(UK, 0) == 86400.0
    assert shift_start(UK, 0) == 1796115600.0  # 2026-12-01 09:00 GMT
    assert shift_start(US, 0) - shift_start(UK, 0) == 5 * 3600.0
