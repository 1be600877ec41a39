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

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ccgateway.api.auth import Authenticator, Permission, Principal
from ccgateway.api.errors import CsrfRefused, Unauthenticated
from ccgateway.api.sessions import CSRF_HEADER, SESSION_COOKIE, SessionManager
from ccgateway.domain.errors import NotFound
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.dialer_service import DialerService
from ccgateway.services.work_service import WorkService

# Only for OpenAPI's "Authorize" button and the header's parsing: a missing or malformed
# header is answered by our own 401 body, not by FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer <key>`")


def _service(request: Request) -> CenterService:
    service: CenterService = request.app.state.service
    return service


def _work(request: Request) -> WorkService:
    work: WorkService = request.app.state.work
    return work


def _dialer(request: Request) -> DialerService:
    dialer: DialerService = request.app.state.dialer
    return dialer


def _keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def _sessions(request: Request) -> SessionManager:
    sessions: SessionManager = request.app.state.sessions
    return sessions


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # The key store's and the session store's lookups (and argon2) block: in a thread.
    if credentials is not None:
        authenticator: Authenticator = request.app.state.authenticator
        caller = await asyncio.to_thread(authenticator.from_key, credentials.credentials)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthenticated()
        active = await asyncio.to_thread(_sessions(request).session, token)
        if request.method not in SAFE_METHODS:
            check_csrf(request, active.csrf_token)
        caller = active.principal
    if caller.agent_id is not None:
        try:  # a key or account of a deleted agent acts for nobody
            _service(request).agent(caller.agent_id)
        except NotFound as exc:
            raise Unauthenticated(f"agent {caller.agent_id!r} no longer exists") from exc
    return caller


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
    async def check(caller: Annotated[Principal, Depends(_caller)]) -> Principal:
        caller.require(permission)
        return caller

    return check


Service = Annotated[CenterService, Depends(_service)]
Work = Annotated[WorkService, Depends(_work)]
Dialer = Annotated[DialerService, Depends(_dialer)]
Keys = Annotated[KeyStore, Depends(_keys)]
Sessions = Annotated[SessionManager, Depends(_sessions)]
Caller = Annotated[Principal, Depends(_caller)]  # any valid key; the route checks the rest
Reader = Annotated[Principal, Depends(_needs(Permission.READ))]
Configurer = Annotated[Principal, Depends(_needs(Permission.CONFIGURE))]
KeyManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
Monitorer = Annotated[Principal, Depends(_needs(Permission.MONITOR_CALLS))]
CallManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_CALLS))]
FloorViewer = Annotated[Principal, Depends(_needs(Permission.VIEW_FLOOR))]  # wallboards too
AccountManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
