"""Queued callbacks: a caller keeps their place without holding the line; an agent is
reserved first, then the customer is called, with retries."""

from __future__ import annotations

import dataclasses

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import (
    Command,
    DialCallback,
    HangUp,
    Outcome,
    PlayMessage,
    RecordInteraction,
    SaveCallback,
)
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    CallbackAnswered,
    CallbackFailed,
    CallbackRequested,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxResynced,
)
from ccgateway.domain.model import Queue
from ccgateway.domain.queue_policy import ActionKind, CallbackPolicy, Limits, QueueAction
from ccgateway.domain.records import Callback, CallbackState
from tests.domain.builders import agent, centre, login, offered

POLICY = CallbackPolicy(attempts=2, retry_s=300, ring_s=25, caller_id="+4930999")


def support(**changes: object) -> Queue:
    return Queue("q", "q", "200", wrapup_s=0, callback=POLICY, **changes)  # type: ignore[arg-type]


def dials(out: list[Command]) -> list[DialCallback]:
    return [c for c in out if isinstance(c, DialCallback)]


def saved(out: list[Command]) -> list[CallbackState]:
    return [c.callback.state for c in out if isinstance(c, SaveCallback)]


def the_callback(c: Center) -> Callback:
    [callback] = c.callbacks.callbacks.values()
    return callback


def test_a_caller_who_presses_the_key_keeps_their_place_and_is_called_back() -> None:
    c = centre(agent("a", {}), queues=(support(),))
    c.handle(CallWaiting("early", "200", "+4930111", "Ann"), 10.0)
    c.handle(CallWaiting("later", "200", "+4930222"), 20.0)
    out = c.handle(CallbackRequested("early"), 30.0)
    assert [m for m in out if isinstance(m, PlayMessage)] == [
        PlayMessage("early", "queue-thankyou&goodbye")
    ]
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert (record.outcome, record.wait_s) == (Outcome.CALLBACK, 20.0)
    callback = the_callback(c)
    assert (callback.number, callback.name, callback.placed_at) == ("+4930111", "Ann", 10.0)
    assert callback.origin_call_id == "early" and saved(out) == [CallbackState.WAITING]

    # The agent logs in: the callback arrived first, so it goes first; the agent is rung.
    out = login(c, "a", at=40.0)
    [dial] = dials(out)
    assert (dial.agent_id, dial.number, dial.caller_id, dial.customer_ring_s) == (
        "a",
        "+4930111",
        "+4930999",
        25,
    )
    assert c.status["a"].state is AgentState.RESERVED and c.calls["later"].agent_id is None

    out = c.handle(AgentLegAnswered(dial.leg_id), 45.0)
    assert c.status["a"].state is AgentState.ON_CALL
    assert the_callback(c).state is CallbackState.DIALING and the_callback(c).attempts == 1
    c.handle(CallbackAnswered(dial.leg_id), 52.0)
    assert the_callback(c).state is CallbackState.CONNECTED
    out = c.handle(ChannelHungUp(dial.leg_id), 172.0)
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert (record.kind, record.outcome, record.agent_id) == ("callback", Outcome.ANSWERED, "a")
    assert (record.wait_s, record.talk_s) == (22.0, 120.0)  # created at 30, answered at 52
    assert saved(out) == [CallbackState.DONE] and c.callbacks.callbacks == {}
    c.tick(172.0)
    assert offered(c.tick(172.0)) == [] and c.calls["later"].agent_id == "a"


def test_a_busy_customer_is_tried_again_later_and_given_up_after_the_attempts() -> None:
    c = centre(agent("a", {}), queues=(support(),))
    login(c, "a", at=0.0)
    _, out = c.create_callback("q", "+4930111", "", None, None, 10.0)
    [dial] = dials(out)
    c.handle(AgentLegAnswered(dial.leg_id), 12.0)
    out = c.handle(CallbackFailed(dial.leg_id, LegFailure.BUSY), 14.0)
    assert the_callback(c).state is CallbackState.SCHEDULED and the_callback(c).result == "busy"
    c.tick(14.0)
    assert c.status["a"].state is AgentState.AVAILABLE  # free again at once
    c.handle(ChannelHungUp(dial.leg_id), 15.0)  # the dialplan ends the agent leg: nothing more
    assert c.next_deadline() == 314.0
    [dial] = dials(c.tick(314.0))
    c.handle(AgentLegAnswered(dial.leg_id), 316.0)
    out = c.handle(CallbackFailed(dial.leg_id, LegFailure.NO_ANSWER), 345.0)
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert (record.outcome, record.offers) == (Outcome.NOT_REACHED, 2)
    assert record.detail == "not reached after 2 attempt(s): no_answer"
    assert saved(out)[-1] is CallbackState.NOT_REACHED and c.callbacks.callbacks == {}


