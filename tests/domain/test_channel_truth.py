"""The centre follows each caller's real channel (issue 14, "One PBX, one brain").

A caller someone else takes out of our dialplan ends its wait as REDIRECTED; an agent's
answer the PBX could not bridge is no conversation; callers the PBX cut off (its restart,
seen at the reconnect, or its shutdown's hang-ups) are CUT_OFF; none of them is an abandon.
An adopted call keeps the PBX's sub-second times.
"""

from __future__ import annotations

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.calls import BRIDGE_EVENTS
from ccgateway.domain.center import Center
from ccgateway.domain.commands import (
    Command,
    HangUp,
    Interaction,
    Outcome,
    RecordInteraction,
    RingAgent,
)
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    BridgeFailed,
    CallerChannel,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    LegBridged,
    PbxConnectionLost,
    PbxResynced,
)
from ccgateway.domain.figures import FigureRules, QueueTally, add_to_queue, queue_figures
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.model import Agent, Queue, Skill


@pytest.fixture
def center() -> Center:
    c = Center(new_leg_id=iter(f"ccgw-leg-{i}" for i in range(1, 100)).__next__)
    c.put_skill(Skill("de", "German"))
    c.put_agent(Agent("bob", "Bob", "PJSIP/agent2", {"de": 5}), now=0.0)
    c.put_queue(Queue("german", "German", "200", {"de": 5}, wrapup_s=10), now=0.0)
    c.handle(PbxResynced(), now=0.0)
    return c


def rings(out: list[Command]) -> list[RingAgent]:
    return [c for c in out if isinstance(c, RingAgent)]


def records(out: list[Command]) -> list[Interaction]:
    return [c.interaction for c in out if isinstance(c, RecordInteraction)]


def test_a_waiting_caller_moved_elsewhere_ends_as_redirected_and_nobody_is_rung(
    center: Center,
) -> None:
    center.set_agent_state("bob", AgentState.PAUSED, "break", now=1.0)
    center.handle(CallWaiting("c1", "200", "+4930111"), now=10.0)
    out = center.handle(CallerLeft("c1", "other-tool", "200"), now=12.5)
    [record] = records(out)
    assert (record.outcome, record.answered_at, record.wait_s) == (Outcome.REDIRECTED, None, 2.5)
    assert "other-tool" in record.detail
    assert not [c for c in out if isinstance(c, HangUp)]  # the caller is left where it is
    assert rings(center.set_agent_state("bob", AgentState.AVAILABLE, None, now=13.0)) == []
    assert center.calls == {}


