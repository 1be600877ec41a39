"""The REST API: thin routes over `CenterService`, keys and roles, one error table."""

from __future__ import annotations

from fastapi import FastAPI

from ccgateway.api.auth import Authenticator
from ccgateway.api.errors import install_error_handlers
from ccgateway.api.routes import agents, calls, events, interactions, metrics, queues, skills
from ccgateway.api.routes import keys as key_routes
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.event_hub import EventHub


def create_api(service: CenterService, keys: KeyStore, admin_key: str, hub: EventHub) -> FastAPI:
    app = FastAPI(
        title="ccgateway",
        version="0.1.0",
        description="Contact-centre controller: skills, agents, queues, live calls and "
        "history. Every endpoint needs `Authorization: Bearer <key>`.",
    )
    app.state.service = service
    app.state.keys = keys
    app.state.hub = hub
    app.state.authenticator = Authenticator(admin_key, keys)
    install_error_handlers(app)
    for module in (skills, agents, queues, calls, interactions, key_routes, events, metrics):
        app.include_router(module.router)
    return app
