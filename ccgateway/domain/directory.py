"""The configured centre: skills, agents and queues, kept consistent with each other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.model import Agent, Queue, Skill


@dataclass(slots=True)
class Directory:
    skills: dict[str, Skill] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)

    def check_skills_exist(self, levels: Mapping[str, int]) -> None:
        unknown = sorted(set(levels) - set(self.skills))
        if unknown:
            raise InvalidValue(f"unknown skill(s): {', '.join(unknown)}")

    def check_skill(self, skill: Skill) -> None:
        """Skills carry no references, so any valid skill can be stored."""

    def check_agent(self, agent: Agent) -> None:
        self.check_skills_exist(agent.skills)
        for other in self.agents.values():
            if other.id != agent.id and other.device == agent.device:
                raise Conflict(f"device {agent.device} already belongs to agent {other.id}")

    def check_queue(self, queue: Queue) -> None:
        self.check_skills_exist(queue.requires)
        for other in self.queues.values():
            same_number = (other.pbx, other.extension) == (queue.pbx, queue.extension)
            if other.id != queue.id and same_number:
                raise Conflict(
                    f"extension {queue.extension} on {queue.pbx} "
                    f"already belongs to queue {other.id}"
                )

    def check_skill_removable(self, skill_id: str) -> None:
        self.skill(skill_id)
        users = [a.id for a in self.agents.values() if skill_id in a.skills]
        users += [q.id for q in self.queues.values() if skill_id in q.requires]
        if users:
            raise Conflict(f"skill {skill_id} is still used by: {', '.join(sorted(users))}")

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
        for queue in self.queues.values():
            if queue.extension == extension and queue.pbx == pbx:
                return queue
        return None

    def agent_for_device(self, device: str) -> Agent | None:
        for agent in self.agents.values():
            if agent.device == device:
                return agent
        return None

    def load(
        self, skills: Iterable[Skill], agents: Iterable[Agent], queues: Iterable[Queue]
    ) -> None:
        self.skills = {s.id: s for s in skills}
        self.agents = {a.id: a for a in agents}
        self.queues = {q.id: q for q in queues}
