from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ccgateway.api.auth import Authenticator, Permission, Principal
from ccgateway.api.errors import ApiError, Unauthenticated
from ccgateway.services.event_hub import EventHub

router = APIRouter(prefix="/v1", tags=["events"])

# Close codes: 4000 + the HTTP status for a refused key; 1013 (try again later) for a reader
# too slow to keep up, who reconnects with `?after=` its last seq and misses nothing still
# in the hub's history.
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_FELL_BEHIND = 4401, 4403, 1013


@router.websocket("/events")
async def events(websocket: WebSocket, after: int = 0, key: str | None = None) -> None:
    """Every state change as JSON `{seq, at, topic, data}`; reconnect with `?after=<seq>`.

    Authenticate with the `Authorization: Bearer` header or, for browsers, `?key=` (which
    can end up in proxies' logs: prefer the header where you can). Needs a role that reads
    (admin, supervisor). Seqs start again at 1 when the controller restarts: an `after`
    beyond the newest seq is taken to be from before a restart, and the stream starts over.
    """
    authenticator: Authenticator = websocket.app.state.authenticator
    hub: EventHub = websocket.app.state.hub
    try:
        header = websocket.headers.get("authorization")
        caller = await asyncio.to_thread(_authenticate, authenticator, key, header)
        caller.require(Permission.READ)
    except ApiError as exc:
        code = CLOSE_UNAUTHENTICATED if isinstance(exc, Unauthenticated) else CLOSE_FORBIDDEN
        await websocket.close(code=code, reason=str(exc))
        return
    await websocket.accept()
    if after > hub.last_seq:
        after = 0
    # Two tasks, each ending the other: one streams the hub, one notices the client leaving
    # (so a quiet stream does not keep a dead subscriber). The TaskGroup owns them, also when
    # the server cancels this handler.
    async with asyncio.TaskGroup() as tasks:
        sending = tasks.create_task(_send(websocket, hub, after))
        watching = tasks.create_task(_until_closed(websocket))
        sending.add_done_callback(lambda _: watching.cancel())
        watching.add_done_callback(lambda _: sending.cancel())
    if not sending.cancelled() and sending.result():  # the hub cut this slow reader off
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(CLOSE_FELL_BEHIND, "fell behind: reconnect with ?after=<seq>")


def _authenticate(authenticator: Authenticator, key: str | None, header: str | None) -> Principal:
    return authenticator.from_key(key) if key else authenticator.from_header(header)


async def _send(websocket: WebSocket, hub: EventHub, after: int) -> bool:
    """Stream the hub; True when the hub ends the stream because this reader fell behind."""
    try:
        async for item in hub.subscribe(after):
            await websocket.send_json(
                {"seq": item.seq, "at": item.at, "topic": item.topic, "data": item.data}
            )
    except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
        return False
    return True


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice at once when it goes away."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
