"""The engine's promises under arbitrary event sequences (hypothesis), with relaxation,
overflow, priorities, attributes, every strategy and phones that come and go:

- no agent is offered two calls, and no agent is left reserved without a call;
- every offer goes to an agent who is available, whose phone can ring, and who meets the
  requirement of the call's queue at the call's current relaxation step;
- after every event, no caller waits while a free agent meets their requirement.
"""

from __future__ import annotations

from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import BUSY_DEVICE, CallState, Center
from ccgateway.domain.commands import Command, RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    LegFailure,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue, RelaxationStep, Skill, Strategy

AGENTS = [
    Agent(
        f"a{i}",
        f"a{i}",
        f"PJSIP/a{i}",
        {"de": 1 + (i * 3) % 10, "billing": 1 + (i * 7) % 10},
        attributes={"team": "vip" if i % 3 == 0 else "std"},
    )
    for i in range(6)
]
STEPS = [
    RelaxationStep(20, requirement="de >= 1"),
    RelaxationStep(40, priority_boost=3),
    RelaxationStep(60, overflow_to="q202"),
]


def queues(strategies: list[Strategy]) -> list[Queue]:
    return [
        Queue(
            "q202",
            "q202",
            "202",
            {"de": 2, "billing": 2},
            wrapup_s=5,
            strategy=strategies[0],
            last_agent_wait_s=15,
        ),
        Queue(
            "q200",
            "q200",
            "200",
            {"de": 8},
            wrapup_s=5,
            strategy=strategies[1],
            last_agent_wait_s=25,
            relaxation=tuple(STEPS),
        ),
        Queue(
            "q201",
            "q201",
            "201",
            requirement='billing >= 6 and team == "vip"',
            weight=2.0,
            strategy=strategies[2],
            last_agent_wait_s=5,
            relaxation=(RelaxationStep(30, requirement="billing >= 3"),),
        ),
    ]


arrivals = st.tuples(
    st.just("arrive"),
    st.sampled_from(["200", "201", "202"]),
    st.integers(0, 5),
    st.sampled_from(["+491", "+492", ""]),  # returning callers
)
actions = st.lists(
    st.one_of(
        arrivals,
        arrivals,  # twice: arrivals are what the engine works on
        st.tuples(st.just("answer"), st.integers(0, 30)),
        st.tuples(st.just("complete"), st.integers(0, 30)),
        st.tuples(st.just("complete"), st.integers(0, 30)),
        st.tuples(st.just("fail"), st.integers(0, 30)),
        st.tuples(st.just("hangup_caller"), st.integers(0, 30)),
        st.tuples(st.just("hangup_caller"), st.integers(0, 30)),
        st.tuples(st.just("hangup_leg"), st.integers(0, 30)),
        st.tuples(
            st.just("agent"),
            st.integers(0, len(AGENTS) - 1),
            st.sampled_from([AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT]),
        ),
        st.tuples(st.just("device"), st.integers(0, len(AGENTS) - 1), st.sampled_from(DeviceState)),
        st.tuples(st.just("priority"), st.integers(0, 30), st.integers(0, 9)),
        st.tuples(st.just("wait"), st.integers(1, 40)),
    ),
    min_size=10,
    max_size=80,
)


def build(strategies: list[Strategy]) -> Center:
    ids = count()
    center = Center(new_leg_id=lambda: f"leg{next(ids)}")
    center.put_skill(Skill("de", "de"))
    center.put_skill(Skill("billing", "billing"))
    for agent in AGENTS:
        center.put_agent(agent, 0.0)
        center.set_agent_state(agent.id, AgentState.AVAILABLE, None, 0.0)
    for queue in queues(strategies):
        center.put_queue(queue, 0.0)
    center.handle(PbxResynced(), 0.0)
    return center


