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
from ccgateway.persistence.mapping import columns_of, from_row, stored
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import CallbackRow, TaskRow


class SqlCallbackStore(SqlStore):
    def save(self, callback: Callback) -> None:
        with self._writing(f"callback {callback.id}") as session:
            session.merge(CallbackRow(**columns_of(callback, state=callback.state.value)))

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

    def of_number(self, number: str, limit: int) -> list[Callback]:
        """Every callback (live or ended) to the number, newest first."""
        statement = (
            select(CallbackRow)
            .where(CallbackRow.number == number)
            .order_by(CallbackRow.created_at.desc(), CallbackRow.id.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [_callback(r) for r in session.scalars(statement)]


class SqlTaskStore(SqlStore):
    def save(self, task: Task) -> None:
        with self._writing(f"task {task.id}") as session:
            session.merge(
                TaskRow(
                    **columns_of(
                        task,
                        state=task.state.value,
                        data=json.dumps(dict(task.data), sort_keys=True),
                    )
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
    return from_row(Callback, r, state=stored(CallbackState, r.state, f"callback {r.id}: state"))


def _task(r: TaskRow) -> Task:
    return from_row(
        Task,
        r,
        data=json.loads(r.data or "{}"),
        state=stored(TaskState, r.state, f"task {r.id}: state"),
    )
