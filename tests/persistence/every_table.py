"""Rows in every table, written through the stores, and read back through them: what the
migration tests carry across an upgrade (a database of the previous code, the steps of the
Alembic history). Everything is fixed (ids, times, hashes), so two fills compare equal."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from ccgateway.domain.agents import AgentState
from ccgateway.domain.figures import FigureRules
from ccgateway.domain.outbound.rules import custom_rule_set
from ccgateway.domain.reports import Interval, ReportFold, span
from ccgateway.domain.retention import HoldKind, Kind, RetentionPolicy
from ccgateway.persistence import (
    SqlCallbackStore,
    SqlConfigStore,
    SqlInteractionStore,
    SqlKeyStore,
    SqlOutboundStore,
    SqlTaskStore,
)
from ccgateway.persistence.accounts import SqlSessionStore, SqlUserStore
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.privacy_store import SqlPrivacyStore
from ccgateway.persistence.queue_log_tables import SqlQueueLogStore
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.persistence.report_store import SqlReportStore
from ccgateway.persistence.retention_store import SqlRetentionStore
from ccgateway.persistence.tables import Base
from ccgateway.persistence.webhook_store import SqlWebhookStore
from ccgateway.ports import AuditEntry, Hold, InteractionQuery, UserInfo, WebSession
from tests.persistence import test_erasure, test_stores
from tests.persistence.test_outbound_store import NOW

# Only ever holds a row inside a purge's own transaction (retention_store.py): empty at rest.
TRANSIENT = {"purge_permits"}
# Writes a pair's controller left as it lost the lease (0005): taken in by the active within
# seconds, so empty at rest; handover_store's own tests fill it.
TRANSIENT |= {"ha_handover"}
# A pair's lease (0002): a row only while a pair runs, so none in a database of the code
# before it; fill writes one all the same, so the upgrade tests carry it.
LIVE_ONLY = {"ha_lease"}


def fill(engine: Engine) -> None:
    """At least one row in every table but the transient ones."""
    config = SqlConfigStore(engine, now=lambda: NOW)
    test_stores.seed(config)  # skills, agents, agent_skills, queues, queue_requirements
    config.save_presence("ann", AgentState.PAUSED, "lunch")
    test_erasure.seed(engine)  # the dialer, calls, callbacks, tasks, notes, recordings, ...
    outbound = SqlOutboundStore(engine)
    outbound.put_rule_set(custom_rule_set("house", "House rules", "uk", {"grace_s": 1.5}))
    outbound.replace_register("tps", ["+447700900123"], NOW)  # registers
    SqlRecordingStore(engine).set_file("rec-ann", 44, "a" * 64)
    users = SqlUserStore(engine)
    users.add(UserInfo("desk1", "agent", "ann", None, "Ann", NOW), "$argon2id$fixed")
    SqlSessionStore(engine).add(WebSession("t" * 64, "desk1", "c" * 64, NOW, NOW))
    SqlPrivacyStore(engine).add_audit(AuditEntry(NOW, "key:x", "export", "h:1"))
    retention = SqlRetentionStore(engine)
    retention.put_policy(RetentionPolicy(default={Kind.INTERACTIONS: 400}), NOW)
    retention.add_hold(Hold(HoldKind.NUMBER, "+4930999", "a court case", NOW))
    with engine.begin() as connection:  # api_keys: the store makes a random key, so by hand
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, role, agent_id, key_hash, created_at)"
                " VALUES ('k1', 'crm', 'admin', NULL, :hash, :at)"
            ),
            {"hash": "f" * 64, "at": NOW},
        )
        connection.execute(  # ha_lease: a pair's (PostgreSQL's) store, by hand here
            text(
                "INSERT INTO ha_lease (name, holder, epoch, expires_at, advertise_url)"
                " VALUES ('controller', 'node-a', 3, :at, 'http://node-a:8080')"
            ),
            {"at": NOW},
        )
    fold = ReportFold(FigureRules())
    for record in SqlInteractionStore(engine).query(InteractionQuery()):
        fold.add_interaction(record)
    fold.agent_state("ann", AgentState.AVAILABLE, None, NOW)
    fold.agent_state("ann", AgentState.PAUSED, "lunch", NOW + 600)
    for record in outbound.dials(None, None, 100):
        fold.add_dial(record)
    for record in outbound.dispositions("sales", None):
        fold.add_disposition(record, None)
    SqlReportStore(engine).add(fold.take(NOW + 3 * 3600))


def empty_tables(engine: Engine) -> list[str]:
    """The tables of the schema without a row (the transient ones aside)."""
    with engine.connect() as connection:
        return [
            name
            for name in sorted(Base.metadata.tables)
            if name not in TRANSIENT | LIVE_ONLY
            and connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0
        ]


def read_back(engine: Engine) -> dict[str, Any]:
    """What the stores read: equal for two databases holding the same rows."""
    outbound = SqlOutboundStore(engine)
    config = SqlConfigStore(engine)
    reports = SqlReportStore(engine)
    whole = span(Interval.DAY, NOW - 86400, NOW + 86400 * 3, ZoneInfo("UTC"))
    return {
        "config": config.load(),
        "presence": config.load_presence(),
        "interactions": SqlInteractionStore(engine).query(InteractionQuery()),
        "callbacks": [SqlCallbackStore(engine).get(f"cb{n}") for n in (1, 2)],
        "tasks": [SqlTaskStore(engine).get(f"t{n}") for n in (1, 2)],
        "keys": SqlKeyStore(engine).list(),
        "outbound": outbound.load_config(),
        "lists": outbound.lists("sales") + outbound.lists("winback"),
        "contacts": outbound.contacts("sales", None, 100, 0),
        "dials": outbound.dials(None, None, 100),
        "dispositions": outbound.dispositions("sales", None),
        "refusals": outbound.refusals("sales", None, 100),
        "suppressed": outbound.suppressed(["+447700900123", test_erasure.ANN.number]),
        "screened": outbound.screened(),
        "users": SqlUserStore(engine).list(),
        "session": SqlSessionStore(engine).find("t" * 64),
        "notes": SqlNoteStore(engine).of_number(test_erasure.ANN.number, 10),
        "audit": SqlPrivacyStore(engine).audit(10),
        "policy": SqlRetentionStore(engine).policy(),
        "holds": SqlRetentionStore(engine).holds(),
        "recordings": [SqlRecordingStore(engine).get(r) for r in ("rec-ann", "rec-bob")],
        "queue_log": SqlQueueLogStore(engine).lines(),
        "webhooks": SqlWebhookStore(engine).subscriptions(),
        "deliveries": SqlWebhookStore(engine).deliveries("crm", None, 10),
        "queue_figures": reports.queues(whole, None),
        "agent_figures": reports.agents(whole, None),
        "campaign_figures": reports.campaigns(whole, None),
    }  # not ha_lease: a lease dies with a downgrade below it (the pair is stopped for one)
