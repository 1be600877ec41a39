"""The REST API: thin routes over `CenterService`, `WorkService` and `DialerService`, keys
and roles, one error table."""

from __future__ import annotations

from fastapi import FastAPI

from ccgateway.api.auth import Authenticator
from ccgateway.api.errors import install_error_handlers
from ccgateway.api.routes import (
    agents,
    callbacks,
    calls,
    campaigns,
    contact_lists,
    events,
    interactions,
    metrics,
    queues,
    rule_sets,
    skills,
    tasks,
)
from ccgateway.api.routes import dialer as dialer_routes
from ccgateway.api.routes import keys as key_routes
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.dialer_service import DialerService
from ccgateway.services.event_hub import EventHub
from ccgateway.services.work_service import WorkService


def create_api(
    service: CenterService,
    keys: KeyStore,
    admin_key: str,
    hub: EventHub,
    work: WorkService,
    dialer: DialerService,
) -> FastAPI:
    app = FastAPI(
        title="ccgateway",
        version="0.1.0",
        description="Contact-centre controller: skills, agents, queues, live calls and "
        "history; outbound campaigns (the predictive dialer). Every endpoint needs "
        "`Authorization: Bearer <key>`.",
    )
    app.state.service = service
    app.state.work = work
    app.state.dialer = dialer
    app.state.keys = keys
    app.state.hub = hub
    app.state.authenticator = Authenticator(admin_key, keys)
    install_error_handlers(app)
    routes = (skills, agents, queues, calls, callbacks, tasks, interactions, key_routes)
    dialing = (rule_sets, campaigns, contact_lists, dialer_routes)
    for module in (*routes, *dialing, events, metrics):
        app.include_router(module.router)
    return app
