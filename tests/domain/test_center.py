"""The centre driven by events as the PBX sends them; commands checked as the PBX gets them."""

from itertools import count

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.commands import (
    Command,
    HangUp,
    Monitor,
    MonitorMode,
    Notify,
    Outcome,
    RecordInteraction,
    RingAgent,
    SendToFallback,
)
from ccgateway.domain.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    CallerChannel,
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    HoldTimedOut,
    LegFailure,
    PbxConnectionLost,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue, Skill


def rings(commands: list[Command]) -> list[RingAgent]:
    return [c for c in commands if isinstance(c, RingAgent)]


def records(commands: list[Command]) -> list[RecordInteraction]:
    return [c for c in commands if isinstance(c, RecordInteraction)]


@pytest.fixture
def center() -> Center:
    ids = count(1)
    c = Center(new_leg_id=lambda: f"leg-{next(ids)}")
    for skill in ("de", "billing"):
        c.put_skill(Skill(skill, skill))
    c.put_agent(Agent("ann", "Ann", "PJSIP/agent1", {"de": 7}), now=0.0)
    c.put_agent(Agent("bob", "Bob", "PJSIP/agent2", {"de": 5, "billing": 4}), now=0.0)
    c.put_agent(Agent("cat", "Cat", "PJSIP/agent3", {"billing": 9}), now=0.0)
    c.put_queue(Queue("german", "German", "200", {"de": 5}, ring_timeout_s=15, wrapup_s=10), 0.0)
    c.put_queue(Queue("billing", "Billing", "201", {"billing": 5}), now=0.0)
    c.handle(PbxResynced(), now=0.0)
    c.set_agent_state("ann", AgentState.AVAILABLE, None, now=10.0)
    c.set_agent_state("bob", AgentState.AVAILABLE, None, now=5.0)
    c.set_agent_state("cat", AgentState.AVAILABLE, None, now=1.0)
    return c


def test_a_call_goes_to_the_longest_idle_qualified_agent_and_is_recorded(center: Center) -> None:
    out = center.handle(CallWaiting("c1", "200", "+4930123"), now=100.0)
    [ring] = rings(out)  # cat idles longest but lacks German
    assert (ring.agent_id, ring.device, ring.call_id, ring.timeout_s) == (
        "bob",
        "PJSIP/agent2",
        "c1",
        15,
    )
    assert center.status["bob"].state is AgentState.RESERVED

    center.handle(AgentLegAnswered(ring.leg_id), now=104.0)
    assert center.calls["c1"].state is CallState.CONNECTED
    assert center.status["bob"].state is AgentState.ON_CALL

    out = center.handle(ChannelHungUp("c1", 16), now=164.0)
    [rec] = records(out)
    i = rec.interaction
    assert (i.outcome, i.agent_id, i.queue_id, i.wait_s, i.talk_s) == (
        Outcome.ANSWERED,
        "bob",
        "german",
        4.0,
        60.0,
    )
    assert center.status["bob"].state is AgentState.WRAP_UP
    assert center.next_deadline() == 174.0
    center.tick(now=174.0)
    assert center.status["bob"].state is AgentState.AVAILABLE
    assert center.calls == {}


def test_no_answer_makes_the_agent_not_ready_and_the_call_goes_to_the_next(center: Center) -> None:
    [first] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    out = center.handle(AgentLegFailed(first.leg_id, LegFailure.NO_ANSWER), now=115.0)
    assert center.status["bob"].state is AgentState.PAUSED
    assert center.status["bob"].reason == "not ready: no_answer"
    [second] = rings(out)
    assert second.agent_id == "ann" and second.leg_id != first.leg_id
    assert center.calls["c1"].offers == 2


def test_ring_timeout_without_any_pbx_answer_hangs_up_the_leg_and_moves_on(center: Center) -> None:
    [first] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    assert center.next_deadline() == 120.0  # 15 s ring + 5 s grace
    out = center.tick(now=120.0)
    assert HangUp(first.leg_id, "no answer within the ring timeout") in out
    assert rings(out)[0].agent_id == "ann"
    assert center.status["bob"].state is AgentState.PAUSED


