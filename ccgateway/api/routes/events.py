from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from urllib.parse import unquote_plus

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from ccgateway.api.auth import Authenticator, Principal
from ccgateway.api.errors import ApiError, Forbidden, Unauthenticated
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.sessions import SESSION_COOKIE, SessionManager
from ccgateway.api.visibility import may_subscribe, visible
from ccgateway.services.event_hub import EventHub

router = APIRouter(prefix="/v1", tags=["events"], route_class=GuardedRoute)

# Close codes: 4000 + the HTTP status for a refusal; 1013 (try again later) for a reader too
# slow to keep up, who reconnects with `?after=` its last seq and misses nothing still in the
# hub's history; 1001 (going away) when the controller stops.
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN = 4401, 4403
CLOSE_FELL_BEHIND, CLOSE_GOING_AWAY = 1013, 1001
# How long a stopping controller waits for its streams to say goodbye before the server
# drops the connections.
GOODBYE_S = 1.0


class OpenStreams:
    """The streams being served, so that a stopping controller closes each with 1001."""

    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self._open = 0
        self._none_open = asyncio.Event()
        self._none_open.set()

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        self._open += 1
        self._none_open.clear()
        try:
            yield
        finally:
            self._open -= 1
            if self._open == 0:
                self._none_open.set()

    async def close_all(self, timeout_s: float = GOODBYE_S) -> None:
        """Tell every stream to close with 1001 and wait (bounded) until they have."""
        self.closing.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._none_open.wait()


def open_streams(app: FastAPI) -> OpenStreams:
    streams: OpenStreams | None = getattr(app.state, "streams", None)
    if streams is None:
        streams = app.state.streams = OpenStreams()
    return streams


@router.websocket("/events")
async def events(websocket: WebSocket, after: int = 0, key: str | None = None) -> None:
    """Every state change you may see, as JSON `{seq, at, topic, data}`; resume with `?after=<seq>`.

    Authenticate with, in order: the `Authorization: Bearer` header; `?key=` (for browsers;
    the controller's own logs show it as `key=***`, but proxies may log it: prefer the header
    where you can); the pages' `ccgw_session` cookie, whose `Origin` must then be this
    server's own (scheme://host), so that another site cannot open the stream with it.

    Who sees what: admin and supervisor everything; an agent key or login only the items of
    its own agent (its state, calls, transfers, callbacks, tasks, dials and previews); the
    wallboard role the floor (agent.state, call.state without the caller's number and name,
    call.ended, campaign.state). History replayed on `?after=` is filtered the same way.

    The server accepts, then closes with 4401 (no or unknown credentials), 4403 (may not:
    a cookie from a foreign origin, a role with nothing to see), 1013 (fell behind: reconnect
    with `?after=<last seq>`) or 1001 (the controller is stopping: reconnect later). Seqs
    start again at 1 when the controller restarts: an `after` beyond the newest seq is taken
    to be from before a restart, and the stream starts over.
    """
    hub: EventHub = websocket.app.state.hub
    streams = open_streams(websocket.app)
    # Accept before any refusal: a close before the handshake reaches the client as an HTTP
    # 403 with no close code, and the client could not tell 4401 from 4403.
    await websocket.accept()
    try:
        caller = await _authenticate(websocket, key)
        if not may_subscribe(caller):
            raise Forbidden(f"the {caller.role.value} role has no events to see")
    except ApiError as exc:
        refusal = CLOSE_UNAUTHENTICATED if isinstance(exc, Unauthenticated) else CLOSE_FORBIDDEN
        await _close(websocket, refusal, str(exc))
        return
    if streams.closing.is_set():
        await _close(websocket, CLOSE_GOING_AWAY, "the controller is stopping")
        return
    if after > hub.last_seq:
        after = 0
    with streams.serving():
        code, reason = await _stream(websocket, hub, caller, after, streams.closing)
        if code is not None:
            await _close(websocket, code, reason)


