"""The load benchmark's pure part (benchmarks/load_log.py): percentiles and the accounting
read from an AMI event log, on small hand-written logs (not timed)."""

from __future__ import annotations

import pytest

from benchmarks.load_log import account, percentile, read_phase

AGENTS = ["PJSIP/agent1", "PJSIP/agent2"]


def ev(t: float, name: str, uid: str = "", channel: str = "", **more: str) -> dict[str, str]:
    return {"Event": name, "Timestamp": f"{t:.6f}", "Uniqueid": uid, "Channel": channel, **more}


def served(caller: str, leg: str, agent: int, t: float) -> list[dict[str, str]]:
    """A ccgateway caller: ready at t, leg created t+2 ms, both bridged at t+6 ms, ended."""
    trunk, phone = f"PJSIP/trunk-{caller}", f"PJSIP/agent{agent}-{leg}"
    return [
        ev(t - 0.01, "Newchannel", caller, trunk),
        ev(t - 0.005, "BridgeEnter", caller, trunk, BridgeUniqueid="hold"),
        ev(t, "UserEvent", caller, trunk, UserEvent="CCGWWaiting"),
        ev(t + 0.002, "Newchannel", leg, phone),
        ev(t + 0.0021, "VarSet", leg, phone, Variable="CCGW_CALLER", Value=caller),
        ev(t + 0.005, "BridgeLeave", caller, trunk, BridgeUniqueid="hold"),
        ev(t + 0.005, "BridgeEnter", leg, phone, BridgeUniqueid=f"b-{caller}"),
        ev(t + 0.006, "BridgeEnter", caller, trunk, BridgeUniqueid=f"b-{caller}"),
        ev(t + 1, "Hangup", caller, trunk),
        ev(t + 1.001, "Hangup", leg, phone),
    ]


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([5.0], 99, 5.0), ([1, 2, 3, 4], 50, 2.5), ([4, 1, 3, 2], 0, 1), (list(range(101)), 90, 90)],
)
def test_percentile_interpolates_between_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_times_from_ready_and_a_clean_account() -> None:
    phase = read_phase(served("c1", "l1", 1, 100.0) + served("c2", "l2", 2, 200.0), AGENTS)
    assert phase.created_ms() == pytest.approx([2.0, 2.0])
    assert phase.bridged_ms() == pytest.approx([6.0, 6.0])  # the later of the two entries
    accounting = account(phase, placed=2, records=2)
    assert (accounting.seen, accounting.bridged) == (2, 2)
    assert (accounting.lost, accounting.doubled, accounting.stuck) == (0, 0, 0)
    assert accounting.agrees


def test_app_queue_ready_is_the_queue_join_and_its_legs_are_named_by_agent_called() -> None:
    trunk, phone = "PJSIP/trunk-appqueue-1", "PJSIP/agent2-9"
    log = [
        ev(10.0, "Newchannel", "c", trunk),
        ev(10.001, "QueueCallerJoin", "c", trunk),
        ev(10.0015, "Newchannel", "l", phone),
        ev(10.0016, "AgentCalled", "c", trunk, DestUniqueid="l"),
        ev(10.004, "BridgeEnter", "c", trunk, BridgeUniqueid="b"),
        ev(10.005, "BridgeEnter", "l", phone, BridgeUniqueid="b"),
    ]
    phase = read_phase(log, AGENTS)
    assert phase.created_ms() == pytest.approx([0.5])
    assert phase.bridged_ms() == pytest.approx([4.0])
    assert phase.stuck() == ["l"]  # never hung up in this log
    assert not account(phase, placed=1, records=None).agrees


def test_two_legs_alive_at_once_for_one_caller_is_doubled() -> None:
    log = served("c1", "l1", 1, 100.0)
    log.insert(4, ev(100.003, "Newchannel", "l9", "PJSIP/agent2-l9"))
    log.insert(
        5, ev(100.0031, "VarSet", "l9", "PJSIP/agent2-l9", Variable="CCGW_CALLER", Value="c1")
    )
    log.append(ev(100.5, "Hangup", "l9", "PJSIP/agent2-l9"))
    phase = read_phase(log, AGENTS)
    assert phase.doubled() == ["c1"]
    assert account(phase, placed=1, records=1).doubled == 1


def test_a_leg_rung_after_the_first_one_ended_is_not_doubled() -> None:
    log = [
        ev(1.0, "Newchannel", "c", "PJSIP/trunk-1"),
        ev(1.1, "UserEvent", "c", "PJSIP/trunk-1", UserEvent="CCGWWaiting"),
        ev(1.2, "Newchannel", "l1", "PJSIP/agent1-1"),
        ev(1.21, "VarSet", "l1", "PJSIP/agent1-1", Variable="CCGW_CALLER", Value="c"),
        ev(16.2, "Hangup", "l1", "PJSIP/agent1-1"),  # no answer: rung out
        ev(16.3, "Newchannel", "l2", "PJSIP/agent2-1"),
        ev(16.31, "VarSet", "l2", "PJSIP/agent2-1", Variable="CCGW_CALLER", Value="c"),
        ev(16.4, "Hangup", "l2", "PJSIP/agent2-1"),
        ev(16.5, "Hangup", "c", "PJSIP/trunk-1"),
    ]
    phase = read_phase(log, AGENTS)
    assert phase.doubled() == []
    assert phase.lost() == ["c"]  # ended unserved while both agents' devices were free


def test_a_caller_who_left_while_every_agent_was_busy_is_not_lost() -> None:
    log = served("c1", "l1", 1, 100.0)[:-2] + served("c2", "l2", 2, 100.1)[:-2]
    log += [
        ev(100.5, "Newchannel", "c3", "PJSIP/trunk-c3"),
        ev(100.6, "UserEvent", "c3", "PJSIP/trunk-c3", UserEvent="CCGWWaiting"),
        ev(100.9, "Hangup", "c3", "PJSIP/trunk-c3"),
    ]
    phase = read_phase(log, AGENTS)
    assert phase.lost() == []
    accounting = account(phase, placed=3, records=3)
    assert (accounting.seen, accounting.bridged, accounting.stuck) == (3, 2, 2)


def test_counts_that_disagree_are_not_ok() -> None:
    phase = read_phase(served("c1", "l1", 1, 100.0), AGENTS)
    assert not account(phase, placed=2, records=1).agrees  # sipp placed one Asterisk never saw
    assert not account(phase, placed=1, records=0).agrees  # a call with no record
