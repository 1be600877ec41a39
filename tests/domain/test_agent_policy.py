"""Agent states beyond the basics: pause codes, changes deferred until after the call, and
what happens to an agent who lets an offer ring out."""

from __future__ import annotations

from itertools import count

import pytest

from ccgateway.domain.agents import AgentPolicy, AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue

POLICY = AgentPolicy(pause_codes=("break", "lunch"), no_answer_reason="missed")


def centre(policy: AgentPolicy = POLICY) -> Center:
    ids = count(1)
    c = Center(new_leg_id=lambda: f"leg-{next(ids)}", policy=policy)
    c.put_agent(Agent("ann", "Ann", "PJSIP/ann"), 0.0)
    c.put_agent(Agent("bob", "Bob", "PJSIP/bob"), 0.0)
    c.put_queue(Queue("q", "q", "200", wrapup_s=10), 0.0)
    c.handle(PbxResynced(), 0.0)
    c.set_agent_state("ann", AgentState.AVAILABLE, None, 1.0)
    return c


def ring_of(c: Center, call_id: str, at: float) -> RingAgent:
    [ring] = [x for x in c.handle(CallWaiting(call_id, "200"), at) if isinstance(x, RingAgent)]
    return ring


def test_pauses_must_name_a_pause_code_when_the_centre_has_them() -> None:
    c = centre()
    with pytest.raises(InvalidValue, match="not a pause code; use one of: break, lunch"):
        c.set_agent_state("ann", AgentState.PAUSED, "smoking", 2.0)
    c.set_agent_state("ann", AgentState.PAUSED, "lunch", 2.0)
    assert (c.status["ann"].state, c.status["ann"].reason) == (AgentState.PAUSED, "lunch")
    free = centre(AgentPolicy())
    free.set_agent_state("ann", AgentState.PAUSED, "anything", 2.0)  # no codes: free text
    assert POLICY.pause_code(2) == "lunch"
    with pytest.raises(InvalidValue, match="no pause code number 3"):
        POLICY.pause_code(3)


def test_a_pause_after_the_call_waits_for_the_wrap_up_then_replaces_available() -> None:
    c = centre()
    ring = ring_of(c, "c1", 2.0)
    c.handle(AgentLegAnswered(ring.leg_id), 3.0)
    c.set_agent_state("ann", AgentState.PAUSED, "lunch", 4.0, after_call=True)
    status = c.status["ann"]
    assert status.state is AgentState.ON_CALL and status.pending == (AgentState.PAUSED, "lunch")
    c.handle(ChannelHungUp("c1"), 50.0)
    assert status.state is AgentState.WRAP_UP  # the wrap-up is still done
    c.handle(CallWaiting("c2", "200"), 55.0)
    c.tick(60.0)
    assert (status.state, status.reason, status.pending) == (AgentState.PAUSED, "lunch", None)
    assert c.calls["c2"].agent_id is None  # the next caller was not offered to ann


def test_a_log_out_after_the_call_also_ends_a_ring_out_and_now_applies_at_once() -> None:
    c = centre()
    ring = ring_of(c, "c1", 2.0)
    c.set_agent_state("ann", AgentState.LOGGED_OUT, None, 3.0, after_call=True)
    c.handle(AgentLegFailed(ring.leg_id, LegFailure.NO_ANSWER), 4.0)
    assert c.status["ann"].state is AgentState.LOGGED_OUT  # her wish, not a no-answer pause
    c.set_agent_state("ann", AgentState.PAUSED, "break", 5.0, after_call=True)  # no call: now
    assert c.status["ann"].state is AgentState.PAUSED


def test_a_ring_out_pauses_with_the_configured_reason_and_can_resume_by_itself() -> None:
    c = centre()
    ring = ring_of(c, "c1", 2.0)
    c.handle(AgentLegFailed(ring.leg_id, LegFailure.NO_ANSWER), 20.0)
    assert c.status["ann"].reason == "missed: no_answer"
    assert c.next_deadline() is None  # stays paused until ann resumes

    timed = centre(AgentPolicy(no_answer_resume_s=30))
    ring = ring_of(timed, "c1", 2.0)
    timed.handle(AgentLegFailed(ring.leg_id, LegFailure.BUSY), 20.0)
    assert timed.status["ann"].reason == "not ready: busy"
    assert timed.next_deadline() == 50.0
    assert timed.tick(49.9) == [] and timed.status["ann"].state is AgentState.PAUSED
    timed.tick(50.0)  # available again, and at once offered the caller still waiting
    assert timed.status["ann"].state is AgentState.RESERVED
    assert timed.calls["c1"].agent_id == "ann"
