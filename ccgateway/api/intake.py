"""What a request may bring in, checked before a route uses it: a bounded body, a caller known
before the body is read, and JSON whose text can be stored and read back.

    BodyLimit       a pure ASGI middleware: a body past the limit (by its Content-Length,
                    or counted as it streams) is refused with 413 too-large the moment a
                    route starts to read it; a route that takes files raises its own limit
                    with `allow_body` before reading
    GuardedRoute    every route of ours: a route that needs a caller authenticates before
                    FastAPI reads the body (an unknown caller's body is never read), and a
                    JSON body is parsed once (NaN and Infinity refused: not JSON, though
                    Python reads them) and checked by `check_storable`
    check_storable  no lone UTF-16 surrogate ("\\ud800": JSON can say it, UTF-8 cannot
                    store it, so every later read of it would fail) and no NUL (PostgreSQL
                    text cannot hold it), in any string, dict key or nested value: 422
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccgateway.api.deps import authenticate, caller_dependency, signed_in
from ccgateway.api.errors import error_body
from ccgateway.domain.errors import InvalidValue

MB = 1_000_000
MAX_JSON_BYTES = 1 * MB  # the largest JSON body; files have their own limits (allow_body)
BODY_LIMIT_KEY = "ccgateway.body_limit"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over the limit of {limit / MB:g} MB")


def allow_body(request: Request, limit: int) -> None:
    """Let this request's body be up to `limit` bytes (a route that takes a file)."""
    request.scope[BODY_LIMIT_KEY] = limit


class BodyLimit:
    """Refuses a body over the limit before it is read: by its declared Content-Length at
    the first read, and by the bytes counted as they stream in (chunked bodies too)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[BODY_LIMIT_KEY] = self.limit
        declared = _content_length(scope)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            limit: int = scope[BODY_LIMIT_KEY]  # as the route left it
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:
            # Routes' errors are answered by the API's handlers; this is for a read outside
            # any route, so that the refusal is still our usual body.
            if started:
                raise
            await _send_refusal(send, exc)


def _content_length(scope: Scope) -> int | None:
    declared = Headers(scope=scope).get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def _send_refusal(send: Send, exc: BodyTooLarge) -> None:
    body = json.dumps(error_body("too-large", str(exc.detail))).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# A route's dependency that says who is calling -> the same check, run before the body.
IDENTIFY: dict[Callable[..., Any], Callable[[Request], Awaitable[object]]] = {
    caller_dependency: authenticate,
    signed_in: signed_in,
}


class GuardedRoute(APIRoute):
    """The route class of every router of ours (`APIRouter(route_class=GuardedRoute)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        # Who is asking, before the body: each is remembered for the route's dependency.
        identify = [check for call, check in IDENTIFY.items() if _depends_on(self.dependant, call)]
        reads_body = self.body_field is not None

        async def guarded(request: Request) -> Response:
            for check in identify:
                await check(request)
            if reads_body and _is_json(request):
                request = _CheckedRequest(request.scope, request.receive)
                with contextlib.suppress(ValueError, RecursionError):
                    await request.json()  # not JSON: FastAPI answers it as it always does
            return await handle(request)

        return guarded


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _is_json(request: Request) -> bool:
    """As FastAPI decides to parse a body as JSON: application/json or application/*+json."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class _CheckedRequest(Request):
    """A request whose JSON body is parsed once and checked before any model sees it."""

    _checked: Any

    async def json(self) -> Any:
        if not hasattr(self, "_checked"):
            parsed = json.loads(await self.body(), parse_constant=_refuse_constant)
            check_storable(parsed)
            self._checked = parsed
        return self._checked


def _refuse_constant(name: str) -> None:
    # Python's json reads NaN and Infinity, which JSON has not: no number may be either.
    error = {"type": "not_json", "loc": ("body",), "msg": f"{name} is not a JSON number"}
    raise RequestValidationError([{**error, "input": None}])


def check_storable(value: Any) -> None:
    """Raises InvalidValue (422 invalid-value, as the domain's text checks do) at the first
    string, key or nested value that holds a lone surrogate or a NUL; walks without
    recursion (JSON may nest deep)."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [(("body",), value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            _check_text(item, path, "text")
        elif isinstance(item, dict):
            for key, nested in item.items():
                _check_text(key, (*path, key), "key")
                pending.append(((*path, key), nested))
        elif isinstance(item, list):
            pending.extend(((*path, i), nested) for i, nested in enumerate(item))


def _check_text(text: str, path: tuple[str | int, ...], what: str) -> None:
    if text.isascii() and "\x00" not in text:
        return
    problem = None
    if "\x00" in text:
        problem = f"the {what} holds a NUL character (\\u0000), which cannot be stored"
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(text[exc.start])
            problem = (
                f"the {what} holds a lone UTF-16 surrogate (\\u{code:04x}) at character "
                f"{exc.start}: not Unicode text, so it cannot be stored"
            )
    if problem is not None:
        field = ".".join(
            p.encode(errors="replace").decode() if isinstance(p, str) else str(p) for p in path
        )
        raise InvalidValue(f"{field}: {problem}")
