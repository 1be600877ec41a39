"""The use cases behind the API for live work: transfers, queued callbacks, non-voice tasks.

Like CenterService, every change runs inside the dispatcher (between two events), so it is
checked against the live centre and its commands are carried out in order; reads are of the
centre itself (the event loop runs one thing at a time) or, for ended work, of the stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, SaveTask
from ccgateway.domain.errors import NotFound
from ccgateway.domain.records import Callback, Task
from ccgateway.domain.transfers import TransferTarget
from ccgateway.domain.views import CallView, call_view
from ccgateway.ports import CallbackStore, TaskStore
from ccgateway.services.dispatcher import Dispatcher


class WorkService:
    def __init__(self, dispatcher: Dispatcher, callbacks: CallbackStore, tasks: TaskStore) -> None:
        self._dispatcher = dispatcher
        self._center = dispatcher.center
        self._callbacks = callbacks
        self._tasks = tasks

    # --- transfers ---------------------------------------------------------------------

    async def transfer(
        self, call_id: str, target: TransferTarget, attended: bool
    ) -> CallView | None:
        """The call as it stands after the transfer began (None: it left the centre)."""

        async def op(center: Center, now: float) -> tuple[CallView | None, list[Command]]:
            commands = center.transfer(call_id, target, attended, now)
            call = center.calls.get(call_id)
            return (call_view(call, now) if call else None), commands

        return await self._dispatcher.perform(op)

    async def finish_transfer(self, call_id: str, how: str) -> CallView | None:
        async def op(center: Center, now: float) -> tuple[CallView | None, list[Command]]:
            commands = center.finish_transfer(call_id, how, now)
            call = center.calls.get(call_id)
            return (call_view(call, now) if call else None), commands

        return await self._dispatcher.perform(op)

    # --- callbacks ---------------------------------------------------------------------

    def callbacks(self, queue_id: str | None = None) -> list[Callback]:
        """Callbacks still to be made, in the order of their places."""
        live = self._center.callbacks.callbacks.values()
        found = [c for c in live if queue_id is None or c.queue_id == queue_id]
        return sorted(found, key=lambda c: (-c.priority, c.placed_at, c.id))

    async def callback(self, callback_id: str) -> Callback:
        live = self._center.callbacks.callbacks.get(callback_id)
        if live is not None:
            return live
        await self._dispatcher.drain_writes()  # its last change may still be on its way
        saved = await asyncio.to_thread(self._callbacks.get, callback_id)
        if saved is None:
            raise NotFound(f"no callback {callback_id!r}")
        return saved

    async def request_callback(self, call_id: str, number: str | None) -> Callback:
        """A waiting caller is to be called back: they hang up, the callback keeps their place."""

        async def op(center: Center, now: float) -> tuple[Callback, list[Command]]:
            commands = center.request_callback(call_id, number, now)
            [made] = [c for c in center.callbacks.callbacks.values() if c.origin_call_id == call_id]
            return made, commands

        return await self._dispatcher.perform(op)

    async def create_callback(
        self,
        queue_id: str,
        number: str,
        name: str,
        priority: int | None,
        not_before: float | None,
    ) -> Callback:
        async def op(center: Center, now: float) -> tuple[Callback, list[Command]]:
            return center.create_callback(queue_id, number, name, priority, not_before, now)

        return await self._dispatcher.perform(op)

    async def change_callback(self, callback_id: str, changes: Mapping[str, object]) -> Callback:
        async def op(center: Center, now: float) -> tuple[Callback, list[Command]]:
            return center.change_callback(callback_id, dict(changes), now)

        return await self._dispatcher.perform(op)

    async def cancel_callback(self, callback_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, center.cancel_callback(callback_id, now)

        await self._dispatcher.perform(op)

    # --- tasks -------------------------------------------------------------------------

    def tasks(self, queue_id: str | None = None, agent_id: str | None = None) -> list[Task]:
        """Open tasks, oldest first."""
        found = [
            t
            for t in self._center.tasks.tasks.values()
            if (queue_id is None or t.queue_id == queue_id)
            and (agent_id is None or t.agent_id == agent_id)
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    async def task(self, task_id: str) -> Task:
        live = self._center.tasks.tasks.get(task_id)
        if live is not None:
            return live
        await self._dispatcher.drain_writes()
        saved = await asyncio.to_thread(self._tasks.get, task_id)
        if saved is None:
            raise NotFound(f"no task {task_id!r}")
        return saved

    async def create_task(
        self,
        queue_id: str,
        channel: str,
        priority: int | None,
        title: str,
        data: Mapping[str, str],
    ) -> Task:
        async def op(center: Center, now: float) -> tuple[Task, list[Command]]:
            task, commands = center.create_task(queue_id, channel, priority, title, dict(data), now)
            return center.tasks.tasks.get(task.id, task), commands

        return await self._dispatcher.perform(op)

    async def answer_task(self, task_id: str, agent_id: str, answer: str) -> Task:
        async def op(center: Center, now: float) -> tuple[Task, list[Command]]:
            commands = center.answer_task(task_id, agent_id, answer, now)
            return _saved_task(commands, task_id), commands

        return await self._dispatcher.perform(op)

    async def cancel_task(self, task_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, center.cancel_task(task_id, now)

        await self._dispatcher.perform(op)


def _saved_task(commands: list[Command], task_id: str) -> Task:
    """The task as the commands leave it (the last snapshot they save)."""
    return [c.task for c in commands if isinstance(c, SaveTask) and c.task.id == task_id][-1]
