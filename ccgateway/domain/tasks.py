"""Non-voice tasks (chats, emails, any work item) routed by the same engine as calls.

An integrator creates a task in a queue with a channel; the engine offers it to a free
qualified agent with room on that channel (AgentPolicy.capacity: e.g. 3 chats at once, and
voice exclusive: an agent with tasks gets no call and an agent on a call gets no task). The
agent accepts it within the queue's ring timeout (or it is taken back and the agent made not
ready, as for an unanswered call; a rejection counts the same), works on it and completes
it; the record says how long it waited and how long it was handled.

The PBX knows nothing of tasks, so every change is saved (SaveTask) and tasks are loaded
again at start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.commands import (
    Command,
    Interaction,
    Notify,
    Outcome,
    RecordInteraction,
    SaveTask,
)
from ccgateway.domain.engine import Match
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue, check_priority
from ccgateway.domain.records import LIVE_TASK, Task, TaskState
from ccgateway.domain.timers import TimerKind

T = TaskState


class TaskDesk:
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.tasks: dict[str, Task] = {}

    def create(
        self,
        queue: Queue,
        channel: str,
        priority: int,
        title: str,
        data: Mapping[str, str],
        now: float,
    ) -> tuple[Task, list[Command]]:
        check_priority(priority)
        task = Task(
            id="task-" + self.floor.new_id().removeprefix("ccgw-"),
            channel=channel,
            queue_id=queue.id,
            priority=priority,
            created_at=now,
            title=title,
            data=data,
            updated_at=now,
        )
        self._queue(task, now)
        return task, self._saved(task)

    def live(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"no open task {task_id!r}")
        return task

    # --- the agent's answers ----------------------------------------------------------------

    def offer(self, match: Match, now: float) -> list[Command]:
        task = self.tasks[match.call_id]
        queue = self.floor.directory.queues[task.queue_id]
        self.floor.engine.remove_call(task.id)
        self.floor.take_task(match.agent_id, task.id, task.channel, now)
        self.floor.decide(match.decision)
        offered = self._put(
            task,
            now,
            state=T.OFFERED,
            agent_id=match.agent_id,
            offered_at=now,
            offers=task.offers + 1,
        )
        self.floor.timers.set(TimerKind.TASK_OFFER, task.id, now + queue.ring_timeout_s)
        return [self.floor.agent_notice(match.agent_id), *self._saved(offered)]

    def accept(self, task_id: str, agent_id: str, now: float) -> list[Command]:
        task = self._offered_to(task_id, agent_id)
        self.floor.timers.cancel(TimerKind.TASK_OFFER, task.id)
        assigned = self._put(task, now, state=T.ASSIGNED, assigned_at=now)
        return self._saved(assigned)

    def reject(self, task_id: str, agent_id: str, now: float) -> list[Command]:
        """The agent turns the offer down: like an offer that was not answered."""
        task = self._offered_to(task_id, agent_id)
        return self._not_taken(task, "rejected", now)

    def complete(self, task_id: str, agent_id: str, now: float) -> list[Command]:
        task = self.live(task_id)
        if task.state is not T.ASSIGNED or task.agent_id != agent_id:
            raise Conflict(f"task {task_id} is not being worked on by {agent_id}")
        return self._end(task, T.COMPLETED, Outcome.COMPLETED, now)

    def answer(self, task_id: str, agent_id: str, answer: str, now: float) -> list[Command]:
        """An agent's `accept`, `reject` or `complete` of a task."""
        steps = {"accept": self.accept, "reject": self.reject, "complete": self.complete}
        if answer not in steps:
            raise InvalidValue(
                f"a task is answered with accept, reject or complete, not {answer!r}"
            )
        return steps[answer](task_id, agent_id, now)

    def cancel(self, task_id: str, now: float) -> list[Command]:
        """The integrator withdraws the task (the chat was abandoned, the email answered)."""
        task = self.live(task_id)
        self.floor.engine.remove_call(task.id)
        return self._end(task, T.CANCELLED, Outcome.CANCELLED, now)

    def fire(self, kind: TimerKind, task_id: str, now: float) -> list[Command]:
        task = self.tasks.get(task_id)
        if kind == TimerKind.TASK_OFFER and task is not None and task.state is T.OFFERED:
            return self._not_taken(task, "no_answer", now)
        return []

    def restore(self, saved: Iterable[Task], now: float) -> None:
        """Tasks saved before a restart: assigned ones go back to their agent; offered ones
        are offered again."""
        for task in saved:
            if task.state not in LIVE_TASK:
                continue
            agent_ok = task.agent_id is not None and task.agent_id in self.floor.status
            if task.state is T.ASSIGNED and agent_ok:
                assert task.agent_id is not None
                self.tasks[task.id] = task
                self.floor.take_task(task.agent_id, task.id, task.channel, now)
            else:
                self._queue(dataclasses.replace(task, state=T.WAITING, agent_id=None), now)

    def moved(self, task_id: str, queue_id: str, now: float) -> None:
        task = self.tasks.get(task_id)
        if task is not None:
            self._put(task, now, queue_id=queue_id)

    # --- helpers ----------------------------------------------------------------------------

    def _offered_to(self, task_id: str, agent_id: str) -> Task:
        task = self.live(task_id)
        if task.state is not T.OFFERED or task.agent_id != agent_id:
            raise Conflict(f"task {task_id} is not offered to {agent_id}")
        return task

    def _not_taken(self, task: Task, why: str, now: float) -> list[Command]:
        assert task.agent_id is not None
        agent_id = task.agent_id
        self.floor.timers.cancel(TimerKind.TASK_OFFER, task.id)
        self.floor.drop_task(agent_id, task.id, now)
        out: list[Command] = []
        if self.floor.status[agent_id].state is AgentState.AVAILABLE:
            reason = f"{self.floor.policy.no_answer_reason}: {why}"
            self.floor.apply(agent_id, Trigger.PAUSE, now, reason)
            out.append(self.floor.agent_notice(agent_id))
        waiting = self._queue(dataclasses.replace(task, state=T.WAITING, agent_id=None), now)
        return out + self._saved(waiting)

    def _end(self, task: Task, state: TaskState, outcome: Outcome, now: float) -> list[Command]:
        out: list[Command] = []
        self.floor.timers.cancel(TimerKind.TASK_OFFER, task.id)
        if task.agent_id is not None:
            self.floor.drop_task(task.agent_id, task.id, now)
            out.append(self.floor.agent_notice(task.agent_id))
        ended = dataclasses.replace(task, state=state, ended_at=now, updated_at=now)
        del self.tasks[task.id]
        start = task.assigned_at
        record = Interaction(
            call_id=task.id,
            queue_id=task.queue_id,
            agent_id=task.agent_id if start is not None else None,
            caller_number="",
            outcome=outcome,
            arrived_at=task.created_at,
            answered_at=start,
            ended_at=now,
            wait_s=round((start if start is not None else now) - task.created_at, 3),
            talk_s=round(now - start, 3) if start is not None else 0.0,
            offers=task.offers,
            detail=task.title,
            kind="task",
            channel=task.channel,
        )
        return [*out, RecordInteraction(record), *self._saved(ended)]

    def _queue(self, task: Task, now: float) -> Task:
        queued = self._put(task, now)
        self.floor.engine.add_call(
            task.id, task.queue_id, task.priority, task.created_at, now, channel=task.channel
        )
        return queued

    def _put(self, task: Task, now: float, **changes: object) -> Task:
        updated = dataclasses.replace(task, updated_at=now, **changes)  # type: ignore[arg-type]
        self.tasks[updated.id] = updated
        return updated

    def _saved(self, task: Task) -> list[Command]:
        notice = Notify(
            "task.state",
            {
                "task_id": task.id,
                "channel": task.channel,
                "queue_id": task.queue_id,
                "state": task.state.value,
                "agent_id": task.agent_id,
            },
        )
        return [SaveTask(task), notice]