def test_a_failed_agent_call_returns_to_the_head_of_its_queue(center: Center) -> None:
    center.set_agent_state("ann", AgentState.PAUSED, "break", now=50.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(CallWaiting("c2", "200"), now=101.0)
    assert center.waiting == ["c2"]
    center.handle(AgentLegFailed(ring.leg_id, LegFailure.BUSY), now=103.0)
    assert center.waiting == ["c1", "c2"]


def test_caller_who_hangs_up_while_waiting_is_abandoned_with_the_wait(center: Center) -> None:
    for agent in ("ann", "bob"):
        center.set_agent_state(agent, AgentState.PAUSED, None, now=1.0)
    center.handle(CallWaiting("c1", "200", "+4930"), now=100.0)
    [rec] = records(center.handle(ChannelHungUp("c1", 16), now=142.5))
    assert (rec.interaction.outcome, rec.interaction.wait_s, rec.interaction.agent_id) == (
        Outcome.ABANDONED,
        42.5,
        None,
    )


def test_caller_who_hangs_up_while_the_agent_rings_frees_the_agent(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    out = center.handle(ChannelHungUp("c1", 16), now=103.0)
    assert HangUp(ring.leg_id, "the caller left before the agent answered") in out
    assert records(out)[0].interaction.outcome is Outcome.ABANDONED
    assert center.status["bob"].state is AgentState.AVAILABLE
    assert center.status["bob"].idle_since == 5.0  # a withdrawn offer keeps their place
    assert center.handle(AgentLegAnswered(ring.leg_id), now=104.0) == [
        HangUp(ring.leg_id, "answered a call that is no longer waiting")
    ]


def test_agent_hangs_up_first_ends_the_call_once(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=101.0)
    out = center.handle(ChannelHungUp(ring.leg_id, 16), now=130.0)
    assert len(records(out)) == 1 and HangUp("c1", "agent hung up") in out
    assert records(center.handle(ChannelHungUp("c1", 16), now=130.1)) == []


def test_unknown_extension_goes_to_the_fallback_and_is_recorded(center: Center) -> None:
    out = center.handle(CallWaiting("c9", "999"), now=1.0)
    assert SendToFallback("c9", "no queue has extension 999") in out
    assert records(out)[0].interaction.outcome is Outcome.REJECTED


def test_hold_timeout_is_recorded_as_timed_out(center: Center) -> None:
    for agent in ("ann", "bob"):
        center.set_agent_state(agent, AgentState.LOGGED_OUT, None, now=1.0)
    center.handle(CallWaiting("c1", "200"), now=100.0)
    [rec] = records(center.handle(HoldTimedOut("c1"), now=1000.0))
    assert rec.interaction.outcome is Outcome.TIMED_OUT
    assert records(center.handle(ChannelHungUp("c1"), now=1005.0)) == []


def test_unreachable_devices_are_not_offered(center: Center) -> None:
    center.handle(DeviceStateChanged("PJSIP/agent2", DeviceState.UNAVAILABLE), now=50.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    assert ring.agent_id == "ann"


def test_each_agent_gets_one_offer_at_a_time(center: Center) -> None:
    offered = [
        r.agent_id
        for i in range(5)
        for r in rings(center.handle(CallWaiting(f"c{i}", "200"), now=100.0 + i))
    ]
    assert offered == ["bob", "ann"]
    assert center.waiting == ["c2", "c3", "c4"]


def test_no_offers_while_the_pbx_link_is_down(center: Center) -> None:
    center.handle(PbxConnectionLost("eof"), now=50.0)
    assert rings(center.handle(CallWaiting("c1", "200"), now=100.0)) == []
    out = center.handle(PbxResynced(callers=(CallerChannel("c1", "200", 5.0),)), now=105.0)
    assert rings(out)[0].call_id == "c1"


def test_agent_requests_are_checked(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=101.0)
    with pytest.raises(InvalidTransition):
        center.set_agent_state("bob", AgentState.PAUSED, None, now=102.0)
    with pytest.raises(InvalidValue):
        center.set_agent_state("ann", AgentState.ON_CALL, None, now=102.0)
    with pytest.raises(Conflict):
        center.remove_agent("bob", 102.0)
    with pytest.raises(Conflict):
        center.remove_queue("german")
    with pytest.raises(Conflict):
        center.remove_skill("de")


# --- resync: a reconnect or a controller restart must neither drop nor duplicate a call ----


def test_resync_ends_calls_the_pbx_no_longer_has(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=101.0)
    center.handle(CallWaiting("c2", "201"), now=102.0)
    center.handle(PbxConnectionLost(), now=103.0)
    out = center.handle(PbxResynced(), now=200.0)
    outcomes = sorted(r.interaction.outcome.value for r in records(out))
    assert outcomes == ["abandoned", "answered"]
    assert center.calls == {} and center.status["bob"].state is AgentState.WRAP_UP


def test_restart_adopts_bridged_and_waiting_calls_without_new_offers(center: Center) -> None:
    ids = count(100)
    fresh = Center(new_leg_id=lambda: f"leg-{next(ids)}")
    for skill in center.directory.skills.values():
        fresh.put_skill(skill)
    for agent in center.directory.agents.values():
        fresh.put_agent(agent, now=0.0)
    for queue in center.directory.queues.values():
        fresh.put_queue(queue, now=0.0)
    fresh.set_agent_state("ann", AgentState.AVAILABLE, None, now=0.0)
    fresh.set_agent_state("bob", AgentState.AVAILABLE, None, now=0.0)
    snapshot = PbxResynced(
        callers=(CallerChannel("c1", "200", 60.0, "+491"), CallerChannel("c2", "200", 30.0)),
        agent_legs=(
            AgentChannel("old-leg", "PJSIP/agent2", "c1", answered=True, age_s=40.0),
            AgentChannel("ringing-leg", "PJSIP/agent1", "c2", answered=False, age_s=3),
        ),
    )
    out = fresh.handle(snapshot, now=1000.0)
    assert HangUp("ringing-leg", "agent leg unknown to the controller") in out
    assert fresh.calls["c1"].state is CallState.CONNECTED
    assert fresh.calls["c1"].answered_at == 960.0
    assert fresh.status["bob"].state is AgentState.ON_CALL
    [ring] = rings(out)  # c2 is offered again, to ann: never to bob, who is talking
    assert (ring.call_id, ring.agent_id) == ("c2", "ann")
    assert fresh.calls["c2"].arrived_at == 970.0
    assert fresh.handle(CallWaiting("c2", "200"), now=1001.0) == []  # a late duplicate


def test_resync_after_a_lost_answer_adopts_the_conversation(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(PbxConnectionLost(), now=101.0)
    snapshot = PbxResynced(
        callers=(CallerChannel("c1", "200", 10.0),),
        agent_legs=(AgentChannel(ring.leg_id, "PJSIP/agent2", "c1", answered=True, age_s=5.0),),
    )
    out = center.handle(snapshot, now=110.0)
    assert rings(out) == [] and center.calls["c1"].state is CallState.CONNECTED
    assert center.status["bob"].state is AgentState.ON_CALL


def test_resync_requeues_a_caller_whose_ringing_leg_vanished(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(PbxConnectionLost(), now=101.0)
    out = center.handle(PbxResynced(callers=(CallerChannel("c1", "200", 10.0),)), now=110.0)
    assert center.status["bob"].state is not AgentState.PAUSED  # not the agent's fault
    [again] = rings(out)
    assert again.call_id == "c1" and again.leg_id != ring.leg_id


# --- two PBXs at once ------------------------------------------------------------------------


def test_calls_stay_on_their_pbx_and_a_resync_touches_only_its_own(center: Center) -> None:
    center.put_agent(Agent("fsa", "FS Ann", "user/1001", {"de": 9}, pbx="freeswitch"), now=0.0)
    center.put_queue(Queue("fs-german", "FS German", "200", {"de": 5}, pbx="freeswitch"), 0.0)
    center.set_agent_state("fsa", AgentState.AVAILABLE, None, now=0.5)
    # FreeSWITCH has not shown its picture yet: its call waits, nobody is rung.
    assert rings(center.handle(CallWaiting("f1", "200"), now=1.0, pbx="freeswitch")) == []
    assert center.calls["f1"].queue_id == "fs-german"
    [fs_ring] = rings(
        center.handle(
            PbxResynced(callers=(CallerChannel("f1", "200", 1.0),)), now=2.0, pbx="freeswitch"
        )
    )
    assert (fs_ring.agent_id, fs_ring.pbx) == ("fsa", "freeswitch")
    # Asterisk's extension 200 is another queue, served by Asterisk agents only.
    [ast_ring] = rings(center.handle(CallWaiting("a1", "200"), now=3.0))
    assert (ast_ring.agent_id, ast_ring.pbx) == ("bob", "asterisk")
    out = center.handle(PbxResynced(), now=4.0, pbx="asterisk")  # Asterisk lost its call
    assert [r.interaction.call_id for r in records(out)] == ["a1"]
    assert center.calls["f1"].state is CallState.OFFERING


def test_a_phone_state_is_its_own_pbx_s_even_where_device_names_repeat(center: Center) -> None:
    """Two Asterisks each have a `PJSIP/agent2` of their own (issue 14, several PBXs): east's
    phone going away says nothing about Bob's on the main Asterisk, and east's caller waits
    for east's own agent."""
    center.put_agent(Agent("eve", "Eve", "PJSIP/agent9", {"de": 9}, pbx="east"), now=0.0)
    center.put_queue(Queue("east-german", "East German", "200", {"de": 5}, pbx="east"), 0.0)
    center.handle(PbxResynced(), now=1.0, pbx="east")
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=2.0)
    center.handle(DeviceStateChanged("PJSIP/agent2", DeviceState.UNAVAILABLE), 3.0, pbx="east")
    center.handle(DeviceStateChanged("PJSIP/agent9", DeviceState.UNAVAILABLE), 3.0, pbx="east")
    assert ("asterisk", "PJSIP/agent2") not in center.devices
    [ast_ring] = rings(center.handle(CallWaiting("a1", "200"), now=10.0))
    assert (ast_ring.agent_id, ast_ring.pbx) == ("bob", "asterisk")
    assert rings(center.handle(CallWaiting("e1", "200"), now=11.0, pbx="east")) == []
    # The same name on the main Asterisk is not east's phone: Eve stays unreachable ...
    center.handle(DeviceStateChanged("PJSIP/agent9", DeviceState.AVAILABLE), 12.0)
    assert center.calls["e1"].state is CallState.WAITING
    # ... until east says its phone is back.
    [east_ring] = rings(
        center.handle(DeviceStateChanged("PJSIP/agent9", DeviceState.AVAILABLE), 13.0, pbx="east")
    )
    assert (east_ring.agent_id, east_ring.call_id, east_ring.pbx) == ("eve", "e1", "east")


@pytest.mark.parametrize(
    ("at", "answered_at"),
    [(103.25, 103.25), (None, 104.0), (104.5, 104.0), (99.998, 100.0), (90.0, 104.0), (200, 104.0)],
)
def test_the_answer_is_the_pbx_s_moment_when_it_said_and_the_clocks_agree(
    center: Center, at: float | None, answered_at: float
) -> None:
    """The caller arrived at 100 s, the answer read at 104 s: one the PBX stamped 103.25 s is
    taken as such; a stamp a moment outside that span (the PBX's clock a little off ours)
    is kept within it; none, or one seconds off (clocks apart), is the reading's time."""
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(AgentLegAnswered(ring.leg_id, at), now=104.0)
    assert center.calls["c1"].answered_at == answered_at


@pytest.mark.parametrize(
    ("cause", "reason"),
    [(19, "no_answer"), (17, "busy"), (21, "rejected"), (41, "unreachable"), (99, "error")],
)
def test_an_unanswered_leg_that_hangs_up_says_why_the_agent_is_not_ready(
    center: Center, cause: int, reason: str
) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    center.handle(ChannelHungUp(ring.leg_id, cause), now=105.0)
    assert center.status["bob"].reason == f"not ready: {reason}"


def test_only_a_connected_call_can_be_monitored(center: Center) -> None:
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=100.0))
    with pytest.raises(Conflict, match="offering"):
        center.monitor("c1", "PJSIP/sup1", MonitorMode.LISTEN)
    center.handle(AgentLegAnswered(ring.leg_id), now=101.0)
    assert center.monitor("c1", "PJSIP/sup1", MonitorMode.WHISPER) == [
        Monitor(ring.leg_id, "PJSIP/sup1", MonitorMode.WHISPER),
        Notify(
            "call.monitor",
            {
                "call_id": "c1",
                "agent_id": ring.agent_id,
                "mode": "whisper",
                "supervisor_device": "PJSIP/sup1",
            },
        ),
    ]
    with pytest.raises(InvalidValue):
        center.monitor("c1", "PJSIP/sup1\r\nAction: Hangup", MonitorMode.BARGE)
    with pytest.raises(NotFound):
        center.monitor("nope", "PJSIP/sup1", MonitorMode.LISTEN)
