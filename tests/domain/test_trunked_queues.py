"""Queues whose callers agents of another PBX may take, rung over a trunk (issue 14: "an
agent on PBX A is offered only callers on PBX A unless the PBXs are trunked and the queue
says so"). Both PBXs have a phone called `PJSIP/agent1`: Ann's on the main Asterisk, Eve's
on east, so every check below also shows the right one of the two is meant."""

from __future__ import annotations

from itertools import count

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.commands import CloseGap, Command, DialCallback, RingAgent
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    CallerChannel,
    CallWaiting,
    ChannelHungUp,
    EndMark,
    LegBridged,
    LegEndMark,
    PbxConnectionLost,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.queue_policy import Limits, QueueAction
from ccgateway.domain.transfers import TargetKind, TransferTarget

SHARED = Queue("shared", "Shared", "200", {"de": 5}, trunked_pbxes=("east",))
LOCAL = Queue("local", "Local", "201", {"de": 5})


def rings(commands: list[Command]) -> list[RingAgent]:
    return [c for c in commands if isinstance(c, RingAgent)]


@pytest.fixture
def center() -> Center:
    ids = count(1)
    c = Center(new_leg_id=lambda: f"ccgw-leg-{next(ids)}")
    c.put_skill(Skill("de", "German"))
    c.put_agent(Agent("ann", "Ann", "PJSIP/agent1", {"de": 7}), now=0.0)
    c.put_agent(Agent("eve", "Eve", "PJSIP/agent1", {"de": 9}, pbx="east"), now=0.0)
    c.put_queue(SHARED, 0.0)
    c.put_queue(LOCAL, 0.0)
    c.handle(PbxResynced(), now=0.0)
    c.handle(PbxResynced(), now=0.0, pbx="east")
    return c


def test_a_trunked_queue_rings_the_other_pbx_s_agent_over_the_caller_s_pbx(
    center: Center,
) -> None:
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200", "+4930111"), now=2.0))
    # The leg is made on the caller's PBX and names the agent's, so the adapter takes the
    # trunk; the phone is Eve's, not Ann's of the same name.
    assert (ring.agent_id, ring.pbx, ring.agent_pbx, ring.device) == (
        "eve",
        "asterisk",
        "east",
        "PJSIP/agent1",
    )
    # Everything after the ring happens on the caller's PBX, as for a local agent.
    center.handle(AgentLegAnswered(ring.leg_id), now=4.0)
    center.handle(LegBridged(ring.leg_id), now=4.1)
    assert center.calls["c1"].state is CallState.CONNECTED
    assert center.status["eve"].state is AgentState.ON_CALL
    out = center.handle(ChannelHungUp("c1", 16), now=30.0)
    [record] = [c.interaction for c in out if hasattr(c, "interaction")]
    assert (record.agent_id, record.outcome.value, record.queue_id) == ("eve", "answered", "shared")


def test_without_the_queue_saying_so_the_other_pbx_s_agents_are_never_offered(
    center: Center,
) -> None:
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    assert rings(center.handle(CallWaiting("c1", "201"), now=2.0)) == []
    assert center.calls["c1"].state is CallState.WAITING
    # Nor is Ann offered east's callers by east's queue, which names no trunk.
    center.set_agent_state("eve", AgentState.PAUSED, "lunch", now=3.0)
    center.put_queue(Queue("east-q", "East", "300", {"de": 5}, pbx="east"), 3.0)
    assert rings(center.handle(CallWaiting("e1", "300"), now=4.0, pbx="east")) == []
    # Ann, once free, takes the main Asterisk's caller; east's still waits.
    [ring] = rings(center.set_agent_state("ann", AgentState.AVAILABLE, None, now=5.0))
    assert (ring.call_id, ring.agent_id, ring.agent_pbx) == ("c1", "ann", "")
    assert center.calls["e1"].state is CallState.WAITING


def test_local_and_trunked_agents_compete_by_the_queue_s_strategy(center: Center) -> None:
    """Longest idle across both PBXs: the trunk is a way to ring, not a rank."""
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    center.set_agent_state("ann", AgentState.AVAILABLE, None, now=2.0)
    [first] = rings(center.handle(CallWaiting("c1", "200"), now=3.0))
    [second] = rings(center.handle(CallWaiting("c2", "200"), now=4.0))
    assert [(r.agent_id, r.agent_pbx) for r in (first, second)] == [("eve", "east"), ("ann", "")]


def test_the_other_pbx_going_away_takes_its_agents_out_of_the_queue(center: Center) -> None:
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    center.handle(PbxConnectionLost(), now=2.0, pbx="east")
    assert rings(center.handle(CallWaiting("c1", "200"), now=3.0)) == []
    [ring] = rings(center.handle(PbxResynced(), now=4.0, pbx="east"))
    assert (ring.call_id, ring.agent_id) == ("c1", "eve")


def test_a_trunked_agent_staffs_the_queue(center: Center) -> None:
    """The queue's "no agents" action counts the agents of the PBXs it reaches."""
    guarded = Queue(
        "guarded",
        "Guarded",
        "202",
        {"de": 5},
        limits=Limits(on_no_agents=QueueAction("fallback")),
        trunked_pbxes=("east",),
    )
    center.put_queue(guarded, 0.0)
    center.set_agent_state("eve", AgentState.PAUSED, "lunch", now=1.0)
    center.handle(CallWaiting("c1", "202"), now=2.0)
    assert center.calls["c1"].state is CallState.WAITING
    center.set_agent_state("eve", AgentState.LOGGED_OUT, None, now=3.0)
    center.handle(CallWaiting("c2", "202"), now=4.0)
    assert "c2" not in center.calls  # sent on: nobody who could serve it is logged in


