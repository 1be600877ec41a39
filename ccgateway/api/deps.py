"""The API's dependencies as `Annotated` aliases: the services, the key store, who is calling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ccgateway.api.auth import Authenticator, Permission, Principal
from ccgateway.api.errors import Unauthenticated
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


def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # A plain `def`: FastAPI runs it in its thread pool, so the key store's lookup does not
    # hold up the event loop.
    authenticator: Authenticator = request.app.state.authenticator
    if credentials is None:
        raise Unauthenticated()
    return authenticator.from_key(credentials.credentials)


def _needs(permission: Permission) -> Callable[[Principal], Principal]:
    def check(caller: Annotated[Principal, Depends(_caller)]) -> Principal:
        caller.require(permission)
        return caller

    return check


Service = Annotated[CenterService, Depends(_service)]
Work = Annotated[WorkService, Depends(_work)]
Dialer = Annotated[DialerService, Depends(_dialer)]
Keys = Annotated[KeyStore, Depends(_keys)]
Caller = Annotated[Principal, Depends(_caller)]  # any valid key; the route checks the rest
Reader = Annotated[Principal, Depends(_needs(Permission.READ))]
Configurer = Annotated[Principal, Depends(_needs(Permission.CONFIGURE))]
KeyManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
Monitorer = Annotated[Principal, Depends(_needs(Permission.MONITOR_CALLS))]
CallManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_CALLS))]
