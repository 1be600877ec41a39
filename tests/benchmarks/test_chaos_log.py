"""The chaos benchmark's pure part (benchmarks/chaos_log.py) on small hand-written logs: the
Asterisk restart's cut-off callers, when routing resumed, lost callers near a fault, the
records' check and the actions a controller sent (not timed)."""

from __future__ import annotations

import pytest

from benchmarks.chaos_log import (
    Action,
    action_names,
    check_records,
    close_at,
    first_leg_after,
    lost_after_any,
    lost_between,
    sent_between,
)
from benchmarks.load_log import read_phase
from tests.benchmarks.test_load_log import AGENTS, ev, served


def test_a_restart_cuts_off_the_callers_up_and_ends_channels_whose_hangup_was_never_seen() -> None:
    log = served("c1", "l1", 1, 100.0)  # over before the restart
    log += [
        ev(104.0, "Newchannel", "c2", "PJSIP/trunk-c2"),  # waiting, hung up by the restart
        ev(104.5, "Newchannel", "c3", "PJSIP/trunk-c3"),  # talking; its Hangup was lost
        ev(104.6, "Newchannel", "l3", "PJSIP/agent2-l3"),
        ev(105.0, "Hangup", "c2", "PJSIP/trunk-c2"),
        ev(107.0, "Newchannel", "c4", "PJSIP/trunk-c4"),  # after it
    ]
    phase = read_phase(log, AGENTS)
    assert phase.lost() == ["c2"]  # an agent was free when it hung up
    cut = close_at(phase, 105.0)
    assert cut == {"c2", "c3"}
    assert phase.caller_ended["c3"] == 105.0 and phase.caller_ended["c2"] == 105.0
    assert phase.stuck() == []  # l3 ended with the old Asterisk
    assert "c4" not in phase.caller_ended


def test_routing_resumes_at_the_first_agent_leg_after_the_fault() -> None:
    phase = read_phase(served("c1", "l1", 1, 100.0) + served("c2", "l2", 2, 103.5), AGENTS)
    assert first_leg_after(phase, 101.0) == pytest.approx(2.502)
    assert first_leg_after(phase, 200.0) is None


def test_lost_callers_are_counted_by_when_they_hung_up() -> None:
    log = [
        ev(100.0, "Newchannel", "c1", "PJSIP/trunk-c1"),
        ev(103.0, "Hangup", "c1", "PJSIP/trunk-c1"),
        ev(110.0, "Newchannel", "c2", "PJSIP/trunk-c2"),
        ev(130.0, "Hangup", "c2", "PJSIP/trunk-c2"),
    ]
    phase = read_phase(log, AGENTS)
    lost = phase.lost()
    assert sorted(lost) == ["c1", "c2"]
    assert lost_between(phase, lost, 101.0, 116.0) == 1
    assert lost_between(phase, lost, 90.0, 200.0) == 2
    # two faults a second apart, one caller after both: counted once
    assert lost_after_any(phase, lost, [101.0, 102.0], 15.0) == 1
    assert lost_after_any(phase, lost, [101.0, 120.0], 15.0) == 2


def test_records_missing_and_duplicated() -> None:
    checked = check_records(["c1", "c2", "c3"], {"c1": 1, "c3": 2, "other": 5})
    assert checked.missing == ["c2"]
    assert checked.duplicated == {"c3": 2}


def test_the_actions_one_controller_sent_in_a_window() -> None:
    actions = [Action(1.0, "a", "Originate"), Action(2.0, "b", "Ping"), Action(3.0, "a", "Ping")]
    assert sent_between(actions, "a", 1.5, 4.0) == ["Ping"]
    assert sent_between(actions, "a", 0.0, 1.0) == []
    assert sent_between(actions, "b", 0.0, 9.0) == ["Ping"]


def test_action_names_are_read_from_whole_actions_in_any_split() -> None:
    wire = b"Action: Login\r\nUsername: x\r\n\r\nActionID: 7\r\naction: Ping\r\n\r\nAction: Orig"
    names, rest = action_names(wire[:20])
    assert (names, rest) == ([], wire[:20])
    names, rest = action_names(wire)
    assert names == ["Login", "Ping"] and rest == b"Action: Orig"
    assert action_names(rest + b"inate\r\n\r\n") == (["Originate"], b"")
