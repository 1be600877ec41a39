"""What a pair's standby controller serves while it waits for the lease (services/lease.py).

`GET /v1/health` answers 503 (a load balancer sends it nothing) and says who is active, with
no key needed: it names only controllers, never data. Every other request is forwarded to the
active controller's advertised URL, read from the lease, and its answer handed back as it
comes: not redirected, since a client drops its Authorization header on a redirect to another
origin (another port is one). While no controller is active (the lease expired and not yet
taken, or this one is taking it over) or the active cannot be reached, the answer is 503 with
Retry-After. An event stream's WebSocket is closed with 1013 (try again later): a client
reconnects, through its balancer, to the active one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response

from ccgateway.ports import LeaseHolder

HEALTH = "/v1/health"
FORWARD_TIMEOUT_S = 30.0
# Headers of one hop, not handed on (RFC 9110 7.6.1); the length is made again.
HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
       b"trailer", b"transfer-encoding", b"upgrade", b"content-length"}  # fmt: skip


class StandbyApp:
    """An ASGI app over the keeper's view of the holder (`active()`): health and redirects."""

    def __init__(self, node: str, active: Callable[[], LeaseHolder | None]) -> None:
        self.node = node
        self._active = active
        self._client = httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _live_other(self) -> LeaseHolder | None:
        holder = self._active()
        if holder is None or not holder.live or holder.node == self.node:
            return None  # nobody active yet, or this one, still taking over
        return holder

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})
            return
        if scope["type"] != "http":
            return
        holder = self._live_other()
        response: Response
        if scope["path"] == HEALTH:
            response = JSONResponse(
                {
                    "role": "standby",
                    "node": self.node,
                    "active": None
                    if holder is None
                    else {"node": holder.node, "epoch": holder.epoch, "url": holder.url},
                },
                status_code=503,
            )
        elif holder is None or not holder.url:
            response = JSONResponse(
                {"error_id": "no-active-controller", "detail": "no controller is active yet"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        else:
            await self._forward(scope, receive, send, holder.url)
            return
        await response(scope, receive, send)

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any, url: str) -> None:
        """The request to the active controller at `url`, its answer streamed back."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope.get("query_string", b"").decode("latin-1")
        target = url.rstrip("/") + scope["path"] + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", str(client[0]).encode()))
        request = self._client.build_request(
            scope["method"], target, headers=headers, content=bytes(body)
        )
        try:
            answer = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            unreachable = JSONResponse(
                {"error_id": "no-active-controller", "detail": f"the active is unreachable: {exc}"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
            await unreachable(scope, receive, send)
            return
        try:
            kept = [
                (k, v) for k, v in answer.headers.raw if k.lower() not in HOP - {b"content-length"}
            ]
            await send(
                {"type": "http.response.start", "status": answer.status_code, "headers": kept}
            )
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await answer.aclose()
