"""Blind and attended transfers, and three-way conferences, as the centre sees them."""

from __future__ import annotations

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.commands import (
    CancelConsult,
    Command,
    CompleteConsult,
    Conference,
    HangUp,
    Interaction,
    Outcome,
    RecordInteraction,
    ReturnToQueue,
    RingConsult,
    StartConsult,
    TransferOut,
)
from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
)
from ccgateway.domain.model import Queue
from ccgateway.domain.transfers import TargetKind, TransferTarget
from tests.domain.builders import agent, centre, login, offered

QUEUE = TransferTarget(TargetKind.QUEUE, "billing")


def to_agent(agent_id: str) -> TransferTarget:
    return TransferTarget(TargetKind.AGENT, agent_id)


def records(out: list[Command]) -> list[Interaction]:
    return [c.interaction for c in out if isinstance(c, RecordInteraction)]


def of(kind: type, out: list[Command]) -> list[Command]:
    return [c for c in out if isinstance(c, kind)]


def talking() -> Center:
    """ann talks to caller c1 (support); bob and cat are free; billing needs billing."""
    support = Queue("support", "support", "200", wrapup_s=5)
    billing = Queue("billing", "billing", "201", {"billing": 5}, wrapup_s=5)
    c = centre(
        agent("ann", {}),
        agent("bob", {"billing": 7}),
        agent("cat", {"billing": 9}),
        queues=(support, billing),
    )
    login(c, "ann", at=0.0)
    c.handle(CallWaiting("c1", "200", "+4930111"), 10.0)
    c.handle(AgentLegAnswered(c.calls["c1"].leg_id or ""), 12.0)
    login(c, "bob", "cat", at=13.0)
    return c


def test_a_blind_transfer_to_a_queue_keeps_the_caller_s_place() -> None:
    c = talking()
    c.set_agent_state("bob", AgentState.PAUSED, "break", 14.0)
    c.set_agent_state("cat", AgentState.PAUSED, "break", 14.0)
    c.handle(CallWaiting("later", "201"), 20.0)  # arrived after c1, before the transfer
    out = c.transfer("c1", QUEUE, False, 60.0)
    assert of(ReturnToQueue, out) == [ReturnToQueue("c1", "201", "leg-1")]
    [part] = records(out)
    assert (part.agent_id, part.outcome, part.talk_s, part.detail) == (
        "ann",
        Outcome.TRANSFERRED,
        48.0,
        "to queue billing",
    )
    assert c.status["ann"].state is AgentState.WRAP_UP
    call = c.calls["c1"]
    assert (call.state, call.queue_id, call.agent_id) == (CallState.WAITING, "billing", None)
    # cat comes back: c1 arrived first (at 10 s), so it goes before the later caller.
    assert offered(c.set_agent_state("cat", AgentState.AVAILABLE, None, 70.0)) == [("c1", "cat")]
    c.handle(AgentLegAnswered(c.calls["c1"].leg_id or ""), 72.0)
    [second] = records(c.handle(ChannelHungUp("c1"), 100.0))
    assert (second.agent_id, second.wait_s, second.talk_s) == ("cat", 12.0, 28.0)


def test_a_blind_transfer_to_an_agent_rings_that_agent_and_only_a_free_one() -> None:
    c = talking()
    with pytest.raises(Conflict, match="not free"):
        c.transfer("c1", to_agent("ann"), False, 20.0)  # busy with the call itself
    out = c.transfer("c1", to_agent("bob"), False, 20.0)
    assert offered(out) == [("c1", "bob")]  # cat has been idle longer, but bob was named
    assert c.decisions[-1].rule == "queue support: transferred to bob"


def test_a_blind_transfer_to_a_number_lets_the_call_leave_the_centre() -> None:
    c = talking()
    out = c.transfer("c1", TransferTarget(TargetKind.NUMBER, "+4940123456"), False, 30.0)
    assert of(TransferOut, out) == [TransferOut("c1", "+4940123456", "leg-1")]
    assert [r.detail for r in records(out)] == ["to number +4940123456"]
    assert c.calls == {} and c.status["ann"].state is AgentState.WRAP_UP
    with pytest.raises(InvalidValue, match="digits"):
        TransferTarget(TargetKind.NUMBER, "+49 40\r\n")


def consulting(target: TransferTarget = QUEUE) -> tuple[Center, str]:
    c = talking()
    out = c.transfer("c1", target, True, 20.0)
    [start] = of(StartConsult, out)
    [ring] = of(RingConsult, out)
    assert isinstance(start, StartConsult) and isinstance(ring, RingConsult)
    assert start.agent_leg_id == ring.agent_leg_id == c.calls["c1"].leg_id
    return c, ring.leg_id


