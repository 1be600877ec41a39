"""Invariants across every kind of work at once (hypothesis): calls, callbacks, non-voice
tasks, transfers and conferences, agents changing state, time passing.

After every step: no agent holds two voice items, or a voice item and a task; nobody is left
reserved or on a call with nothing to show for it; nobody holds more tasks of a channel than
their capacity; and no waiting call, callback or task has a free agent who could take it.
"""

from __future__ import annotations

from itertools import count

from hypothesis import event as seen
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.agents import VOICE, AgentPolicy, AgentState
from ccgateway.domain.center import BUSY_DEVICE, CallState, Center
from ccgateway.domain.commands import Command, DialCallback, Fact, RingAgent, RingConsult
from ccgateway.domain.errors import DomainError
from ccgateway.domain.events import (
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
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.queue_policy import CallbackPolicy
from ccgateway.domain.records import TaskState
from ccgateway.domain.transfers import TargetKind, TransferTarget

AGENTS = [Agent(f"a{i}", f"a{i}", f"PJSIP/a{i}", {"de": 1 + (i * 3) % 10}) for i in range(5)]
POLICY = AgentPolicy(capacity={"chat": 2, "email": 1})
TRANSFERS = [
    ("blind", TransferTarget(TargetKind.QUEUE, "q201")),
    ("blind", TransferTarget(TargetKind.AGENT, "a2")),
    ("blind", TransferTarget(TargetKind.NUMBER, "+4940123")),
    ("attended", TransferTarget(TargetKind.QUEUE, "q200")),
    ("attended", TransferTarget(TargetKind.AGENT, "a4")),
]
FINISH = ["complete", "cancel", "conference"]
index = st.integers(0, 40)
actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("arrive"), st.sampled_from(["200", "201"]), st.sampled_from(["+491", ""])
        ),
        st.tuples(st.just("arrive"), st.sampled_from(["200", "201"]), st.just("+492")),
        st.tuples(st.just("answer"), index),
        st.tuples(st.just("fail"), index),
        st.tuples(st.just("hangup"), index),
        st.tuples(st.just("hangup_caller"), index),
        st.tuples(st.just("customer"), index, st.booleans()),
        st.tuples(st.just("callback_key"), index),
        st.tuples(
            st.just("task"), st.sampled_from(["chat", "email"]), st.sampled_from(["q200", "q201"])
        ),
        st.tuples(st.just("task_answer"), index, st.sampled_from(["accept", "reject", "complete"])),
        st.tuples(st.just("task_cancel"), index),
        *[st.tuples(st.just("transfer"), index, st.integers(0, len(TRANSFERS) - 1))] * 3,
        *[st.tuples(st.just("finish"), index, st.sampled_from(FINISH))] * 3,
        *[st.tuples(st.just("answer_last"))] * 3,
        st.tuples(st.just("consult_answered"), index, st.sampled_from([3, 4])),
        st.tuples(
            st.just("agent"),
            st.integers(0, len(AGENTS) - 1),
            st.sampled_from([AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT]),
        ),
        st.tuples(st.just("wait"), st.integers(1, 400)),
    ),
    min_size=10,
    max_size=70,
)


def build() -> Center:
    ids = count()
    center = Center(new_leg_id=lambda: f"leg{next(ids)}", policy=POLICY)
    center.put_skill(Skill("de", "de"))
    for agent in AGENTS:
        center.put_agent(agent, 0.0)
        center.set_agent_state(agent.id, AgentState.AVAILABLE, None, 0.0)
    callback = CallbackPolicy(attempts=2, retry_s=60)
    center.put_queue(Queue("q200", "q200", "200", {"de": 5}, wrapup_s=3, callback=callback), 0.0)
    center.put_queue(Queue("q201", "q201", "201", wrapup_s=3, callback=callback), 0.0)
    center.handle(PbxResynced(), 0.0)
    return center


def pick(items: list[str], i: int) -> str | None:
    return items[i % len(items)] if items else None