async def _stream(
    websocket: WebSocket, hub: EventHub, caller: Principal, after: int, closing: asyncio.Event
) -> tuple[int | None, str]:
    """Stream until the client leaves, the hub cuts it off or the controller stops; the close
    code to send (None when the client has gone)."""
    # Three tasks, the first to end ends the others: one streams the hub, one notices the
    # client leaving (so a quiet stream does not keep a dead subscriber), one the controller
    # stopping. The TaskGroup owns them, also when the server cancels this handler.
    async with asyncio.TaskGroup() as tasks:
        sending = tasks.create_task(_send(websocket, hub, caller, after))
        watching = tasks.create_task(_until_closed(websocket))
        stopping = tasks.create_task(closing.wait())
        for task in (sending, watching, stopping):
            task.add_done_callback(lambda _: _cancel(sending, watching, stopping))
    if not stopping.cancelled():
        return CLOSE_GOING_AWAY, "the controller is stopping"
    if not sending.cancelled() and sending.result():
        return CLOSE_FELL_BEHIND, "fell behind: reconnect with ?after=<seq>"
    return None, ""


def _cancel(*tasks: asyncio.Task[object]) -> None:
    for task in tasks:
        task.cancel()


async def _authenticate(websocket: WebSocket, key: str | None) -> Principal:
    """The caller from the header, the key parameter or the session cookie, in that order."""
    authenticator: Authenticator = websocket.app.state.authenticator
    header = websocket.headers.get("authorization")
    if header:
        return await asyncio.to_thread(authenticator.from_header, header)
    if key:
        return await asyncio.to_thread(authenticator.from_key, key)
    token = websocket.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated()
    # The browser sends the cookie whichever site opens the socket (WebSockets have no
    # same-origin rule): only our own pages may use it.
    if websocket.headers.get("origin", "").lower() != _own_origin(websocket):
        raise Forbidden("a session may open the stream only from this server's own pages")
    sessions: SessionManager = websocket.app.state.sessions
    return await asyncio.to_thread(sessions.principal_for, token)


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _own_origin(websocket: WebSocket) -> str:
    """This request's own origin, as a browser would write it: http(s)://host[:port]."""
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    host = websocket.headers.get("host", "").lower().removesuffix(_DEFAULT_PORTS[scheme])
    return f"{scheme}://{host}"


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    reason = reason.encode()[:123].decode(errors="ignore")  # a close frame's limit, in bytes
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the client already left
        await websocket.close(code, reason)


async def _send(websocket: WebSocket, hub: EventHub, caller: Principal, after: int) -> bool:
    """Stream what the caller may see; True when the hub ends the stream because this reader
    fell behind."""
    try:
        async for item in hub.subscribe(after):
            message = visible(caller, item)
            if message is not None:
                await websocket.send_json(message)
    except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
        return False
    return True


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice at once when it goes away."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


# --- the key parameter never reaches a log ----------------------------------------------------

_QUERY_PARAM = re.compile(r"(?<=[?&])([^=&\s\"]+)=([^&\s]*)")


def hide_key_parameters(text: str) -> str:
    """`text` with the value of every `key=` query parameter replaced by `***`."""

    def hide(match: re.Match[str]) -> str:
        if unquote_plus(match.group(1)).lower() != "key":
            return match.group(0)
        return f"{match.group(1)}=***"

    return _QUERY_PARAM.sub(hide, text)


class KeyParameterFilter(logging.Filter):
    """Rewrites `key=<anything>` in a log record's message and arguments to `key=***`.

    uvicorn writes the path with its query string into the access log (HTTP requests) and
    into its error log (a WebSocket's "accepted" line); the arguments are rewritten in place
    so that uvicorn's own formatters still find them where they expect them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = hide_key_parameters(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                hide_key_parameters(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def hide_keys_in_server_logs() -> None:
    """Install the filter on uvicorn's loggers (after uvicorn has configured its logging)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, KeyParameterFilter) for f in logger.filters):
            logger.addFilter(KeyParameterFilter())
