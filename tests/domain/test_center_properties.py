"""Invariants of the centre under arbitrary event sequences (hypothesis)."""

from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue, Skill

AGENTS = {f"a{i}": {"de": 1 + (i * 3) % 10, "billing": 1 + (i * 7) % 10} for i in range(5)}
QUEUES = {"200": {"de": 5}, "201": {"billing": 6}, "202": {"de": 2, "billing": 2}}

actions = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), st.sampled_from(sorted(QUEUES))),
        st.tuples(st.just("answer"), st.integers(0, 30)),
        st.tuples(st.just("fail"), st.integers(0, 30)),
        st.tuples(st.just("hangup_caller"), st.integers(0, 30)),
        st.tuples(st.just("hangup_leg"), st.integers(0, 30)),
        st.tuples(
            st.just("agent"),
            st.sampled_from(sorted(AGENTS)),
            st.sampled_from([AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT]),
        ),
        st.tuples(st.just("tick"), st.integers(1, 30)),
    ),
    max_size=60,
)


def build() -> Center:
    ids = count()
    center = Center(new_leg_id=lambda: f"leg{next(ids)}")
    center.put_skill(Skill("de", "de"))
    center.put_skill(Skill("billing", "billing"))
    for aid, skills in AGENTS.items():
        center.put_agent(Agent(aid, aid, f"PJSIP/{aid}", skills), 0.0)
        center.set_agent_state(aid, AgentState.AVAILABLE, None, 0.0)
    for ext, requires in QUEUES.items():
        center.put_queue(Queue(f"q{ext}", ext, ext, requires, wrapup_s=5), 0.0)
    center.handle(PbxResynced(), 0.0)
    return center


@settings(max_examples=300, deadline=None)
@given(actions)
def test_invariants_hold_after_every_step(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    center = build()
    now, calls, legs = 1.0, [], []
    for step in steps:
        now += 1.0
        kind = step[0]
        if kind == "arrive":
            calls.append(f"c{len(calls)}")
            out = center.handle(CallWaiting(calls[-1], step[1]), now)
        elif kind == "answer" and legs:
            out = center.handle(AgentLegAnswered(legs[step[1] % len(legs)]), now)
        elif kind == "fail" and legs:
            out = center.handle(
                AgentLegFailed(legs[step[1] % len(legs)], LegFailure.NO_ANSWER), now
            )
        elif kind == "hangup_caller" and calls:
            out = center.handle(ChannelHungUp(calls[step[1] % len(calls)]), now)
        elif kind == "hangup_leg" and legs:
            out = center.handle(ChannelHungUp(legs[step[1] % len(legs)]), now)
        elif kind == "agent":
            try:
                out = center.set_agent_state(step[1], step[2], None, now)
            except Exception:
                out = []
        elif kind == "tick":
            now += step[1]
            out = center.tick(now)
        else:
            out = []
        for command in out:
            if isinstance(command, RingAgent):
                legs.append(command.leg_id)
                queue = center.directory.queues[center.calls[command.call_id].queue_id]
                agent = center.directory.agents[command.agent_id]
                assert queue.compiled.matches(agent.skills, agent.attributes), (
                    "offered to an unqualified agent"
                )
        check_invariants(center)


def check_invariants(center: Center) -> None:
    busy = [c.agent_id for c in center.calls.values() if c.agent_id is not None]
    assert len(busy) == len(set(busy)), "an agent holds two calls"
    for call in center.calls.values():
        if call.state is CallState.WAITING:
            assert call.agent_id is None and call.leg_id is None
            queue = center.directory.queues[call.queue_id]
            idle = [
                a
                for a, s in center.status.items()
                if s.state is AgentState.AVAILABLE
                and queue.compiled.matches(center.directory.agents[a].skills, {})
            ]
            assert not idle, f"{call.id} waits while {idle} idle"
        else:
            assert call.agent_id is not None
            status = center.status[call.agent_id]
            expected = (
                AgentState.RESERVED if call.state is CallState.OFFERING else AgentState.ON_CALL
            )
            assert status.state is expected and status.call_id == call.id
    for agent_id, status in center.status.items():
        if status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            assert status.call_id in center.calls, f"{agent_id} stuck {status.state}"
    assert sorted(center.waiting) == sorted(
        c.id for c in center.calls.values() if c.state is CallState.WAITING
    )