@settings(max_examples=400, deadline=None)
@given(actions)
def test_every_kind_of_work_keeps_the_centre_consistent(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    center = build()
    now, calls, legs, callback_legs = 1.0, [], [], []
    for step in steps:
        now += 1.0
        kind = step[0]
        out: list[Command] = []
        try:
            if kind == "arrive":
                calls.append(f"c{len(calls)}")
                out = center.handle(CallWaiting(calls[-1], step[1], step[2]), now)
            elif kind in ("answer", "fail", "hangup") and (leg := pick(legs, step[1])):
                event = {
                    "answer": AgentLegAnswered(leg),
                    "fail": AgentLegFailed(leg, LegFailure.NO_ANSWER),
                    "hangup": ChannelHungUp(leg),
                }[kind]
                out = center.handle(event, now)
            elif kind == "answer_last" and legs:
                out = center.handle(AgentLegAnswered(legs[-1]), now)
            elif kind == "hangup_caller" and (call := pick(calls, step[1])):
                out = center.handle(ChannelHungUp(call), now)
            elif kind == "customer" and (leg := pick(callback_legs, step[1])):
                answered = CallbackAnswered(leg)
                out = center.handle(
                    answered if step[2] else CallbackFailed(leg, LegFailure.BUSY), now
                )
            elif kind == "callback_key" and (call := pick(calls, step[1])):
                out = center.handle(CallbackRequested(call), now)
            elif kind == "task":
                _, out = center.create_task(step[2], step[1], None, "", {}, now)
            elif kind == "task_answer" and (task_id := pick(sorted(center.tasks.tasks), step[1])):
                task = center.tasks.tasks[task_id]
                if task.agent_id is not None:
                    out = center.answer_task(task_id, task.agent_id, step[2], now)
            elif kind == "task_cancel" and (task_id := pick(sorted(center.tasks.tasks), step[1])):
                out = center.cancel_task(task_id, now)
            elif kind == "transfer" and (call := pick(connected(center), step[1])):
                how, target = TRANSFERS[step[2]]
                out = center.transfer(call, target, how == "attended", now)
            elif kind == "consult_answered" and (call := pick(connected(center), step[1])):
                # an attended transfer whose target answers at once
                _, target = TRANSFERS[step[2]]
                out = center.transfer(call, target, True, now)
                rings = [c for c in out if isinstance(c, RingConsult)]
                out += center.handle(AgentLegAnswered(rings[0].leg_id), now)
            elif kind == "finish" and (call := pick(consulting(center), step[1])):
                out = center.finish_transfer(call, step[2], now)
            elif kind == "agent":
                out = center.set_agent_state(AGENTS[step[1]].id, step[2], None, now)
            elif kind == "wait":
                now += step[1]
        except DomainError:
            out = []  # refused requests change nothing; the invariants below say so
        out += center.tick(now)
        for command in out:
            seen(type(command).__name__)  # --hypothesis-show-statistics shows what was reached
            assert not isinstance(command, Fact), f"a fact reached the shell: {command}"
            if isinstance(command, RingAgent | RingConsult):
                legs.append(command.leg_id)
            elif isinstance(command, DialCallback):
                legs.append(command.leg_id)
                callback_legs.append(command.leg_id)
        check(center)


def connected(center: Center) -> list[str]:
    return sorted(c.id for c in center.calls.values() if c.state is CallState.CONNECTED)


def consulting(center: Center) -> list[str]:
    return sorted(c.id for c in center.calls.values() if c.consult is not None)


def voice_holders(center: Center) -> list[tuple[str, str]]:
    """(agent, item) for every voice item an agent is on or reserved for."""
    held: list[tuple[str, str]] = []
    for call in center.calls.values():
        if call.agent_id is not None:
            held.append((call.agent_id, call.id))
        if call.consult is not None and call.consult.agent_id is not None:
            held.append((call.consult.agent_id, call.id))
        held += [(a, call.id) for a in call.conference.values() if a is not None]
    held += [(cb.agent_id, cb.id) for cb in center.callbacks.callbacks.values() if cb.agent_id]
    return held


def check(center: Center) -> None:
    held = voice_holders(center)
    agents = [a for a, _ in held]
    assert len(agents) == len(set(agents)), f"an agent holds two voice items: {held}"
    holding = dict(held)
    for agent_id, status in center.status.items():
        if status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            assert holding.get(agent_id) == status.call_id, f"{agent_id} stuck {status.state}"
        if status.tasks:
            assert agent_id not in holding, f"{agent_id} has a call and tasks"
        for channel, most in center.floor.capacity(agent_id).items():
            assert status.load(channel) <= most, f"{agent_id} over capacity on {channel}"
    for task in center.tasks.tasks.values():
        if task.state is not TaskState.WAITING:
            assert task.agent_id is not None and task.id in center.status[task.agent_id].tasks
    for item in center.engine.waiting_calls():
        if item.sticky_agent is not None:
            assert not center.engine.is_free(item.sticky_agent, item.channel)
            continue
        queue = center.directory.queues[item.queue_id]
        requirement = queue.requirement_at(item.step)
        could = [
            a.id
            for a in center.directory.agents.values()
            if requirement.matches(a.skills, a.attributes) and can_take(center, a, item.channel)
        ]
        assert not could, f"{item.call_id} ({item.channel}) waits while {could} could take it"
    for call in center.calls.values():
        if call.state is CallState.WAITING:
            assert center.engine.waiting(call.id) is not None


def can_take(center: Center, agent: Agent, channel: str) -> bool:
    status = center.status[agent.id]
    if status.state is not AgentState.AVAILABLE:
        return False
    if channel == VOICE:
        return not status.tasks and center.devices.get((agent.pbx, agent.device)) not in BUSY_DEVICE
    return status.load(channel) < center.floor.capacity(agent.id).get(channel, 0)