def test_a_caller_moved_while_ringing_frees_the_agent_and_hangs_up_only_the_leg(
    center: Center,
) -> None:
    center.set_agent_state("bob", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    out = center.handle(CallerLeft("c1", "other-tool"), now=11.0)
    assert [c.channel_id for c in out if isinstance(c, HangUp)] == [ring.leg_id]
    assert [r.outcome for r in records(out)] == [Outcome.REDIRECTED]
    assert center.status["bob"].state is AgentState.AVAILABLE
    # The leg's end, when the PBX reports it, changes nothing.
    assert records(center.handle(ChannelHungUp(ring.leg_id), now=11.2)) == []
    assert center.status["bob"].state is AgentState.AVAILABLE


def test_a_caller_left_unknown_to_the_centre_means_nothing(center: Center) -> None:
    assert center.handle(CallerLeft("someone-else", "from-pstn"), now=5.0) == []


def test_an_answer_the_pbx_could_not_bridge_is_no_conversation(center: Center) -> None:
    center.set_agent_state("bob", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    out = center.handle(BridgeFailed(ring.leg_id, "NONEXISTENT"), now=11.01)
    [record] = records(out)
    assert (record.outcome, record.agent_id, record.answered_at, record.talk_s) == (
        Outcome.ABANDONED,
        None,
        None,
        0.0,
    )
    status = center.status["bob"]
    assert (status.state, status.calls_answered) == (AgentState.AVAILABLE, 0)  # no wrap-up
    assert records(center.handle(ChannelHungUp(ring.leg_id), now=11.02)) == []
    assert records(center.handle(ChannelHungUp("c1"), now=11.03)) == []  # recorded once
    # A second caller is offered to bob once, as any caller: no loop of rings.
    assert len(rings(center.handle(CallWaiting("c2", "200"), now=12.0))) == 1


def test_a_bridge_that_failed_for_a_caller_still_there_is_redirected(center: Center) -> None:
    center.set_agent_state("bob", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    out = center.handle(BridgeFailed(ring.leg_id, "FAILURE"), now=11.5)
    assert [r.outcome for r in records(out)] == [Outcome.REDIRECTED]
    assert rings(out) == []  # not back in line: the agent is not rung for it again


def test_a_caller_who_hung_up_as_the_agent_answered_abandoned_before_the_failure_is_told(
    reporting_bridges: Center,
) -> None:
    """The dialplan tells a FAILURE (the caller was leaving its hold) after the caller's own
    events: the caller's hang-up ends the call as abandoned, and the failure changes nothing
    (the chaos run's one "redirected" caller was this race, told the other way round)."""
    center = reporting_bridges
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    out = center.handle(ChannelHungUp("c1"), now=11.01)
    assert [r.outcome for r in records(out)] == [Outcome.ABANDONED]
    assert [c.channel_id for c in out if isinstance(c, HangUp)] == [ring.leg_id]
    assert center.handle(BridgeFailed(ring.leg_id, ""), now=11.3) == []
    status = center.status["bob"]
    assert (status.state, status.calls_answered) == (AgentState.AVAILABLE, 0)


def test_a_caller_the_pbx_shutdown_hung_up_is_cut_off_not_abandoned(center: Center) -> None:
    center.set_agent_state("bob", AgentState.PAUSED, "break", now=1.0)
    center.handle(CallWaiting("c1", "200"), now=10.0)
    [record] = records(center.handle(ChannelHungUp("c1", 0, pbx_down=True), now=30.0))
    assert record.outcome is Outcome.CUT_OFF


def test_calls_gone_after_a_pbx_restart_are_cut_off_and_a_link_drop_is_not(
    center: Center,
) -> None:
    center.set_agent_state("bob", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    center.handle(CallWaiting("c2", "200"), now=12.0)
    center.handle(PbxConnectionLost("eof"), now=13.0)
    out = center.handle(PbxResynced(restarted=True), now=20.0)
    found = {r.call_id: r for r in records(out)}
    assert found["c2"].outcome is Outcome.CUT_OFF
    assert found["c1"].outcome is Outcome.ANSWERED and "cut off" in found["c1"].detail
    center.tick(40.0)
    center.handle(CallWaiting("c3", "200"), now=41.0)
    center.handle(PbxConnectionLost("eof"), now=42.0)
    [lost] = records(center.handle(PbxResynced(), now=43.0))
    assert lost.outcome is Outcome.ABANDONED  # a mere link drop: its caller hung up


def test_cut_off_and_redirected_callers_are_counted_apart_from_every_rate() -> None:
    tally = QueueTally()
    for outcome in (Outcome.CUT_OFF, Outcome.REDIRECTED, Outcome.ABANDONED):
        record = Interaction("c", "q", None, "", outcome, 0.0, None, 60.0, 60.0, 0.0, 0)
        add_to_queue(tally, record, FigureRules(short_abandon_s=5.0))
    figures = queue_figures("q", tally)
    assert (figures.offered, figures.abandoned, figures.abandonment_rate) == (1, 1, 1.0)
    assert (figures.redirected, figures.cut_off) == (1, 1)


def test_an_adopted_call_keeps_the_pbxs_sub_second_times(center: Center) -> None:
    """A restarted controller finds a conversation: the caller waited since 88.25 and the
    agent answered at 95.5 by the PBX's own stamps; the channel ages are whole seconds."""
    snapshot = PbxResynced(
        callers=(CallerChannel("c1", "200", age_s=11.0, since=88.25),),
        agent_legs=(AgentChannel("ccgw-x", "PJSIP/agent2", "c1", True, age_s=4.0, since=95.5),),
    )
    center.handle(snapshot, now=100.0)
    call = center.calls["c1"]
    assert (call.arrived_at, call.answered_at) == (88.25, 95.5)
    [record] = records(center.handle(ChannelHungUp("c1"), now=110.0))
    assert (record.wait_s, record.talk_s) == (7.25, 14.5)


def test_a_stamp_that_cannot_be_right_falls_back_to_the_channels_age(center: Center) -> None:
    future = PbxResynced(callers=(CallerChannel("c1", "200", age_s=3.0, since=150.0),))
    center.handle(future, now=100.0)
    assert center.calls["c1"].arrived_at == 97.0


@pytest.fixture
def reporting_bridges(center: Center) -> Center:
    """The centre on a PBX that reports the bridge of an answered leg (Asterisk)."""
    center.drive_pbx("asterisk", FEATURES | {BRIDGE_EVENTS})
    center.set_agent_state("bob", AgentState.AVAILABLE, None, now=1.0)
    return center


def test_a_caller_gone_between_the_answer_and_the_bridge_had_no_conversation(
    reporting_bridges: Center,
) -> None:
    center = reporting_bridges
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    out = center.handle(ChannelHungUp("c1"), now=11.005)
    [record] = records(out)
    assert (record.outcome, record.answered_at, record.agent_id) == (
        Outcome.ABANDONED,
        None,
        None,
    )
    assert ring.leg_id in [c.channel_id for c in out if isinstance(c, HangUp)]
    status = center.status["bob"]
    assert (status.state, status.calls_answered) == (AgentState.AVAILABLE, 0)
    assert records(center.handle(BridgeFailed(ring.leg_id, "NONEXISTENT"), now=11.01)) == []


def test_once_bridged_a_short_call_is_a_conversation(reporting_bridges: Center) -> None:
    center = reporting_bridges
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    center.handle(LegBridged(ring.leg_id), now=11.004)
    [record] = records(center.handle(ChannelHungUp("c1"), now=11.5))
    assert (record.outcome, record.agent_id, record.talk_s) == (Outcome.ANSWERED, "bob", 0.5)
    assert center.status["bob"].state is AgentState.WRAP_UP


def test_a_caller_moved_away_between_the_answer_and_the_bridge_was_not_talked_to(
    reporting_bridges: Center,
) -> None:
    center = reporting_bridges
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    [record] = records(center.handle(CallerLeft("c1", "other-tool"), now=11.002))
    assert (record.outcome, record.agent_id, record.answered_at) == (
        Outcome.REDIRECTED,
        None,
        None,
    )
    assert center.status["bob"].state is AgentState.AVAILABLE


def test_a_conversation_moved_away_by_another_tool_was_answered(
    reporting_bridges: Center,
) -> None:
    center = reporting_bridges
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=10.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=11.0)
    center.handle(LegBridged(ring.leg_id), now=11.01)
    out = center.handle(CallerLeft("c1", "other-tool"), now=40.0)
    [record] = records(out)
    assert (record.outcome, record.agent_id, record.talk_s) == (Outcome.ANSWERED, "bob", 29.0)
    assert not [c for c in out if isinstance(c, HangUp) and c.channel_id == "c1"]
