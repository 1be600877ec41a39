"""The composition root: builds stores, the PBX adapter, the centre and the API, and runs them.

Everything is wired here by hand, in one place, so the rest of the code receives its
collaborators and never reaches for a global.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ccgateway.api.application import create_api
from ccgateway.api.routes.events import (
    OpenStreams,
    hide_keys_in_server_logs,
    open_streams,
)
from ccgateway.api.sessions import Passwords, SessionManager
from ccgateway.domain.center import Center
from ccgateway.domain.figures import Figures
from ccgateway.domain.privacy import pseudonym
from ccgateway.domain.queue_log import QueueLog
from ccgateway.domain.webhooks import RetryPolicy
from ccgateway.logs import configure_logging, uvicorn_log_config
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.uniqueids import UniqueidSpaces
from ccgateway.persistence import (
    SqlCallbackStore,
    SqlConfigStore,
    SqlInteractionStore,
    SqlKeyStore,
    SqlTaskStore,
    open_database,
)
from ccgateway.persistence.accounts import SqlSessionStore, SqlUserStore
from ccgateway.persistence.journal_file import JournalFile, JournalFileError
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.privacy_store import SqlPrivacyStore
from ccgateway.persistence.queue_log_file import QueueLogFile
from ccgateway.persistence.queue_log_tables import SqlQueueLogStore
from ccgateway.persistence.recording_store import RecordingFiles, SqlRecordingStore
from ccgateway.persistence.report_store import SqlReportStore
from ccgateway.persistence.retention_store import SqlRetentionStore
from ccgateway.persistence.sealed_files import key_from_text, new_key_text
from ccgateway.persistence.webhook_store import SqlWebhookStore
from ccgateway.ports import Clock, InteractionQuery, KeyStore, Owner, Pbx
from ccgateway.services.center_service import CenterService, load_center
from ccgateway.services.dialer_service import DialerService, load_outbound
from ccgateway.services.dispatcher import Dispatcher
from ccgateway.services.event_hub import EventHub
from ccgateway.services.history_service import HistoryService
from ccgateway.services.instruments import Instruments
from ccgateway.services.journal import WriteJournal
from ccgateway.services.privacy_service import PrivacyService
from ccgateway.services.queue_log_feed import QueueLogFeed, QueueLogSink, Runner, in_thread
from ccgateway.services.recording_service import RecordingService
from ccgateway.services.reports import ReportService
from ccgateway.services.retention_service import RetentionService
from ccgateway.services.store_writes import StoreWriter
from ccgateway.services.webhooks import WebhookService
from ccgateway.services.webhooks_delivery import DeliveryRules, WebhookDeliverer
from ccgateway.services.work_service import WorkService
from ccgateway.settings import (
    AsteriskSettings,
    FreeSwitchSettings,
    Settings,
    WebhookSettings,
    load_settings,
    section_of,
)

log = logging.getLogger("ccgateway")


class SystemClock:
    """The controller's clock in production: the system's time (ccgateway.testing has a
    manual one for tests)."""

    def now(self) -> float:
        return time.time()


def new_leg_id() -> str:
    """Unique across restarts (Asterisk refuses a ChannelId still in use), marked `ccgw-` so
    the adapters know their own legs, and 36 characters at most: FreeSWITCH keeps a session's
    uuid in a 37-byte buffer and would silently cut a longer `origination_uuid`."""
    return f"ccgw-{uuid.uuid4().hex[:31]}"


@dataclass
class Controller:
    settings: Settings
    engine: Engine
    dispatcher: Dispatcher
    service: CenterService
    api: FastAPI
    retention: RetentionService
    # Long-running jobs beside the dispatcher (webhook deliveries, the queue_log file, the
    # reports' flush): `serve` runs each as a task and cancels it when the server stops.
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # Last steps as the server shuts down, the dispatcher still running (the reports' last
    # flush): uvicorn raises SIGTERM again once it has shut down, so a job's `finally` never
    # runs on a service manager's stop.
    stops: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    webhooks: WebhookDeliverer | None = None  # its `stats` and `on_delivered` for /metrics


def _journal_file(settings: Settings, stores: StoreWriter) -> JournalFile | None:
    """The journal file, once the writes a controller kept in it through an outage and did
    not live to write are in the database (none lost, none twice: each write is idempotent)."""
    if settings.database_journal_file is None:
        return None
    spill = JournalFile(settings.database_journal_file)
    kept = spill.kept()
    if kept:
        log.warning(
            "writing %d writes kept in %s while the database was away",
            stores.replay(kept),
            spill.path,
        )
    spill.clear()
    return spill


def build_controller(
    settings: Settings,
    pbxes: Sequence[Pbx] | None = None,
    *,
    clock: Clock | None = None,
    new_id: Callable[[], str] = new_leg_id,
    passwords: Passwords | None = None,
    owner: Owner | None = None,
    fence: Callable[[Engine], None] | None = None,
) -> Controller:
    """Wire a controller. Production passes the settings alone; tests (ccgateway.testing's
    `build_harness`) pass doubles: `pbxes` replace the configured PBXs, `clock` the system's
    time (for the centre and every store that stamps a time), `new_id` the random agent leg
    ids, `passwords` argon2id at its production cost. A pair's active controller (pair.py)
    passes its `owner` (node and fencing epoch) and the `fence` its every write carries."""
    clock = clock or SystemClock()
    instruments = Instruments.for_controller()  # a registry of its own: /metrics
    owner = owner or Owner(settings.node_id(), 0)  # a single controller's epoch is 0
    engine = open_database(settings.database_url)
    if fence is not None:  # before the first write (the pair's lease_store.Fence)
        fence(engine)
    config = SqlConfigStore(engine, now=clock.now)
    interactions = SqlInteractionStore(engine, now=clock.now)
    callbacks, tasks = SqlCallbackStore(engine, now=clock.now), SqlTaskStore(engine, now=clock.now)
    key = privacy_key(settings)
    pseudonyms = functools.partial(pseudonym, key) if key is not None else None
    outbound = SqlOutboundStore(engine, now=clock.now, pseudonym=pseudonyms)
    recordings = SqlRecordingStore(engine, now=clock.now)
    stores = StoreWriter(config, interactions, callbacks, tasks, recordings, outbound)
    spill = _journal_file(settings, stores)  # before any state is read
    center = Center(new_leg_id=new_id, policy=settings.agents.policy())
    presence = load_center(center, config, clock.now(), log.warning)
    # The dialer's campaigns (they name queues), ledgers and the dials a restart left out.
    load_outbound(center, outbound, clock.now(), log.warning)
    # The centre's promises the PBX cannot remember: queued callbacks and open tasks.
    center.callbacks.restore(callbacks.live(), clock.now())
    center.tasks.restore(tasks.live(), clock.now())
    center.recorder.restore(recordings.live())
    pbxes = list(pbxes) if pbxes else configured_pbxes(settings, instruments, owner)
    recording_files = RecordingFiles(settings.recordings.directory, recordings_key(settings))
    hub = EventHub()
    figures = Figures()  # today's (UTC), from the record, so a restart loses none of them
    today = clock.now() // 86_400 * 86_400
    figures.add_all(interactions.query(InteractionQuery(since=today, limit=10_000_000)))
    # Who served each caller last, from the last 30 days (the longest last-agent window).
    since = clock.now() - 30 * 86400
    recent = interactions.query(InteractionQuery(since=since, limit=200_000, newest_first=True))
    for record in sorted(recent, key=lambda r: r.ended_at):
        if record.agent_id is not None and record.answered_at is not None:
            center.remember_last_agent(record.caller_number, record.agent_id, record.ended_at)
    dispatcher = Dispatcher(
        center,
        pbxes[0],
        config,
        interactions,
        clock,
        hub,
        others=pbxes[1:],
        figures=figures,
        callbacks=callbacks,
        tasks=tasks,
        outbound=outbound,
        recordings=recordings,
        recording_files=recording_files,
        # a restart between a call's end and the measuring of its file (2 s): the last day's
        unmeasured=recordings.unmeasured(clock.now() - 86400),
        instruments=instruments,
        # a pair's controller keeps its writes' values, to leave them if it loses the lease
        journal=WriteJournal(
            settings.database_journal_limit, spill, keep_unwritten=fence is not None
        ),
    )
    dispatcher.presence_at_start = presence
    instruments.watch(dispatcher)
    service = CenterService(dispatcher, config, interactions, clock)
    work = WorkService(dispatcher, callbacks, tasks)
    dialer = DialerService(dispatcher, outbound, clock)
    keys = SqlKeyStore(engine, now=clock.now)
    forget_orphan_keys(keys, set(center.floor.directory.agents))
    sessions = build_sessions(settings, engine, now=clock.now, passwords=passwords)
    notes = SqlNoteStore(engine, now=clock.now)
    history = HistoryService(dispatcher, interactions, outbound, callbacks, notes, clock)
    privacy_store = SqlPrivacyStore(engine)
    retention = RetentionService(
        dispatcher,
        SqlRetentionStore(engine),
        privacy_store,
        clock,
        batch=settings.retention.batch_rows,
        files=recording_files,
    )
    privacy = PrivacyService(
        dispatcher, privacy_store, outbound, key, clock, retention, recording_files, dialer
    )
    reports = ReportService(
        dispatcher, SqlReportStore(engine), clock, settings.reports.time_zone,
        settings.reports.flush_every_s,
    )  # fmt: skip
    listening = RecordingService(
        dispatcher, recordings, recording_files, privacy_store, clock,
        agents_hear_own=settings.recordings.agents_hear_own,
    )  # fmt: skip
    webhook_store = SqlWebhookStore(engine, now=clock.now)
    deliverer = WebhookDeliverer(
        dispatcher, webhook_store, clock, delivery_rules(settings.webhooks)
    )
    dispatcher.taps.append(deliverer)
    webhook_service = WebhookService(dispatcher, webhook_store, deliverer, clock)
    api = create_api(
        service,
        keys,
        settings.resolved_admin_key(),
        hub,
        work,
        dialer,
        sessions,
        history=history,
        privacy=privacy,
        retention=retention,
        recordings=listening,
        reports=reports,
        webhooks=webhook_service,
    )
    api.state.instruments = instruments  # GET /metrics renders its registry
    controller = Controller(settings, engine, dispatcher, service, api, retention)
    controller.jobs.append(reports.run)  # the reports' flushes
    controller.stops.append(reports.flush)  # and the last one
    for pbx in dispatcher.pbxes.values():  # the owner marks, released at a clean stop
        if isinstance(pbx, AsteriskPbx | FreeSwitchPbx):
            controller.stops.append(pbx.release)
    controller.jobs.append(deliverer.run)
    controller.stops.append(deliverer.save_observed)  # what it holds in memory, stored
    controller.webhooks = deliverer
    deliverer.on_delivered = instruments.webhook_delivered
    add_queue_log(controller, center, clock.now())
    return controller


def add_queue_log(controller: Controller, center: Center, now: float) -> None:
    """The queue_log feed (settings.queue_log) as a tap and a job, when a file or the table
    is configured; the agents logged in at the start are known, not logged again."""
    config = controller.settings.queue_log
    sinks: list[tuple[QueueLogSink, Runner]] = []
    if config.file is not None:
        sinks.append((QueueLogFile(config.file), in_thread))
    if config.table:
        sinks.append((SqlQueueLogStore(controller.engine), controller.dispatcher.write))
    if not sinks:
        return
    translator = QueueLog(center.floor.directory, caller_name=config.caller_name)
    for agent_id, status in center.floor.status.items():
        translator.know_agent(agent_id, status.state.value, status.reason)
    feed = QueueLogFeed(translator, sinks, interval_s=config.interval_s)
    feed.start(now)
    controller.dispatcher.taps.append(feed)
    controller.jobs.append(feed.run)
    controller.stops.append(feed.flush)  # the last lines, while the writer still runs


def delivery_rules(webhooks: WebhookSettings) -> DeliveryRules:
    """The [webhooks] settings as the deliverer takes them."""
    retry = RetryPolicy(
        webhooks.first_retry_s,
        webhooks.max_retry_s,
        webhooks.max_attempts,
        webhooks.max_age_h * 3600,
    )
    return DeliveryRules(
        retry,
        webhooks.timeout_s,
        webhooks.max_pending,
        webhooks.in_flight,
        webhooks.allow_private,
        webhooks.keep_delivered_h * 3600,
        webhooks.keep_dead_days * 86400,
    )


def privacy_key(settings: Settings) -> bytes | None:
    """The key erased numbers are kept under (settings.PrivacySettings): given, read from
    its file, or made in a new file (beside a SQLite database when no file is named);
    a random one for a scratch database (`sqlite://`); None where none is configured."""
    privacy = settings.privacy
    if privacy.key is not None:
        return privacy.key.get_secret_value().encode()
    path = privacy.key_file
    database = make_url(settings.database_url)
    if path is None and database.get_backend_name() == "sqlite":
        if database.database in (None, "", ":memory:"):
            return secrets.token_bytes(32)  # the data dies with the process, and so may this
        path = Path(database.database).expanduser().parent / "privacy-key"
    if path is None:
        log.warning("no privacy key (privacy.key_file): erasure is refused until one is set")
        return None
    return key_in_file(path, lambda: secrets.token_hex(32), "privacy key").encode()


def recordings_key(settings: Settings) -> bytes | None:
    """The key recordings are sealed at rest under (settings.RecordingSettings.key_file),
    made in its file if missing; None where none is configured (files stay plain)."""
    path = settings.recordings.key_file
    if path is None:
        return None
    return key_from_text(key_in_file(path, new_key_text, "recordings key"))


def key_in_file(path: Path, new: Callable[[], str], what: str) -> str:
    """The key kept in the file at `path`; made there first (0600, made durable) if the
    file is missing."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(new() + "\n")
            f.flush()
            os.fsync(f.fileno())
        log.info("made a new %s in %s: keep it (and back it up) with the database", what, path)
    return path.read_text().strip()