def test_an_attended_transfer_to_a_queue_consults_whom_its_strategy_picks_then_completes() -> None:
    c, leg = consulting()
    assert c.status["bob"].state is AgentState.RESERVED  # idle longer than cat
    c.handle(AgentLegAnswered(leg), 25.0)
    assert c.status["bob"].state is AgentState.ON_CALL
    with pytest.raises(Conflict, match="consult"):
        c.transfer("c1", QUEUE, False, 26.0)
    first_leg = c.calls["c1"].leg_id or ""
    out = c.finish_transfer("c1", "complete", 40.0)
    assert of(CompleteConsult, out) == [CompleteConsult("c1", first_leg, leg)]
    assert [(r.agent_id, r.outcome) for r in records(out)] == [("ann", Outcome.TRANSFERRED)]
    call = c.calls["c1"]
    assert (call.agent_id, call.leg_id, call.state) == ("bob", leg, CallState.CONNECTED)
    assert c.status["ann"].state is AgentState.WRAP_UP
    c.handle(ChannelHungUp(first_leg), 40.5)  # the PBX ends ann's leg: nothing more happens
    assert c.calls["c1"].agent_id == "bob"
    [last] = records(c.handle(ChannelHungUp("c1"), 100.0))
    assert (last.agent_id, last.talk_s) == ("bob", 60.0)


def test_a_cancelled_consult_brings_the_agent_back_to_the_caller() -> None:
    c, leg = consulting(to_agent("bob"))
    c.handle(AgentLegAnswered(leg), 25.0)
    out = c.finish_transfer("c1", "cancel", 30.0)
    assert of(CancelConsult, out) == [CancelConsult("c1", c.calls["c1"].leg_id or "", leg)]
    assert c.calls["c1"].agent_id == "ann" and c.calls["c1"].consult is None
    assert c.status["bob"].state is AgentState.WRAP_UP  # he talked: his wrap-up follows


def test_an_unanswered_consult_makes_that_agent_not_ready_and_the_caller_stays_with_ann() -> None:
    c, leg = consulting(to_agent("bob"))
    out = c.handle(AgentLegFailed(leg, LegFailure.NO_ANSWER), 50.0)
    assert of(CancelConsult, out)
    assert c.status["bob"].state is AgentState.PAUSED
    assert c.calls["c1"].agent_id == "ann" and records(out) == []


def test_the_agent_hanging_up_during_a_consult_completes_it() -> None:
    c, leg = consulting(to_agent("bob"))
    c.handle(AgentLegAnswered(leg), 25.0)
    out = c.handle(ChannelHungUp(c.calls["c1"].leg_id or ""), 30.0)
    assert [r.agent_id for r in records(out)] == ["ann"] and not of(HangUp, out)
    assert c.calls["c1"].agent_id == "bob"


def test_a_conference_goes_on_when_an_agent_leaves_and_ends_with_the_caller() -> None:
    c, leg = consulting(to_agent("bob"))
    c.handle(AgentLegAnswered(leg), 25.0)
    ann_leg = c.calls["c1"].leg_id or ""
    out = c.finish_transfer("c1", "conference", 30.0)
    assert of(Conference, out) == [Conference("c1", (ann_leg, leg), "200")]
    out = c.handle(ChannelHungUp(ann_leg), 60.0)  # ann leaves: bob and the caller go on
    assert [(r.agent_id, r.talk_s) for r in records(out)] == [("ann", 48.0)]
    assert c.calls["c1"].agent_id == "bob" and c.status["ann"].state is AgentState.WRAP_UP
    [last] = records(c.handle(ChannelHungUp("c1"), 90.0))
    assert (last.agent_id, last.talk_s) == ("bob", 30.0)
    assert c.status["bob"].state is AgentState.WRAP_UP


def test_the_caller_leaving_a_conference_lets_both_agents_go_and_forgets_their_legs() -> None:
    c, leg = consulting(to_agent("bob"))
    c.handle(AgentLegAnswered(leg), 25.0)
    ann_leg = c.calls["c1"].leg_id or ""
    c.finish_transfer("c1", "conference", 30.0)
    out = c.handle(ChannelHungUp("c1"), 60.0)
    assert HangUp(leg, "the caller hung up") in out
    assert c.status["ann"].state is c.status["bob"].state is AgentState.WRAP_UP
    assert c.desk.legs == {} and c.desk.consult_legs == {}, "no leg of an ended call is kept"
    assert c.handle(ChannelHungUp(leg), 61.0) == [] and c.handle(ChannelHungUp(ann_leg), 61.0) == []


def test_the_caller_hanging_up_during_a_consult_lets_the_consulted_agent_go() -> None:
    c, leg = consulting(to_agent("bob"))
    out = c.handle(ChannelHungUp("c1"), 22.0)
    assert HangUp(leg, "the caller hung up") in out
    assert c.status["bob"].state is AgentState.AVAILABLE  # never answered: not his fault
    assert c.status["ann"].state is AgentState.WRAP_UP


def test_a_consult_needs_somebody_free() -> None:
    c = talking()
    for who in ("bob", "cat"):
        c.set_agent_state(who, AgentState.PAUSED, "break", 15.0)
    with pytest.raises(Conflict, match="no agent of queue billing is free"):
        c.transfer("c1", QUEUE, True, 20.0)
    with pytest.raises(Conflict, match="no consult"):
        c.finish_transfer("c1", "complete", 21.0)
    with pytest.raises(InvalidValue, match="complete, cancel or conference"):
        c.finish_transfer("c1", "merge", 21.0)
