from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ccgateway.api.auth import Authenticator, Permission
from ccgateway.api.errors import ApiError
from ccgateway.services.event_hub import EventHub

router = APIRouter(prefix="/v1", tags=["events"])


@router.websocket("/events")
async def events(websocket: WebSocket, after: int = 0, key: str | None = None) -> None:
    """Every state change as JSON `{seq, at, topic, data}`; reconnect with `?after=<seq>`.

    Authenticate with the `Authorization: Bearer` header or, for browsers, `?key=`.
    """
    authenticator: Authenticator = websocket.app.state.authenticator
    hub: EventHub = websocket.app.state.hub
    try:
        header = websocket.headers.get("authorization")
        caller = authenticator.from_key(key) if key else authenticator.from_header(header)
        caller.require(Permission.READ)
    except ApiError as exc:
        await websocket.close(code=4401 if exc.status == 401 else 4403, reason=str(exc))
        return
    await websocket.accept()
    try:
        async for item in hub.subscribe(after):
            await websocket.send_json(
                {"seq": item.seq, "at": item.at, "topic": item.topic, "data": item.data}
            )
    except WebSocketDisconnect:
        return
