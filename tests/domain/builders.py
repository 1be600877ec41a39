"""Small builders for domain tests: a centre with agents and queues, logged-in agents,
offers made, calls talked through."""

from __future__ import annotations

from itertools import count

from ccgateway.domain.agents import AgentPolicy, AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, RingAgent
from ccgateway.domain.events import AgentLegAnswered, ChannelHungUp, PbxResynced
from ccgateway.domain.model import Agent, Queue, Skill


def offered(commands: list[Command]) -> list[tuple[str, str]]:
    return [(c.call_id, c.agent_id) for c in commands if isinstance(c, RingAgent)]


def centre(
    *agents: Agent,
    queues: tuple[Queue, ...],
    skills: str = "de en billing",
    policy: AgentPolicy | None = None,
) -> Center:
    ids = count(1)
    c = Center(new_leg_id=lambda: f"leg-{next(ids)}", policy=policy)
    for skill in skills.split():
        c.put_skill(Skill(skill, skill))
    for agent in agents:
        c.put_agent(agent, now=0.0)
    for queue in queues:
        c.put_queue(queue, now=0.0, loading=True)
    c.handle(PbxResynced(), now=0.0)
    return c


def agent(agent_id: str, skills: dict[str, int], **attributes: str) -> Agent:
    return Agent(agent_id, agent_id, f"PJSIP/{agent_id}", skills, attributes=attributes)


def login(c: Center, *agent_ids: str, at: float = 1.0) -> list[Command]:
    out: list[Command] = []
    for i, agent_id in enumerate(agent_ids):
        out += c.set_agent_state(agent_id, AgentState.AVAILABLE, None, at + i)
    return out


def talk_and_end(c: Center, call_id: str, answer_at: float, end_at: float) -> None:
    leg = c.calls[call_id].leg_id
    assert leg is not None
    c.handle(AgentLegAnswered(leg), answer_at)
    c.handle(ChannelHungUp(call_id), end_at)
    c.tick(end_at)  # as the dispatcher does after every event: a zero wrap-up ends now
