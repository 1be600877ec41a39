"""The API's dependencies as `Annotated` aliases: the service, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from ccgateway.api.auth import Authenticator, Permission, Principal
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.event_hub import EventHub


def _service(request: Request) -> CenterService:
    service: CenterService = request.app.state.service
    return service


def _keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def _hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.hub
    return hub


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.from_header(authorization)


def _needs(permission: Permission):  # type: ignore[no-untyped-def]
    def check(caller: Annotated[Principal, Depends(_caller)]) -> Principal:
        caller.require(permission)
        return caller

    return check


Service = Annotated[CenterService, Depends(_service)]
Keys = Annotated[KeyStore, Depends(_keys)]
Hub = Annotated[EventHub, Depends(_hub)]
Caller = Annotated[Principal, Depends(_caller)]
Reader = Annotated[Principal, Depends(_needs(Permission.READ))]
Configurer = Annotated[Principal, Depends(_needs(Permission.CONFIGURE))]
KeyManager = Annotated[Principal, Depends(_needs(Permission.MANAGE_KEYS))]
Monitorer = Annotated[Principal, Depends(_needs(Permission.MONITOR_CALLS))]
