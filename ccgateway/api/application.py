"""The REST API as one FastAPI app: its routes, keys and roles, one error table."""

from __future__ import annotations

from fastapi import FastAPI

from ccgateway.api.auth import Authenticator
from ccgateway.api.errors import install_error_handlers
from ccgateway.api.intake import MAX_JSON_BYTES, BodyLimit
from ccgateway.api.routes import (
    agents,
    callbacks,
    calls,
    campaigns,
    contact_lists,
    directory,
    events,
    interactions,
    metrics,
    queues,
    rule_sets,
    skills,
    tasks,
)
from ccgateway.api.routes import dialer as dialer_routes
from ccgateway.api.routes import history as history_routes
from ccgateway.api.routes import keys as key_routes
from ccgateway.api.routes import privacy as privacy_routes
from ccgateway.api.routes import recordings as recording_routes
from ccgateway.api.routes import reports as report_routes
from ccgateway.api.routes import retention as retention_routes
from ccgateway.api.routes import session as session_routes
from ccgateway.api.routes import users as user_routes
from ccgateway.api.routes import webhooks as webhook_routes
from ccgateway.api.sessions import SessionManager
from ccgateway.ports import KeyStore
from ccgateway.services.center_service import CenterService
from ccgateway.services.dialer_service import DialerService
from ccgateway.services.event_hub import EventHub
from ccgateway.services.history_service import HistoryService
from ccgateway.services.privacy_service import PrivacyService
from ccgateway.services.recording_service import RecordingService
from ccgateway.services.reports import ReportService
from ccgateway.services.retention_service import RetentionService
from ccgateway.services.webhooks import WebhookService
from ccgateway.services.work_service import WorkService
from ccgateway.ui import router as ui_routes
from ccgateway.ui.security import SecurityHeaders


def create_api(
    service: CenterService,
    keys: KeyStore,
    admin_key: str,
    hub: EventHub,
    work: WorkService,
    dialer: DialerService,
    sessions: SessionManager,
    history: HistoryService | None = None,
    privacy: PrivacyService | None = None,
    retention: RetentionService | None = None,
    recordings: RecordingService | None = None,
    max_body_bytes: int = MAX_JSON_BYTES,
    reports: ReportService | None = None,
    webhooks: WebhookService | None = None,
) -> FastAPI:
    """The API on the services; a request body over `max_body_bytes` is refused before it
    is read (routes that take files allow their own size)."""
    app = FastAPI(
        title="ccgateway",
        version="0.1.0",
        description="Contact-centre controller: skills, agents, queues, live calls and "
        "history; outbound campaigns (the predictive dialer). Every endpoint needs "
        "`Authorization: Bearer <key>`, or a person's session cookie from `POST /v1/session` "
        "(changes then also need its `X-CSRF-Token`).",
    )
    app.state.service = service
    app.state.work = work
    app.state.dialer = dialer
    app.state.keys = keys
    app.state.hub = hub
    app.state.authenticator = Authenticator(admin_key, keys)
    app.state.sessions = sessions  # people signed in with the session cookie
    app.state.history = history  # contacts' history, notes, the directory (the desktop's)
    app.state.privacy = privacy  # people's rights: erasure, export, the audit log
    app.state.retention = retention  # periods, legal holds, the purge
    app.state.recordings = recordings  # calls' recordings: pause, list, hear
    app.state.reports = reports  # interval reports per queue, agent and campaign
    app.state.webhooks = webhooks  # signed webhooks: subscriptions, deliveries
    install_error_handlers(app)
    routes = (skills, agents, queues, calls, callbacks, tasks, interactions, key_routes)
    dialing = (rule_sets, campaigns, contact_lists, dialer_routes)
    people = (session_routes, user_routes)
    desktop = (history_routes, directory) if history is not None else ()
    optional = (
        (privacy_routes, privacy),
        (retention_routes, retention),
        (recording_routes, recordings),
        (report_routes, reports),
        (webhook_routes, webhooks),
    )
    rights = [module for module, service in optional if service is not None]
    for module in (*routes, *dialing, *people, *desktop, *rights, events, metrics):
        app.include_router(module.router)
    app.include_router(ui_routes.router)  # the pages under /ui/, on the same API
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app
