"""The configured centre: skills, agents and queues, kept consistent with each other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.model import Agent, Queue, Skill


@dataclass(slots=True)
class Directory:
    """The dicts are read by everyone (the routing engine holds them); changes go through
    put_*/drop_* so the indexes by (PBX, device) and by (PBX, extension) stay true: two
    PBXs may each have a `PJSIP/agent1` of their own, and one's phone states are not the
    other's."""

    skills: dict[str, Skill] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    _by_device: dict[tuple[str, str], str] = field(default_factory=dict)
    _by_extension: dict[tuple[str, str], str] = field(default_factory=dict)

    def put_agent(self, agent: Agent) -> None:
        old = self.agents.get(agent.id)
        if old is not None:
            self._by_device.pop((old.pbx, old.device), None)
        self.agents[agent.id] = agent
        self._by_device[(agent.pbx, agent.device)] = agent.id

    def drop_agent(self, agent_id: str) -> None:
        agent = self.agents.pop(agent_id)
        self._by_device.pop((agent.pbx, agent.device), None)

    def put_queue(self, queue: Queue) -> None:
        old = self.queues.get(queue.id)
        if old is not None:
            self._by_extension.pop((old.pbx, old.extension), None)
        self.queues[queue.id] = queue
        self._by_extension[(queue.pbx, queue.extension)] = queue.id

    def drop_queue(self, queue_id: str) -> None:
        queue = self.queues.pop(queue_id)
        self._by_extension.pop((queue.pbx, queue.extension), None)

    def check_skills_exist(self, levels: Mapping[str, int]) -> None:
        unknown = sorted(set(levels) - set(self.skills))
        if unknown:
            raise InvalidValue(f"unknown skill(s): {', '.join(unknown)}")

    def check_skill(self, skill: Skill) -> None:
        """Skills carry no references, so any valid skill can be stored."""

    def check_agent(self, agent: Agent) -> None:
        self.check_skills_exist(agent.skills)
        # One agent per phone on a PBX; two PBXs may each have their own `PJSIP/agent1`.
        owner = self._by_device.get((agent.pbx, agent.device))
        if owner is not None and owner != agent.id:
            raise Conflict(f"device {agent.device} on {agent.pbx} already belongs to agent {owner}")

    def check_queue(self, queue: Queue, *, check_targets: bool = True) -> None:
        self.check_skills_exist(dict.fromkeys(_skills_named(queue), 1))
        if check_targets:
            for target in queue.sends_to():
                if target not in self.queues:
                    raise InvalidValue(
                        f"queue {queue.id} sends callers to unknown queue {target!r}"
                    )
            self._check_no_overflow_loop(queue)
        owner = self._by_extension.get((queue.pbx, queue.extension))
        if owner is not None and owner != queue.id:
            raise Conflict(
                f"extension {queue.extension} on {queue.pbx} already belongs to queue {owner}"
            )

    def check_skill_removable(self, skill_id: str) -> None:
        self.skill(skill_id)
        users = [a.id for a in self.agents.values() if skill_id in a.skills]
        users += [q.id for q in self.queues.values() if skill_id in _skills_named(q)]
        if users:
            raise Conflict(f"skill {skill_id} is still used by: {', '.join(sorted(users))}")

    def check_queue_removable(self, queue_id: str) -> None:
        self.queue(queue_id)
        sources = sorted(q.id for q in self.queues.values() if queue_id in q.sends_to())
        if sources:
            raise Conflict(f"queue {queue_id} is an overflow target of: {', '.join(sources)}")

    def _check_no_overflow_loop(self, queue: Queue) -> None:
        """A caller moved from queue to queue must end up somewhere: no cycles."""
        path, todo = {queue.id}, queue.sends_to()
        seen: set[str] = set()
        while todo:
            target = todo.pop()
            if target in path:
                raise InvalidValue(f"overflow from queue {queue.id} leads back to itself")
            if target in seen or target not in self.queues:
                continue
            seen.add(target)
            todo += self.queues[target].sends_to()

    def skill(self, skill_id: str) -> Skill:
        try:
            return self.skills[skill_id]
        except KeyError:
            raise NotFound(f"no skill {skill_id!r}") from None

    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise NotFound(f"no agent {agent_id!r}") from None

    def queue(self, queue_id: str) -> Queue:
        try:
            return self.queues[queue_id]
        except KeyError:
            raise NotFound(f"no queue {queue_id!r}") from None

    def queue_for_extension(self, extension: str, pbx: str) -> Queue | None:
        queue_id = self._by_extension.get((pbx, extension))
        return self.queues.get(queue_id) if queue_id is not None else None

    def agent_for_device(self, device: str, pbx: str) -> Agent | None:
        """The agent whose phone is `device` on the PBX named `pbx`."""
        agent_id = self._by_device.get((pbx, device))
        return self.agents.get(agent_id) if agent_id is not None else None

    def load(
        self, skills: Iterable[Skill], agents: Iterable[Agent], queues: Iterable[Queue]
    ) -> None:
        # In place: the routing engine holds these dicts.
        self.skills.clear()
        self.skills.update((s.id, s) for s in skills)
        self.agents.clear()
        self._by_device.clear()
        for agent in agents:
            self.put_agent(agent)
        self.queues.clear()
        self._by_extension.clear()
        for queue in queues:
            self.put_queue(queue)


def _skills_named(queue: Queue) -> set[str]:
    named = set(queue.compiled.skills)
    for step in queue.relaxation:
        if step.compiled is not None:
            named |= step.compiled.skills
    return named