def test_a_callback_in_a_trunked_queue_waits_for_an_agent_of_its_own_pbx(
    center: Center,
) -> None:
    """A callback's agent leg dials the customer from the agent's phone, which only the
    queue's own PBX can ring: the trunk is for callers who rang in (so is a campaign's live
    call kept on its PBX: `CallDesk.enqueue`)."""
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    callback, out = center.create_callback("shared", "+4930555777", "Cy", None, None, now=2.0)
    assert not [c for c in out if isinstance(c, DialCallback)]
    [dial] = [
        c
        for c in center.set_agent_state("ann", AgentState.AVAILABLE, None, now=3.0)
        if isinstance(c, DialCallback)
    ]
    assert (dial.callback_id, dial.agent_id) == (callback.id, "ann")


def test_only_an_item_filed_trunked_reaches_the_queue_s_trunked_agents(center: Center) -> None:
    engine = center.floor.engine
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    engine.add_call("local-item", "shared", 0, 1.0, 1.0)
    assert engine.next_match(2.0) is None
    engine.add_call("rang-in", "shared", 0, 1.5, 1.5, trunked=True)
    match = engine.next_match(2.0)
    assert match is not None and (match.call_id, match.agent_id) == ("rang-in", "eve")


def test_the_dialer_and_a_consult_pick_only_the_queue_s_own_agents(center: Center) -> None:
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=1.0)
    engine = center.floor.engine
    assert engine.free_agents(SHARED) == []
    assert engine.members(SHARED) == {"ann"}
    assert engine.best_agent("shared", now=2.0) is None


def test_after_a_restart_a_trunked_conversation_is_adopted_with_its_agent(
    center: Center,
) -> None:
    """The leg's channel on the caller's PBX is the trunk's; the PBX's picture says whose
    phone it rang (the leg's account code) and the agent is the one on that PBX."""
    leg = AgentChannel(
        "ccgw-old", "PJSIP/agent1", "c9", answered=True, age_s=20.0, bridged=True,
        device_pbx="east",
    )  # fmt: skip
    snapshot = PbxResynced(callers=(CallerChannel("c9", "200", 40.0),), agent_legs=(leg,))
    center.handle(snapshot, now=100.0)
    assert (center.calls["c9"].agent_id, center.status["eve"].state) == (
        "eve",
        AgentState.ON_CALL,
    )
    assert center.status["ann"].state is AgentState.LOGGED_OUT


def test_a_trunked_call_that_ended_unseen_is_recorded_with_its_agent(center: Center) -> None:
    mark = EndMark("c7", "200", "+4930777", 1000.0, 1060.0, agent_leg="ccgw-gone")
    leg = LegEndMark("ccgw-gone", "c7", "PJSIP/agent1", 1010.0, 1060.0, device_pbx="east")
    out = center.handle(PbxResynced(ended=(mark,), ended_legs=(leg,)), now=2000.0)
    [gap] = [c for c in out if isinstance(c, CloseGap)]
    assert [r.agent_id for r in gap.records] == ["eve"]


def test_a_blind_transfer_to_a_named_agent_may_cross_the_queue_s_trunk(center: Center) -> None:
    """Rung as the queue's callers are; a consult's leg is never rung over a trunk."""
    center.set_agent_state("ann", AgentState.AVAILABLE, None, now=1.0)
    [ring] = rings(center.handle(CallWaiting("c1", "200"), now=2.0))
    center.handle(AgentLegAnswered(ring.leg_id), now=3.0)
    center.handle(LegBridged(ring.leg_id), now=3.1)
    center.set_agent_state("eve", AgentState.AVAILABLE, None, now=4.0)
    with pytest.raises(InvalidValue, match="agent eve is on east, the call on asterisk"):
        center.transfer("c1", TransferTarget(TargetKind.AGENT, "eve"), True, now=5.0)
    [to_eve] = rings(center.transfer("c1", TransferTarget(TargetKind.AGENT, "eve"), False, now=5.0))
    assert (to_eve.call_id, to_eve.agent_id, to_eve.agent_pbx) == ("c1", "eve", "east")
    # From a queue that shares nothing with east, refused.
    center.set_agent_state("ann", AgentState.AVAILABLE, None, now=20.0)
    [local] = rings(center.handle(CallWaiting("c2", "201"), now=21.0))
    center.handle(AgentLegAnswered(local.leg_id), now=22.0)
    center.handle(LegBridged(local.leg_id), now=22.1)
    center.handle(ChannelHungUp(to_eve.leg_id, 16), now=22.5)  # Eve's ring ends: free again
    with pytest.raises(InvalidValue, match="agent eve is on east, the call on asterisk"):
        center.transfer("c2", TransferTarget(TargetKind.AGENT, "eve"), False, now=23.0)


@pytest.mark.parametrize(
    ("trunked", "why"),
    [
        (("asterisk",), "other PBXs than the queue's own"),
        (("east", "east"), "each once"),
        (("East!",), "pbx"),
        (tuple(f"p{i}" for i in range(17)), "at most 16"),
    ],
)
def test_a_queue_s_trunked_pbxes_are_checked(trunked: tuple[str, ...], why: str) -> None:
    with pytest.raises(InvalidValue, match=why):
        Queue("q", "Q", "200", trunked_pbxes=trunked)
