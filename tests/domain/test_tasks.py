"""Non-voice tasks through the same engine: capacity per channel, voice exclusive, accept,
reject, time-out, complete, cancel, and tasks kept across a restart."""

from __future__ import annotations

import pytest

from ccgateway.domain.agents import AgentPolicy, AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, Outcome, RecordInteraction, SaveTask
from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp
from ccgateway.domain.model import Agent, Queue
from ccgateway.domain.records import TaskState
from tests.domain.builders import agent, centre, login, offered

POLICY = AgentPolicy(capacity={"chat": 3, "email": 1})


def chat_centre(*agents: Agent) -> Center:
    q = Queue("q", "q", "200", wrapup_s=0, ring_timeout_s=20)
    return centre(*agents, queues=(q,), policy=POLICY)


def offers(out: list[Command]) -> list[tuple[str, str | None]]:
    return [
        (c.task.id, c.task.agent_id)
        for c in out
        if isinstance(c, SaveTask) and c.task.state is TaskState.OFFERED
    ]


def new_chat(c: Center, now: float, priority: int | None = None) -> tuple[str, list[Command]]:
    task, out = c.create_task("q", "chat", priority, "a chat", {"crm": "42"}, now)
    return task.id, out


def test_an_agent_takes_up_to_their_capacity_of_chats_and_then_nothing_else() -> None:
    c = chat_centre(agent("a", {}))
    login(c, "a", at=0.0)
    ids = []
    for i in range(4):
        task_id, out = new_chat(c, 10.0 + i)
        ids.append(task_id)
        assert offers(out) == ([(task_id, "a")] if i < 3 else [])
    assert c.tasks.tasks[ids[3]].state is TaskState.WAITING
    # With chats in hand the agent is offered no call: voice is exclusive.
    assert offered(c.handle(CallWaiting("call", "200"), 20.0)) == []
    for task_id in ids[:3]:
        c.answer_task(task_id, "a", "accept", 21.0)
    out = c.answer_task(ids[0], "a", "complete", 80.0)
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert (record.kind, record.channel, record.outcome) == ("task", "chat", Outcome.COMPLETED)
    assert (record.wait_s, record.talk_s, record.agent_id) == (11.0, 59.0, "a")
    assert offers(out) == [(ids[3], "a")]  # room for one more chat: the waiting one
    # Idle 0-10 s, then busy with chats: handling time counts towards occupancy.
    assert c.status["a"].occupancy(80.0) == pytest.approx(70 / 80)


def test_an_agent_on_a_call_is_offered_no_task_until_the_call_and_its_wrap_up_end() -> None:
    c = chat_centre(agent("a", {}))
    login(c, "a", at=0.0)
    [(call, _)] = offered(c.handle(CallWaiting("call", "200"), 1.0))
    c.handle(AgentLegAnswered(c.calls[call].leg_id or ""), 2.0)
    task_id, out = new_chat(c, 3.0)
    assert offers(out) == []
    out = c.handle(ChannelHungUp(call), 60.0) + c.tick(60.0)
    assert offers(out) == [(task_id, "a")]


def test_an_offer_not_accepted_in_time_makes_the_agent_not_ready_and_goes_to_the_next() -> None:
    c = chat_centre(agent("a", {}), agent("b", {}))
    login(c, "a", "b", at=0.0)
    task_id, out = new_chat(c, 10.0)
    assert offers(out) == [(task_id, "a")]
    out = c.tick(30.0)  # the queue's 20 s ring timeout
    assert c.status["a"].state is AgentState.PAUSED
    assert c.status["a"].reason == "not ready: no_answer"
    assert offers(out) == [(task_id, "b")]
    out = c.answer_task(task_id, "b", "reject", 31.0)
    assert c.status["b"].reason == "not ready: rejected" and offers(out) == []
    assert c.tasks.tasks[task_id].state is TaskState.WAITING


def test_answers_are_checked_against_who_holds_the_task() -> None:
    c = chat_centre(agent("a", {}), agent("b", {}))
    login(c, "a", at=0.0)
    task_id, _ = new_chat(c, 1.0)
    with pytest.raises(Conflict, match="not offered to b"):
        c.answer_task(task_id, "b", "accept", 2.0)
    with pytest.raises(Conflict, match="not being worked on"):
        c.answer_task(task_id, "a", "complete", 2.0)
    with pytest.raises(InvalidValue, match="accept, reject or complete"):
        c.answer_task(task_id, "a", "snooze", 2.0)
    c.answer_task(task_id, "a", "accept", 2.0)
    with pytest.raises(Conflict, match="task"):
        c.set_agent_state("a", AgentState.LOGGED_OUT, None, 3.0)
    c.set_agent_state("a", AgentState.PAUSED, None, 3.0)  # a pause keeps the chat
    out = c.cancel_task(task_id, 4.0)
    [record] = [r.interaction for r in out if isinstance(r, RecordInteraction)]
    assert record.outcome is Outcome.CANCELLED and c.status["a"].tasks == {}


def test_a_channel_with_no_capacity_never_reaches_the_agent() -> None:
    phones_only = Agent("p", "p", "PJSIP/p", capacity={"chat": 0})
    c = chat_centre(phones_only)
    login(c, "p", at=0.0)
    _, out = new_chat(c, 1.0)
    assert offers(out) == []
    with pytest.raises(InvalidValue, match="voice"):
        Agent("x", "x", "PJSIP/x", capacity={"voice": 2})
    with pytest.raises(InvalidValue, match="channel"):
        c.create_task("q", "Chat Room", None, "", {}, 2.0)


def test_tasks_saved_before_a_restart_go_back_to_their_agents() -> None:
    c = chat_centre(agent("a", {}))
    login(c, "a", at=0.0)
    first, _ = new_chat(c, 1.0)
    c.answer_task(first, "a", "accept", 2.0)
    second, _ = new_chat(c, 3.0)  # offered, not yet accepted
    saved = list(c.tasks.tasks.values())

    again = chat_centre(agent("a", {}))
    login(again, "a", at=10.0)
    again.tasks.restore(saved, 10.0)
    assert again.status["a"].tasks == {first: "chat"}
    assert again.tasks.tasks[second].state is TaskState.WAITING
    out = again.tick(10.0)
    assert offers(out) == [(second, "a")]
