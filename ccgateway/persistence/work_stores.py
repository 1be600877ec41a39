"""Stores for the work the PBX cannot remember for us: queued callbacks and non-voice tasks.

Each save replaces the row whole (one transaction), so the row is always one consistent
snapshot of a frozen domain record; ended ones stay as history.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from ccgateway.domain.records import (
    LIVE_CALLBACK,
    LIVE_TASK,
    Callback,
    CallbackState,
    Task,
    TaskState,
)
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import CallbackRow, TaskRow


class SqlCallbackStore(SqlStore):
    def save(self, callback: Callback) -> None:
        with self._writing(f"callback {callback.id}") as session:
            session.merge(
                CallbackRow(
                    id=callback.id,
                    queue_id=callback.queue_id,
                    number=callback.number,
                    name=callback.name,
                    priority=callback.priority,
                    placed_at=callback.placed_at,
                    created_at=callback.created_at,
                    state=callback.state.value,
                    not_before=callback.not_before,
                    attempts=callback.attempts,
                    agent_id=callback.agent_id,
                    leg_id=callback.leg_id,
                    pbx=callback.pbx,
                    origin_call_id=callback.origin_call_id,
                    result=callback.result,
                    answered_at=callback.answered_at,
                    updated_at=callback.updated_at,
                )
            )

    def live(self) -> list[Callback]:
        """Callbacks not yet done, not reached or cancelled, oldest place first."""
        states = [s.value for s in LIVE_CALLBACK]
        statement = (
            select(CallbackRow)
            .where(CallbackRow.state.in_(states))
            .order_by(CallbackRow.placed_at, CallbackRow.id)
        )
        with self._sessions() as session:
            return [_callback(r) for r in session.scalars(statement)]

    def get(self, callback_id: str) -> Callback | None:
        with self._sessions() as session:
            row = session.get(CallbackRow, callback_id)
            return None if row is None else _callback(row)


class SqlTaskStore(SqlStore):
    def save(self, task: Task) -> None:
        with self._writing(f"task {task.id}") as session:
            session.merge(
                TaskRow(
                    id=task.id,
                    channel=task.channel,
                    queue_id=task.queue_id,
                    priority=task.priority,
                    created_at=task.created_at,
                    title=task.title,
                    data=json.dumps(dict(task.data), sort_keys=True),
                    state=task.state.value,
                    agent_id=task.agent_id,
                    offered_at=task.offered_at,
                    assigned_at=task.assigned_at,
                    ended_at=task.ended_at,
                    offers=task.offers,
                    updated_at=task.updated_at,
                )
            )

    def live(self) -> list[Task]:
        states = [s.value for s in LIVE_TASK]
        statement = (
            select(TaskRow)
            .where(TaskRow.state.in_(states))
            .order_by(TaskRow.created_at, TaskRow.id)
        )
        with self._sessions() as session:
            return [_task(r) for r in session.scalars(statement)]

    def get(self, task_id: str) -> Task | None:
        with self._sessions() as session:
            row = session.get(TaskRow, task_id)
            return None if row is None else _task(row)


def _callback(r: CallbackRow) -> Callback:
    return Callback(
        id=r.id,
        queue_id=r.queue_id,
        number=r.number,
        name=r.name,
        priority=r.priority,
        placed_at=r.placed_at,
        created_at=r.created_at,
        state=CallbackState(r.state),
        not_before=r.not_before,
        attempts=r.attempts,
        agent_id=r.agent_id,
        leg_id=r.leg_id,
        pbx=r.pbx,
        origin_call_id=r.origin_call_id,
        result=r.result,
        answered_at=r.answered_at,
        updated_at=r.updated_at,
    )


def _task(r: TaskRow) -> Task:
    return Task(
        id=r.id,
        channel=r.channel,
        queue_id=r.queue_id,
        priority=r.priority,
        created_at=r.created_at,
        title=r.title,
        data=json.loads(r.data or "{}"),
        state=TaskState(r.state),
        agent_id=r.agent_id,
        offered_at=r.offered_at,
        assigned_at=r.assigned_at,
        ended_at=r.ended_at,
        offers=r.offers,
        updated_at=r.updated_at,
    )
