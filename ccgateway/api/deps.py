"""The API's dependencies as `Annotated` aliases: the services, the key store, who is calling.

Who is calling: an `Authorization: Bearer <key>` header first; else the session cookie of a
person signed in (api/sessions.py). A change made with the cookie (any method but GET, HEAD,
OPTIONS) must carry the session's `X-CSRF-Token` and, if the browser sent an `Origin`, come
from our own origin: the cookie is sent by the browser on its own, the header only by our
pages. A bearer key is never sent on its own, so it needs neither.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from ccgateway.api.auth import Authenticator, Permission, Principal
from ccgateway.api.errors import CsrfRefused, Unauthenticated
from ccgateway.api.sessions import CSRF_HEADER, SESSION_COOKIE, ActiveSession, SessionManager
from ccgateway.domain.errors import NotFound
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.dialer_service import DialerService
from ccgateway.services.work_service import WorkService

# Only for OpenAPI's "Authorize" button and the header's parsing: a missing or malformed
# header is answered by our own 401 body, not by FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer <key>`")


# These are `async def` though none awaits: FastAPI runs a plain `def` dependency in a worker
# thread: a hop of about 0.1 ms of CPU (and a wait for the GIL) on every request
# (tests/api/test_request_path.py keeps every one of ours off the thread pool).
async def _service(request: Request) -> CenterService:
    service: CenterService = request.app.state.service
    return service


async def _work(request: Request) -> WorkService:
    work: WorkService = request.app.state.work
    return work


async def _dialer(request: Request) -> DialerService:
    dialer: DialerService = request.app.state.dialer
    return dialer


async def _keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


async def _sessions(request: Request) -> SessionManager:
    sessions: SessionManager = request.app.state.sessions
    return sessions


CALLER_KEY = "ccgateway.caller"  # the request's Principal, once found


async def authenticate(request: Request) -> Principal:
    """Who is calling, found once per request: `GuardedRoute` asks before the body is
    read, the routes' dependency gets the same answer."""
    known: Principal | None = request.scope.get(CALLER_KEY)
    if known is not None:
        return known
    # The key store's and the session store's lookups (and argon2) block: in a thread; the
    # settings' admin key is a compare in memory.
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() == "bearer" and token:
        authenticator: Authenticator = request.app.state.authenticator
        caller = authenticator.admin(token)
        if caller is None:
            caller = await asyncio.to_thread(authenticator.stored, token)
    else:
        session_token = request.cookies.get(SESSION_COOKIE)
        if not session_token:
            raise Unauthenticated()
        sessions = await _sessions(request)
        active = await asyncio.to_thread(sessions.session, session_token)
        if request.method not in SAFE_METHODS:
            check_csrf(request, active.csrf_token)
        caller = active.principal
    if caller.agent_id is not None:
        try:  # a key or account of a deleted agent acts for nobody
            (await _service(request)).agent(caller.agent_id)
        except NotFound as exc:
            raise Unauthenticated(f"agent {caller.agent_id!r} no longer exists") from exc
    request.scope[CALLER_KEY] = caller
    return caller


SESSION_KEY = "ccgateway.session"  # the cookie's ActiveSession, once found


async def signed_in(request: Request) -> ActiveSession:
    """The session of the cookie (401 without one), found once per request: a route that
    acts for the person themselves (their password), not for a role."""
    known: ActiveSession | None = request.scope.get(SESSION_KEY)
    if known is not None:
        return known
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("not signed in: POST /v1/session first")
    sessions = await _sessions(request)
    active = await asyncio.to_thread(sessions.session, token)
    request.scope[SESSION_KEY] = active
    return active


async def caller_dependency(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # `_bearer` only puts the key in the OpenAPI; `authenticate` reads the header itself.
    return await authenticate(request)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(request: Request, csrf_token: str) -> None:
    """A change made with the session cookie: our pages' header, from our own origin."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not (sent and hmac.compare_digest(sent.encode(), csrf_token.encode())):
        raise CsrfRefused(f"a change made with the session cookie needs its {CSRF_HEADER}")
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != own_origin(request):
        raise CsrfRefused(f"a request from {origin!r} may not use this site's session")


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def _needs(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(caller: Annotated[Principal, Depends(caller_dependency)]) -> Principal:
        caller.require(permission)
        return caller

    return check


Service = Annotated[CenterService, Depends(_service)]
Work = Annotated[WorkService, Depends(_work)]
Dialer = Annotated[DialerService, Depends(_dialer)]
Keys = Annotated[KeyStore, Depends(_keys)]
Sessions = Annotated[SessionManager, Depends(_sessions)]
SignedIn = Annotated[ActiveSession, Depends(signed_in)]
Caller = Annotated[
    Principal, Depends(caller_dependency)
]  # any valid key; the route checks the rest
Reader = Annotated[Principal, Depends(_needs(Permission.READ))]
Configurer = Annotated[Principal, Depends(_needs(Permission.CONFIGURE))]
KeyManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
Monitorer = Annotated[Principal, Depends(_needs(Permission.MONITOR_CALLS))]
CallManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_CALLS))]
FloorViewer = Annotated[Principal, Depends(_needs(Permission.VIEW_FLOOR))]  # wallboards too
AccountManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
DataController = Annotated[Principal, Depends(_needs(Permission.PERSONAL_DATA))]  # admins

# Paging: SQL's LIMIT and OFFSET are 64-bit; a bound here answers 422 where the database
# would overflow.
MAX_OFFSET = 1_000_000_000
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
