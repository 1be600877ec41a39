"""The REST API: thin routes over `CenterService`, keys and roles, one error table."""

from __future__ import annotations

from fastapi import FastAPI

from ccgateway.api.auth import Authenticator
from ccgateway.api.errors import install_error_handlers
from ccgateway.api.routes import (
    agents,
    callbacks,
    calls,
    events,
    interactions,
    metrics,
    queues,
    skills,
    tasks,
)
from ccgateway.api.routes import keys as key_routes
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.event_hub import EventHub
from ccgateway.services.work_service import WorkService


def create_api(
    service: CenterService, keys: KeyStore, admin_key: str, hub: EventHub, work: WorkService
) -> FastAPI:
    app = FastAPI(
        title="ccgateway",
        version="0.1.0",
        description="Contact-centre controller: skills, agents, queues, live calls and "
        "history. Every endpoint needs `Authorization: Bearer <key>`.",
    )
    app.state.service = service
    app.state.work = work
    app.state.keys = keys
    app.state.hub = hub
    app.state.authenticator = Authenticator(admin_key, keys)
    install_error_handlers(app)
    routes = (skills, agents, queues, calls, callbacks, tasks, interactions, key_routes)
    for module in (*routes, events, metrics):
        app.include_router(module.router)
    return app