def forget_orphan_keys(keys: KeyStore, agent_ids: set[str]) -> None:
    """Deletes the keys of agents that no longer exist. Deleting an agent deletes its keys
    after the agent; a stop between the two would leave a key that acts for a new agent
    created later with the same id."""
    for info in keys.list():
        if info.agent_id is not None and info.agent_id not in agent_ids:
            keys.delete(info.id)
            log.warning("deleted key %s: its agent %r no longer exists", info.id, info.agent_id)


def build_sessions(
    settings: Settings,
    engine: Engine,
    *,
    now: Callable[[], float] = time.time,
    passwords: Passwords | None = None,
) -> SessionManager:
    """People's accounts and sessions on the controller's database (the CLI's too)."""
    return SessionManager(
        SqlUserStore(engine, now=now),
        SqlSessionStore(engine, now=now),
        now=now,
        passwords=passwords,
        idle_s=settings.api.session_idle_s,
        attempts=settings.api.login_attempts,
        window_s=settings.api.login_window_s,
    )


def configured_pbxes(
    settings: Settings, instruments: Instruments | None = None, owner: Owner | None = None
) -> list[Pbx]:
    """The PBXs the settings enable, by name (Settings.pbx_sections: `asterisk` first); each
    agent and queue names its own; `instruments` told their round trips; `owner` the mark
    each keeps on its PBX (a pair's lease holder passes its epoch; a single controller is its
    node at epoch 0)."""
    owner = owner or Owner(settings.node_id(), 0)
    recordings = settings.recordings.pbx_directory or str(settings.recordings.directory)
    spaces = UniqueidSpaces()  # the Asterisks' systemnames: no two may give the same uniqueid
    pbxes: list[Pbx] = []
    for name, section in settings.pbx_sections().items():
        if not section.enabled:
            continue
        if isinstance(section, AsteriskSettings):
            pbxes.append(_asterisk_pbx(name, section, recordings, instruments, owner, spaces))
        else:
            pbxes.append(_freeswitch_pbx(name, section, recordings, instruments, owner))
    if not pbxes:
        raise ValueError(
            "no PBX enabled: set asterisk.enabled or freeswitch.enabled, or add a [pbxes.NAME]"
        )
    return pbxes


