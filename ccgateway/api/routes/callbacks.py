"""Queued callbacks: the list, visible and editable, as integrators expect (the API side of
domain/callbacks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ccgateway.api.deps import CallManager, Reader, Work
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.work_schemas import CallbackIn, CallbackOut, CallbackPatch

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], route_class=GuardedRoute)


@router.get("")
async def list_callbacks(
    work: Work, _: Reader, queue_id: Annotated[str | None, Query(max_length=64)] = None
) -> list[CallbackOut]:
    """Callbacks still to be made (scheduled, waiting, being dialled), in the order they
    will be served: priority, then place."""
    return [CallbackOut.of(c) for c in work.callbacks(queue_id)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_callback(body: CallbackIn, work: Work, _: CallManager) -> CallbackOut:
    """A callback that joins the queue's line now (behind those already waiting), or at
    `not_before`; an agent is reserved first, then the number is dialled."""
    callback = await work.create_callback(
        body.queue_id, body.number, body.name, body.priority, body.not_before_epoch()
    )
    return CallbackOut.of(callback)


@router.get("/{callback_id}")
async def get_callback(callback_id: str, work: Work, _: Reader) -> CallbackOut:
    """A callback, still to be made or ended (done, not_reached, cancelled)."""
    return CallbackOut.of(await work.callback(callback_id))


@router.patch("/{callback_id}")
async def change_callback(
    callback_id: str, body: CallbackPatch, work: Work, _: CallManager
) -> CallbackOut:
    """Change the number, name, priority or time of a callback not being dialled yet."""
    return CallbackOut.of(await work.change_callback(callback_id, body.changes()))


@router.delete("/{callback_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_callback(callback_id: str, work: Work, _: CallManager) -> None:
    await work.cancel_callback(callback_id)
