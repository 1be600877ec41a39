"""Non-voice tasks (chats, emails, cases): created by integrators, routed like calls,
accepted and completed by agents (the API side of domain/tasks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ccgateway.api.auth import Permission
from ccgateway.api.deps import Caller, CallManager, Work
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.work_schemas import TaskAnswerIn, TaskIn, TaskOut

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], route_class=GuardedRoute)


@router.get("")
async def list_tasks(
    work: Work,
    caller: Caller,
    queue_id: Annotated[str | None, Query(max_length=64)] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[TaskOut]:
    """Open tasks, oldest first; an agent's key sees its own."""
    if not caller.can(Permission.READ):
        if caller.agent_id is None or agent_id not in (None, caller.agent_id):
            raise Forbidden(f"this key acts only for agent {caller.agent_id!r}")
        agent_id = caller.agent_id
    return [TaskOut.of(t) for t in work.tasks(queue_id, agent_id)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_task(body: TaskIn, work: Work, _: CallManager) -> TaskOut:
    """A task in a queue's line on its channel; offered to a free qualified agent with room
    on that channel (who accepts it within the queue's ring timeout)."""
    task = await work.create_task(body.queue_id, body.channel, body.priority, body.title, body.data)
    return TaskOut.of(task)


@router.get("/{task_id}")
async def get_task(task_id: str, work: Work, caller: Caller) -> TaskOut:
    task = await work.task(task_id)
    if not caller.can(Permission.READ):
        caller.require_agent(task.agent_id or "")
    return TaskOut.of(task)


@router.post("/{task_id}/answer")
async def answer_task(task_id: str, body: TaskAnswerIn, work: Work, caller: Caller) -> TaskOut:
    """The agent accepts or rejects the offer (a rejection makes them not ready, like an
    unanswered call), or completes the task."""
    agent_id = body.agent_id or caller.agent_id
    if agent_id is None:
        raise Forbidden("give agent_id: this key belongs to no agent")
    caller.require_agent(agent_id, change_state=True)
    return TaskOut.of(await work.answer_task(task_id, agent_id, body.answer))


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_task(task_id: str, work: Work, _: CallManager) -> None:
    """Withdraw a task (the chat was abandoned, the email answered elsewhere)."""
    await work.cancel_task(task_id)