def test_an_agent_who_does_not_answer_is_made_not_ready_and_the_callback_keeps_its_place() -> None:
    c = centre(agent("a", {}), agent("b", {}), queues=(support(),))
    login(c, "a", "b", at=0.0)
    c.set_agent_state("b", AgentState.PAUSED, "break", 0.5)
    _, out = c.create_callback("q", "+4930111", "", None, None, 10.0)
    [dial] = dials(out)
    assert dial.agent_id == "a"
    out = c.handle(AgentLegFailed(dial.leg_id, LegFailure.NO_ANSWER), 30.0)
    assert c.status["a"].state is AgentState.PAUSED and "no_answer" in (c.status["a"].reason or "")
    assert the_callback(c).state is CallbackState.WAITING and the_callback(c).attempts == 0
    [dial] = dials(c.set_agent_state("b", AgentState.AVAILABLE, None, 31.0))
    assert dial.agent_id == "b"


def test_a_callback_is_a_queue_action_too() -> None:
    q = support(limits=Limits(max_wait_s=60, on_max_wait=QueueAction(ActionKind.CALLBACK)))
    c = centre(queues=(q,))
    c.handle(CallWaiting("c1", "200", "+4930111"), 0.0)
    c.handle(CallWaiting("anon", "200", ""), 0.0)
    out = c.tick(60.0)
    outcomes = {
        r.interaction.call_id: r.interaction.outcome
        for r in out
        if isinstance(r, RecordInteraction)
    }
    assert outcomes == {"c1": Outcome.CALLBACK, "anon": Outcome.TIMED_OUT}  # no number: fallback
    assert the_callback(c).number == "+4930111"


def test_integrators_schedule_change_and_cancel_callbacks_until_they_are_dialled() -> None:
    c = centre(agent("a", {}), queues=(support(),))
    callback, _ = c.create_callback("q", "+4930111", "Ann", 5, 1000.0, 10.0)
    assert callback.state is CallbackState.SCHEDULED and c.next_deadline() == 1000.0
    changed, _ = c.change_callback(callback.id, {"number": "+4930222", "not_before": 20.0}, 11.0)
    assert (changed.number, changed.state) == ("+4930222", CallbackState.SCHEDULED)
    assert c.next_deadline() == 20.0
    c.tick(20.0)
    assert the_callback(c).state is CallbackState.WAITING
    with pytest.raises(InvalidValue, match="digits"):
        c.change_callback(callback.id, {"number": "+49 30 x"}, 21.0)
    with pytest.raises(InvalidValue, match="cannot change"):
        c.change_callback(callback.id, {"queue_id": "other"}, 21.0)
    [dial] = dials(login(c, "a", at=22.0))
    with pytest.raises(Conflict, match="offering"):
        c.cancel_callback(callback.id, 23.0)
    c.handle(AgentLegFailed(dial.leg_id, LegFailure.NO_ANSWER), 30.0)
    out = c.cancel_callback(callback.id, 31.0)
    assert saved(out) == [CallbackState.CANCELLED] and c.callbacks.callbacks == {}
    with pytest.raises(NotFound):
        c.cancel_callback(callback.id, 32.0)
    with pytest.raises(InvalidValue, match="digits"):
        c.create_callback("q", "0800\r\nAction: Originate", "", None, None, 40.0)


def test_a_connected_callback_saved_before_a_restart_is_adopted_from_the_pbx() -> None:
    c = centre(agent("a", {}), agent("b", {}), queues=(support(),))
    talking = Callback(
        "cb-1", "q", "+4930111", "", 0, 0.0, 1.0, CallbackState.DIALING, None, 1, "a", "leg-x"
    )
    ringing = dataclasses.replace(
        talking, id="cb-2", state=CallbackState.OFFERING, agent_id="b", leg_id="leg-y"
    )
    c.callbacks.restore([talking, ringing], 100.0)
    legs = (AgentChannel("leg-x", "PJSIP/a", "", answered=True, age_s=30.0, bridged=True),)
    out = c.handle(PbxResynced(agent_legs=legs), 100.0)
    assert c.status["a"].state is AgentState.ON_CALL and c.status["a"].call_id == "cb-1"
    assert c.callbacks.callbacks["cb-1"].state is CallbackState.CONNECTED
    assert c.callbacks.callbacks["cb-2"].state is CallbackState.WAITING  # its leg is gone
    assert not [h for h in out if isinstance(h, HangUp)]  # nobody's leg is hung up
    out = c.handle(ChannelHungUp("leg-x"), 160.0)
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert record.outcome is Outcome.ANSWERED and record.talk_s == 90.0