def _asterisk_pbx(
    name: str,
    ami: AsteriskSettings,
    recordings: str,
    instruments: Instruments | None,
    owner: Owner,
    spaces: UniqueidSpaces,
) -> AsteriskPbx:
    return AsteriskPbx(
        host=ami.host,
        port=ami.port,
        username=ami.username,
        secret=ami.resolved_secret(section_of(name)),
        action_timeout_s=ami.action_timeout_s,
        ping_interval_s=ami.ping_interval_s,
        dead_after_s=ami.dead_after_s,
        name=name,
        trunk=ami.trunk,
        trunks=ami.trunks,
        recordings=recordings,
        instruments=instruments,
        owner=owner,
        spaces=spaces,
    )


def _freeswitch_pbx(
    name: str,
    fs: FreeSwitchSettings,
    recordings: str,
    instruments: Instruments | None,
    owner: Owner,
) -> FreeSwitchPbx:
    return FreeSwitchPbx(
        host=fs.host,
        port=fs.port,
        password=fs.resolved_password(section_of(name)),
        name=name,
        inbound_context=fs.inbound_context,
        command_timeout_s=fs.command_timeout_s,
        hold_music=fs.hold_music,
        dial_template=fs.dial_template,
        trunks=fs.trunks,
        recordings=recordings,
        instruments=instruments,
        owner=owner,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, which first closes the event streams with 1001 (going away) when it
    stops: uvicorn itself would close them with 1012."""

    def __init__(
        self,
        config: uvicorn.Config,
        streams: OpenStreams,
        stops: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        super().__init__(config)
        self._streams = streams
        self._stops = stops

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._streams.close_all()
        await super().shutdown(sockets)
        for stop in self._stops:  # the controller's last steps (Controller.stops)
            try:
                await stop()
            except Exception:
                log.exception("%s failed at the stop", stop.__qualname__)


async def serve(controller: Controller) -> None:
    """Run the dispatcher (and with it the PBX link) and the HTTP server until cancelled."""
    api = controller.settings.api
    server = _Server(
        uvicorn.Config(
            controller.api,
            host=api.host,
            port=api.port,
            log_level=controller.settings.log_level.lower(),
            lifespan="off",
            log_config=uvicorn_log_config(controller.settings.log_format),
        ),
        open_streams(controller.api),
        controller.stops,
    )
    hide_keys_in_server_logs()  # after uvicorn.Config, which sets up uvicorn's loggers
    try:
        async with asyncio.TaskGroup() as tasks:
            dispatcher = tasks.create_task(controller.dispatcher.run(), name="dispatcher")
            retention = controller.settings.retention
            background = [dispatcher]
            background += [
                tasks.create_task(job(), name=job.__qualname__) for job in controller.jobs
            ]
            if retention.purge_every_h > 0:
                schedule = controller.retention.run_schedule(
                    retention.purge_every_h * 3600, retention.first_purge_after_s
                )
                background.append(tasks.create_task(schedule, name="purge"))
            await server.serve()  # returns on SIGINT/SIGTERM
            for task in background:
                task.cancel()
    finally:
        for pbx in controller.dispatcher.pbxes.values():
            await pbx.close()
        controller.engine.dispose()


def run_controller(config_path: str | None = None) -> int:
    settings = load_settings(config_path)
    configure_logging(settings.log_level, settings.log_format)
    os.umask(0o077)  # what the controller writes (database, keys) holds personal data
    if settings.ha.mode == "pair":  # active or standby on a shared PostgreSQL
        from ccgateway.pair import run_pair

        return run_pair(settings)
    try:
        controller = build_controller(settings)
    except (ValueError, JournalFileError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    log.info(
        "ccgateway API on http://%s:%s (OpenAPI at /docs)", settings.api.host, settings.api.port
    )
    try:
        asyncio.run(serve(controller))
    except KeyboardInterrupt:  # uvicorn hands the signal on once it has shut down cleanly
        log.info("ccgateway stopped")
    return 0