@settings(max_examples=400, deadline=None)
@given(actions, st.lists(st.sampled_from(Strategy), min_size=3, max_size=3))
def test_the_engine_keeps_its_promises(steps: list[tuple], strategies: list[Strategy]) -> None:  # type: ignore[type-arg]
    center = build(strategies)
    now, calls, legs = 1.0, [], []
    for step in steps:
        now += 1.0
        kind = step[0]
        out: list[Command] = []
        if kind == "arrive":
            calls.append(f"c{len(calls)}")
            arrival = CallWaiting(calls[-1], step[1], step[3], priority=step[2])
            out = center.handle(arrival, now)
        elif kind == "answer" and legs:
            out = center.handle(AgentLegAnswered(legs[step[1] % len(legs)]), now)
        elif kind == "complete" and center.calls:  # an offered call answered, then ended
            busy = sorted(
                (c for c in center.calls.values() if c.leg_id is not None), key=lambda c: c.id
            )
            if busy:
                call = busy[step[1] % len(busy)]
                out = center.handle(AgentLegAnswered(call.leg_id or ""), now)
                out += center.handle(ChannelHungUp(call.id), now)
        elif kind == "fail" and legs:
            failed = AgentLegFailed(legs[step[1] % len(legs)], LegFailure.NO_ANSWER)
            out = center.handle(failed, now)
        elif kind == "hangup_caller" and calls:
            out = center.handle(ChannelHungUp(calls[step[1] % len(calls)]), now)
        elif kind == "hangup_leg" and legs:
            out = center.handle(ChannelHungUp(legs[step[1] % len(legs)]), now)
        elif kind == "agent":
            try:
                out = center.set_agent_state(AGENTS[step[1]].id, step[2], None, now)
            except Exception:
                out = []
        elif kind == "device":
            out = center.handle(DeviceStateChanged(AGENTS[step[1]].device, step[2]), now)
        elif kind == "priority" and calls and calls[step[1] % len(calls)] in center.calls:
            out = center.set_call_priority(calls[step[1] % len(calls)], step[2], now)
        elif kind == "wait":
            now += step[1]
        before = _snapshot(center)
        out += center.tick(now)  # the dispatcher ticks after every event
        for command in out:
            if isinstance(command, RingAgent):
                legs.append(command.leg_id)
                check_offer(center, command, before)
        check_invariants(center)


def _device(agent: Agent) -> tuple[str, str]:
    return (agent.pbx, agent.device)  # the centre keeps phones by (PBX, device)


def _snapshot(center: Center) -> dict[str, tuple[AgentState, DeviceState | None]]:
    return {
        a: (s.state, center.devices.get(_device(center.directory.agents[a])))
        for a, s in center.status.items()
    }


def check_offer(
    center: Center, ring: RingAgent, before: dict[str, tuple[AgentState, DeviceState | None]]
) -> None:
    agent = center.directory.agents[ring.agent_id]
    call = center.calls[ring.call_id]
    queue = center.directory.queues[call.queue_id]
    offers = [d for d in center.decisions if d.kind == "offer" and d.call_id == call.id]
    rule = offers[-1].rule
    step = int(rule.split("step ")[1]) if "step " in rule else 0
    if rule.endswith("last agent"):  # kept for the agent who served the caller last, then
        assert offers[-1].explanation == f"kept for {agent.id}: last agent"
    assert queue.requirement_at(step).matches(agent.skills, agent.attributes), "unqualified"
    assert center.devices.get(_device(agent)) not in BUSY_DEVICE, "offered to a busy phone"


def check_invariants(center: Center) -> None:
    holders = [c.agent_id for c in center.calls.values() if c.agent_id is not None]
    assert len(holders) == len(set(holders)), "an agent holds two calls"
    for call in center.calls.values():
        if call.state is CallState.WAITING:
            waiting = center.engine.waiting(call.id)
            assert waiting is not None and call.agent_id is None
            if waiting.sticky_agent is not None:  # kept for its last agent, who is not free
                assert not center.engine.is_free(waiting.sticky_agent)
                continue
            queue = center.directory.queues[waiting.queue_id]
            requirement = queue.requirement_at(waiting.step)
            free = [
                a.id
                for a in center.directory.agents.values()
                if center.status[a.id].state is AgentState.AVAILABLE
                and center.devices.get(_device(a)) not in BUSY_DEVICE
                and requirement.matches(a.skills, a.attributes)
            ]
            assert not free, f"{call.id} waits ({requirement.source}) while {free} are free"
        else:
            assert call.agent_id is not None and center.engine.waiting(call.id) is None
            status = center.status[call.agent_id]
            expected = (
                AgentState.RESERVED if call.state is CallState.OFFERING else AgentState.ON_CALL
            )
            assert status.state is expected and status.call_id == call.id
    for agent_id, status in center.status.items():
        if status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            assert status.call_id in center.calls, f"{agent_id} stuck {status.state}"
