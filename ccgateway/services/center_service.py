"""The use cases behind the API: configuration, agent presence, live views and history.

Writes go through the dispatcher, so they are ordered with PBX events: the change is checked
against the live centre, saved, and only then applied; a refused change writes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ccgateway.domain.administration import check_is_new, check_queue_removable
from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, Interaction, MonitorMode
from ccgateway.domain.engine import Decision
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.figures import AgentFigures, QueueFigures
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.views import (
    AgentView,
    CallView,
    QueueStatus,
    agent_view,
    call_view,
    live_calls,
    queue_status,
)
from ccgateway.ports import (
    ChecksSounds,
    Clock,
    ConfigStore,
    InteractionQuery,
    InteractionStore,
    Trunked,
)
from ccgateway.services.dispatcher import Dispatcher


class CenterService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        config: ConfigStore,
        interactions: InteractionStore,
        clock: Clock,
    ) -> None:
        self._dispatcher = dispatcher
        self._center = dispatcher.center
        self._config = config
        self._interactions = interactions
        self._clock = clock

    # --- reads: the event loop runs one thing at a time, so a read is a consistent view --

    def skills(self) -> list[Skill]:
        return sorted(self._center.directory.skills.values(), key=lambda s: s.id)

    def skill(self, skill_id: str) -> Skill:
        return self._center.directory.skill(skill_id)

    def agents(self) -> list[AgentView]:
        now = self._clock.now()
        return [agent_view(self._center, a, now) for a in sorted(self._center.directory.agents)]

    def agent(self, agent_id: str) -> AgentView:
        return agent_view(self._center, agent_id, self._clock.now())

    def queues(self) -> list[Queue]:
        return sorted(self._center.directory.queues.values(), key=lambda q: q.id)

    def queue(self, queue_id: str) -> Queue:
        return self._center.directory.queue(queue_id)

    def queue_status(self, queue_id: str) -> QueueStatus:
        return queue_status(self._center, queue_id, self._clock.now())

    def calls(self) -> list[CallView]:
        return live_calls(self._center, self._clock.now())

    def figures(self, queue_id: str) -> QueueFigures:
        """Today's (UTC) figures of one queue; see domain/figures.py for the definitions."""
        self._center.directory.queue(queue_id)
        return self._dispatcher.figures.queue(queue_id)

    def agent_figures(self, agent_id: str) -> tuple[AgentFigures, float]:
        """Today's (UTC) figures of one agent, and their occupancy now."""
        view = agent_view(self._center, agent_id, self._clock.now())
        return self._dispatcher.figures.agent(agent_id), view.occupancy

    def decisions(
        self,
        call_id: str | None = None,
        agent_id: str | None = None,
        queue_id: str | None = None,
        limit: int = 100,
    ) -> list[Decision]:
        """The newest routing decisions first, filtered; the centre keeps the last 5000."""
        found: list[Decision] = []
        for decision in reversed(self._center.decisions):
            if call_id is not None and decision.call_id != call_id:
                continue
            if agent_id is not None and decision.agent_id != agent_id:
                continue
            if queue_id is not None and decision.queue_id != queue_id:
                continue
            found.append(decision)
            if len(found) >= limit:
                break
        return found

    def pbx_health(self) -> dict[str, bool]:
        """Each driven PBX and whether its link is up and its picture is loaded."""
        return {name: name in self._center.ready for name in self._dispatcher.pbxes}

    def database_available(self) -> bool:
        """False while the database is away and the writer keeps its writes."""
        return self._dispatcher.database_available

    def pbx_problems(self) -> dict[str, str]:
        """What a PBX that answers refuses (an AMI action its manager.conf does not allow);
        only adapters that can tell have a `problem`."""
        found = {
            name: getattr(pbx, "problem", None) for name, pbx in self._dispatcher.pbxes.items()
        }
        return {name: problem for name, problem in found.items() if isinstance(problem, str)}

    def pbx_owners(self) -> dict[str, str]:
        """The PBXs another controller owns (pbx/ownership.py): this one stays passive on
        them (sends nothing, offers nothing) and names the owner."""
        found = {
            name: getattr(pbx, "passive_to", None) for name, pbx in self._dispatcher.pbxes.items()
        }
        return {name: owner for name, owner in found.items() if isinstance(owner, str)}

    async def interactions(self, query: InteractionQuery) -> list[Interaction]:
        await self._dispatcher.drain_writes()  # a call that just ended is in it
        return await asyncio.to_thread(self._interactions.query, query)

    # --- configuration -------------------------------------------------------------------

    async def create_skill(self, skill: Skill) -> Skill:
        async def op(center: Center, now: float) -> tuple[Skill, list[Command]]:
            check_is_new(center, "skill", skill.id)
            return await self._save_skill(center, skill)

        return await self._dispatcher.perform(op)

    async def change_skill(self, skill_id: str, changes: Mapping[str, Any]) -> Skill:
        """`changes` merged into the skill as it is when the change runs (a PATCH)."""

        async def op(center: Center, now: float) -> tuple[Skill, list[Command]]:
            skill = dataclasses.replace(center.directory.skill(skill_id), **changes)
            return await self._save_skill(center, skill)

        return await self._dispatcher.perform(op)

    async def _save_skill(self, center: Center, skill: Skill) -> tuple[Skill, list[Command]]:
        center.directory.check_skill(skill)
        await asyncio.to_thread(self._config.put_skill, skill)
        center.put_skill(skill)
        return skill, []

    async def delete_skill(self, skill_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            center.directory.check_skill_removable(skill_id)
            await asyncio.to_thread(self._config.delete_skill, skill_id)
            center.remove_skill(skill_id)
            return None, []

        await self._dispatcher.perform(op)

    async def create_agent(self, agent: Agent) -> AgentView:
        async def op(center: Center, now: float) -> tuple[AgentView, list[Command]]:
            check_is_new(center, "agent", agent.id)
            return await self._save_agent(center, now, agent)

        return await self._dispatcher.perform(op)

    async def change_agent(self, agent_id: str, changes: Mapping[str, Any]) -> AgentView:
        """`changes` merged into the agent as it is when the change runs (a PATCH)."""

        async def op(center: Center, now: float) -> tuple[AgentView, list[Command]]:
            agent = dataclasses.replace(center.directory.agent(agent_id), **changes)
            return await self._save_agent(center, now, agent)

        return await self._dispatcher.perform(op)

    async def _save_agent(
        self, center: Center, now: float, agent: Agent
    ) -> tuple[AgentView, list[Command]]:
        self._check_pbx(agent.pbx)
        center.directory.check_agent(agent)
        await asyncio.to_thread(self._config.put_agent, agent)
        commands = center.put_agent(agent, now)
        return agent_view(center, agent.id, now), commands

    async def delete_agent(self, agent_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            center.check_agent_removable(agent_id)
            await asyncio.to_thread(self._config.delete_agent, agent_id)
            self._dispatcher.forget_presence(agent_id)
            return None, center.remove_agent(agent_id, now)

        await self._dispatcher.perform(op)

    async def create_queue(self, queue: Queue) -> Queue:
        async def op(center: Center, now: float) -> tuple[Queue, list[Command]]:
            check_is_new(center, "queue", queue.id)
            return await self._save_queue(center, now, queue)

        return await self._dispatcher.perform(op)

    async def change_queue(self, queue_id: str, changes: Mapping[str, Any]) -> Queue:
        """`changes` merged into the queue as it is when the change runs (a PATCH)."""

        async def op(center: Center, now: float) -> tuple[Queue, list[Command]]:
            queue = dataclasses.replace(center.directory.queue(queue_id), **changes)
            return await self._save_queue(center, now, queue)

        return await self._dispatcher.perform(op)

    async def _save_queue(
        self, center: Center, now: float, queue: Queue
    ) -> tuple[Queue, list[Command]]:
        self._check_pbx(queue.pbx)
        self._check_trunks(queue)
        self._check_sounds(queue)
        center.directory.check_queue(queue)
        await asyncio.to_thread(self._config.put_queue, queue)
        return queue, center.put_queue(queue, now)

    async def delete_queue(self, queue_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            check_queue_removable(center, queue_id)
            await asyncio.to_thread(self._config.delete_queue, queue_id)
            center.remove_queue(queue_id)
            return None, []

        await self._dispatcher.perform(op)

    # --- agent presence --------------------------------------------------------------------

    async def set_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, after_call: bool = False
    ) -> AgentView:
        async def op(center: Center, now: float) -> tuple[AgentView, list[Command]]:
            commands = center.set_agent_state(agent_id, state, reason, now, after_call)
            return agent_view(center, agent_id, now), commands

        return await self._dispatcher.perform(op)

    def _check_sounds(self, queue: Queue) -> None:
        """Every sound the queue names must mean something on its PBX (422 naming it)."""
        pbx = self._dispatcher.pbxes[queue.pbx]
        if not isinstance(pbx, ChecksSounds):
            return
        for setting, sound in queue.sounds():
            problem = pbx.sound_problem(sound)
            if problem is not None:
                raise InvalidValue(f"{setting} on {queue.pbx}: {problem}")

    def _check_trunks(self, queue: Queue) -> None:
        """Each PBX whose agents may take the queue's callers is driven and rings its
        agents for a trunk, and the queue's PBX has a trunk to it (422 saying which)."""
        pbx = self._dispatcher.pbxes[queue.pbx]
        for other in queue.trunked_pbxes:
            self._check_pbx(other)
            if not isinstance(pbx, Trunked) or not isinstance(
                self._dispatcher.pbxes[other], Trunked
            ):
                raise InvalidValue(
                    f"trunked_pbxes: {queue.pbx} and {other} cannot share agents over a trunk"
                )
            if not pbx.reaches(other):
                raise InvalidValue(
                    f"trunked_pbxes: {queue.pbx} has no trunk to {other} (its `trunks` "
                    "setting names none)"
                )

    def _check_pbx(self, name: str) -> None:
        if name not in self._dispatcher.pbxes:
            driven = ", ".join(sorted(self._dispatcher.pbxes))
            raise InvalidValue(f"pbx {name!r} is not one this controller drives ({driven})")

    async def change_call(
        self, call_id: str, priority: int | None, queue_id: str | None
    ) -> CallView:
        """A live call's priority and/or a waiting caller's queue; the move is checked
        first, so a refused move changes nothing."""

        async def op(center: Center, now: float) -> tuple[CallView, list[Command]]:
            commands: list[Command] = []
            if queue_id is not None:
                commands += center.move_call(call_id, queue_id, now)
            if priority is not None:
                commands += center.set_call_priority(call_id, priority, now)
            return call_view(center.calls[call_id], now), commands

        return await self._dispatcher.perform(op)

    async def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, center.monitor(call_id, supervisor_device, mode)

        await self._dispatcher.perform(op)


def load_center(
    center: Center, config: ConfigStore, now: float, log: Callable[[str], None] | None = None
) -> dict[str, tuple[AgentState, str | None]]:
    """Fill a fresh centre from the store: configuration, then each agent's saved presence;
    the presences as they were stored."""
    skills, agents, queues = config.load()
    for skill in skills:
        center.put_skill(skill)
    for agent in agents:
        center.put_agent(agent, now)
    for queue in queues:
        center.put_queue(queue, now, loading=True)
    presence = config.load_presence()
    for agent_id, (state, reason) in presence.items():
        if agent_id in center.status:
            center.restore_agent_state(agent_id, state, reason, now)
        elif log is not None:
            log(f"presence saved for unknown agent {agent_id}; ignored")
    return presence
