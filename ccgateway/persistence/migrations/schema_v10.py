"""The schema as it stood at the Alembic baseline (ccgateway's schema_version 10), frozen.

Never change this file: the baseline revision creates exactly this, and the upgrade of a
database from before Alembic (legacy.py) creates its missing tables from it. A change of
the schema is a new revision in versions/ (and the matching change in tables.py); the
migration tests compare the head of the history with tables.py, so the two cannot drift.
Generated once from tables.py by Alembic's autogenerate renderer, then reviewed.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA = sa.MetaData()


def _index(name: str, table: str, *columns: str, unique: bool = False) -> None:
    """An index on SCHEMA's `table`; a column named "x DESC" is indexed descending."""
    found = SCHEMA.tables[table].c
    expressions = [
        found[c.removesuffix(" DESC")].desc() if c.endswith(" DESC") else found[c] for c in columns
    ]
    sa.Index(name, *expressions, unique=unique)


sa.Table(
    "agents",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("device", sa.String(length=120), nullable=False),
    sa.Column("pbx", sa.String(length=64), nullable=False),
    sa.Column("attributes", sa.Text(), nullable=False),
    sa.Column("capacity", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("device"),
)
sa.Table(
    "api_keys",
    SCHEMA,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("role", sa.String(length=20), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("key_hash", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("key_hash"),
)
sa.Table(
    "audit_log",
    SCHEMA,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("at", sa.Float(), nullable=False),
    sa.Column("actor", sa.String(length=200), nullable=False),
    sa.Column("action", sa.String(length=40), nullable=False),
    sa.Column("subject", sa.String(length=200), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_audit_log_at", "audit_log", "at")
sa.Table(
    "callbacks",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("queue_id", sa.String(length=64), nullable=False),
    sa.Column("number", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("placed_at", sa.Float(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("not_before", sa.Float(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("leg_id", sa.String(length=64), nullable=True),
    sa.Column("pbx", sa.String(length=64), nullable=False),
    sa.Column("origin_call_id", sa.String(length=150), nullable=True),
    sa.Column("result", sa.String(length=100), nullable=False),
    sa.Column("answered_at", sa.Float(), nullable=True),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_callbacks_number", "callbacks", "number", "created_at")
_index("ix_callbacks_state", "callbacks", "state")
sa.Table(
    "campaigns",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("settings", sa.Text(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "dial_records",
    SCHEMA,
    sa.Column("id", sa.String(length=150), nullable=False),
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("contact_id", sa.String(length=64), nullable=False),
    sa.Column("number", sa.String(length=32), nullable=False),
    sa.Column("rule_set_id", sa.String(length=64), nullable=False),
    sa.Column("mode", sa.String(length=20), nullable=False),
    sa.Column("caller_id", sa.String(length=32), nullable=False),
    sa.Column("dialled_at", sa.Float(), nullable=False),
    sa.Column("ended_at", sa.Float(), nullable=False),
    sa.Column("outcome", sa.String(length=20), nullable=False),
    sa.Column("answered_at", sa.Float(), nullable=True),
    sa.Column("live_at", sa.Float(), nullable=True),
    sa.Column("connected_at", sa.Float(), nullable=True),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("amd", sa.String(length=20), nullable=False),
    sa.Column("at_risk", sa.Boolean(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("erased_at", sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_dial_records_campaign_dialled", "dial_records", "campaign_id", "dialled_at")
_index("ix_dial_records_dialled", "dial_records", "dialled_at")
_index("ix_dial_records_number", "dial_records", "number", "dialled_at")
sa.Table(
    "dispositions",
    SCHEMA,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("dial_id", sa.String(length=150), nullable=False),
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("contact_id", sa.String(length=64), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("at", sa.Float(), nullable=False),
    sa.Column("answers", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("callback_at", sa.Float(), nullable=True),
    sa.Column("callback_agent_id", sa.String(length=64), nullable=True),
    sa.Column("erased_at", sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_dispositions_campaign_at", "dispositions", "campaign_id", "at")
_index("ix_dispositions_dial", "dispositions", "dial_id")
sa.Table(
    "interactions",
    SCHEMA,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("call_id", sa.String(length=150), nullable=False),
    sa.Column("queue_id", sa.String(length=64), nullable=True),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("caller_number", sa.String(length=64), nullable=False),
    sa.Column("outcome", sa.String(length=20), nullable=False),
    sa.Column("arrived_at", sa.Float(), nullable=False),
    sa.Column("answered_at", sa.Float(), nullable=True),
    sa.Column("ended_at", sa.Float(), nullable=False),
    sa.Column("wait_s", sa.Float(), nullable=False),
    sa.Column("talk_s", sa.Float(), nullable=False),
    sa.Column("offers", sa.Integer(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("channel", sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("call_id", "arrived_at", "ended_at", name="uq_interaction_once"),
)
_index("ix_interactions_agent_arrived", "interactions", "agent_id", "arrived_at")
_index("ix_interactions_arrived_at", "interactions", "arrived_at")
_index("ix_interactions_caller_arrived", "interactions", "caller_number", "arrived_at")
_index("ix_interactions_queue_arrived", "interactions", "queue_id", "arrived_at")
sa.Table(
    "legal_holds",
    SCHEMA,
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("value", sa.String(length=129), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("kind", "value"),
)
sa.Table(
    "notes",
    SCHEMA,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("at", sa.Float(), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("author", sa.String(length=64), nullable=True),
    sa.Column("number", sa.String(length=64), nullable=False),
    sa.Column("call_id", sa.String(length=150), nullable=True),
    sa.Column("dial_id", sa.String(length=150), nullable=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_notes_number_at", "notes", "number", "at")
sa.Table(
    "purge_permits",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "queue_log",
    SCHEMA,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    ),
    sa.Column("time", sa.DateTime(), nullable=False),
    sa.Column("callid", sa.String(length=80), nullable=False),
    sa.Column("queuename", sa.String(length=256), nullable=False),
    sa.Column("agent", sa.String(length=80), nullable=False),
    sa.Column("event", sa.String(length=32), nullable=False),
    sa.Column("data1", sa.String(length=100), nullable=False),
    sa.Column("data2", sa.String(length=100), nullable=False),
    sa.Column("data3", sa.String(length=100), nullable=False),
    sa.Column("data4", sa.String(length=100), nullable=False),
    sa.Column("data5", sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_queue_log_time", "queue_log", "time")
sa.Table(
    "queues",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("extension", sa.String(length=20), nullable=False),
    sa.Column("pbx", sa.String(length=64), nullable=False),
    sa.Column("ring_timeout_s", sa.Float(), nullable=False),
    sa.Column("wrapup_s", sa.Float(), nullable=False),
    sa.Column("routing", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("pbx", "extension"),
)
sa.Table(
    "recordings",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("call_id", sa.String(length=150), nullable=False),
    sa.Column("pbx", sa.String(length=64), nullable=False),
    sa.Column("queue_id", sa.String(length=64), nullable=True),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("caller_number", sa.String(length=64), nullable=False),
    sa.Column("started_at", sa.Float(), nullable=False),
    sa.Column("ended_at", sa.Float(), nullable=True),
    sa.Column("pauses", sa.Text(), nullable=False),
    sa.Column("file", sa.String(length=200), nullable=False),
    sa.Column("channel_id", sa.String(length=150), nullable=False),
    sa.Column("failure", sa.Text(), nullable=False),
    sa.Column("consent", sa.String(length=20), server_default="", nullable=False),
    sa.Column("campaign_id", sa.String(length=64), nullable=True),
    sa.Column("size", sa.Integer(), nullable=True),
    sa.Column("sha256", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_recordings_call", "recordings", "call_id")
_index("ix_recordings_number", "recordings", "caller_number")
_index("ix_recordings_started", "recordings", "started_at")
sa.Table(
    "refusals",
    SCHEMA,
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("contact_id", sa.String(length=64), nullable=False),
    sa.Column("number", sa.String(length=32), nullable=False),
    sa.Column("rule", sa.String(length=64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("at", sa.Float(), nullable=False),
    sa.Column("retry_at", sa.Float(), nullable=True),
    sa.Column("erased_at", sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_refusals_campaign_at", "refusals", "campaign_id", "at")
sa.Table(
    "registers",
    SCHEMA,
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("screened_at", sa.Float(), nullable=False),
    sa.Column("numbers", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("name"),
)
sa.Table(
    "report_agent_intervals",
    SCHEMA,
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    sa.Column("calls_answered", sa.BigInteger(), nullable=False),
    sa.Column("talk_s", sa.Float(), nullable=False),
    sa.Column("transfers", sa.BigInteger(), nullable=False),
    sa.Column("callbacks", sa.BigInteger(), nullable=False),
    sa.Column("tasks_completed", sa.BigInteger(), nullable=False),
    sa.Column("task_handle_s", sa.Float(), nullable=False),
    sa.Column("available_s", sa.Float(), nullable=False),
    sa.Column("reserved_s", sa.Float(), nullable=False),
    sa.Column("on_call_s", sa.Float(), nullable=False),
    sa.Column("wrap_up_s", sa.Float(), nullable=False),
    sa.Column("paused_s", sa.Float(), nullable=False),
    sa.Column("logins", sa.BigInteger(), nullable=False),
    sa.Column("logouts", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("agent_id", "bucket_start"),
)
_index("ix_report_agent_intervals_bucket", "report_agent_intervals", "bucket_start")
sa.Table(
    "report_agent_pauses",
    SCHEMA,
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    sa.Column("reason", sa.String(length=200), nullable=False),
    sa.Column("seconds", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("agent_id", "bucket_start", "reason"),
)
_index("ix_report_agent_pauses_bucket", "report_agent_pauses", "bucket_start")
sa.Table(
    "report_campaign_counts",
    SCHEMA,
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    sa.Column("what", sa.String(length=200), nullable=False),
    sa.Column("count", sa.BigInteger(), nullable=False),
    sa.Column("total", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("campaign_id", "bucket_start", "what"),
)
_index("ix_report_campaign_counts_bucket", "report_campaign_counts", "bucket_start")
sa.Table(
    "report_campaign_intervals",
    SCHEMA,
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    sa.Column("dials", sa.BigInteger(), nullable=False),
    sa.Column("connected", sa.BigInteger(), nullable=False),
    sa.Column("abandoned", sa.BigInteger(), nullable=False),
    sa.Column("hung_up", sa.BigInteger(), nullable=False),
    sa.Column("machine", sa.BigInteger(), nullable=False),
    sa.Column("no_answer", sa.BigInteger(), nullable=False),
    sa.Column("busy", sa.BigInteger(), nullable=False),
    sa.Column("failed", sa.BigInteger(), nullable=False),
    sa.Column("lost", sa.BigInteger(), nullable=False),
    sa.Column("skipped", sa.BigInteger(), nullable=False),
    sa.Column("talk_s", sa.Float(), nullable=False),
    sa.Column("wait_s", sa.Float(), nullable=False),
    sa.Column("waited", sa.BigInteger(), nullable=False),
    sa.Column("dispositions", sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint("campaign_id", "bucket_start"),
)
_index("ix_report_campaign_intervals_bucket", "report_campaign_intervals", "bucket_start")
sa.Table(
    "report_queue_intervals",
    SCHEMA,
    sa.Column("queue_id", sa.String(length=64), nullable=False),
    sa.Column("bucket_start", sa.BigInteger(), nullable=False),
    sa.Column("offered", sa.BigInteger(), nullable=False),
    sa.Column("answered", sa.BigInteger(), nullable=False),
    sa.Column("answered_in_time", sa.BigInteger(), nullable=False),
    sa.Column("transferred", sa.BigInteger(), nullable=False),
    sa.Column("abandoned", sa.BigInteger(), nullable=False),
    sa.Column("short_abandoned", sa.BigInteger(), nullable=False),
    sa.Column("timed_out", sa.BigInteger(), nullable=False),
    sa.Column("unstaffed", sa.BigInteger(), nullable=False),
    sa.Column("deflected", sa.BigInteger(), nullable=False),
    sa.Column("callbacks_requested", sa.BigInteger(), nullable=False),
    sa.Column("callbacks_completed", sa.BigInteger(), nullable=False),
    sa.Column("callbacks_not_reached", sa.BigInteger(), nullable=False),
    sa.Column("wait_answered_s", sa.Float(), nullable=False),
    sa.Column("talk_s", sa.Float(), nullable=False),
    sa.Column("longest_wait_answered_s", sa.Float(), nullable=False),
    sa.Column("tasks_completed", sa.BigInteger(), nullable=False),
    sa.Column("tasks_cancelled", sa.BigInteger(), nullable=False),
    sa.Column("task_wait_s", sa.Float(), nullable=False),
    sa.Column("task_handle_s", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("queue_id", "bucket_start"),
)
_index("ix_report_queue_intervals_bucket", "report_queue_intervals", "bucket_start")
sa.Table(
    "retention_policy",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "rule_sets",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("settings", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "schema_version",
    SCHEMA,
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("version"),
)
sa.Table(
    "skills",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "suppressions",
    SCHEMA,
    sa.Column("register", sa.String(length=64), nullable=False),
    sa.Column("number", sa.String(length=32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("added_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("register", "number"),
)
_index("ix_suppressions_number", "suppressions", "number")
sa.Table(
    "tasks",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("channel", sa.String(length=32), nullable=False),
    sa.Column("queue_id", sa.String(length=64), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("title", sa.String(length=200), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("offered_at", sa.Float(), nullable=True),
    sa.Column("assigned_at", sa.Float(), nullable=True),
    sa.Column("ended_at", sa.Float(), nullable=True),
    sa.Column("offers", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_tasks_state", "tasks", "state")
sa.Table(
    "webhook_subscriptions",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("url", sa.String(length=2000), nullable=False),
    sa.Column("events", sa.Text(), nullable=False),
    sa.Column("secret", sa.String(length=200), nullable=False),
    sa.Column("description", sa.String(length=200), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.Column("overflowed", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "agent_presence",
    SCHEMA,
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("reason", sa.String(length=200), nullable=True),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("agent_id"),
)
sa.Table(
    "agent_skills",
    SCHEMA,
    sa.Column("agent_id", sa.String(length=64), nullable=False),
    sa.Column("skill_id", sa.String(length=64), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(
        ["skill_id"],
        ["skills.id"],
    ),
    sa.PrimaryKeyConstraint("agent_id", "skill_id"),
)
sa.Table(
    "contact_lists",
    SCHEMA,
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("contacts", sa.Integer(), nullable=False),
    sa.Column("rejected", sa.Integer(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(
        ["campaign_id"],
        ["campaigns.id"],
    ),
    sa.PrimaryKeyConstraint("campaign_id", "id"),
)
sa.Table(
    "contacts",
    SCHEMA,
    sa.Column("campaign_id", sa.String(length=64), nullable=False),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("list_id", sa.String(length=64), nullable=False),
    sa.Column("number", sa.String(length=32), nullable=False),
    sa.Column("time_zones", sa.Text(), nullable=False),
    sa.Column("line_type", sa.String(length=20), nullable=False),
    sa.Column("region", sa.String(length=2), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("business", sa.Boolean(), nullable=False),
    sa.Column("consents", sa.Text(), nullable=False),
    sa.Column("fields", sa.Text(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_at", sa.Float(), nullable=True),
    sa.Column("last_outcome", sa.Text(), nullable=False),
    sa.Column("outcomes", sa.Text(), nullable=False),
    sa.Column("callback_at", sa.Float(), nullable=True),
    sa.Column("callback_agent_id", sa.String(length=64), nullable=True),
    sa.Column("dial_id", sa.String(length=150), nullable=True),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(
        ["campaign_id"],
        ["campaigns.id"],
    ),
    sa.PrimaryKeyConstraint("campaign_id", "id"),
)
_index("ix_contacts_callbacks", "contacts", "campaign_id", "callback_at")
_index("ix_contacts_number", "contacts", "number")
_index("ix_contacts_order", "contacts", "campaign_id", "state", "priority DESC", "next_at", "id")
sa.Table(
    "queue_requirements",
    SCHEMA,
    sa.Column("queue_id", sa.String(length=64), nullable=False),
    sa.Column("skill_id", sa.String(length=64), nullable=False),
    sa.Column("min_level", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(
        ["skill_id"],
        ["skills.id"],
    ),
    sa.PrimaryKeyConstraint("queue_id", "skill_id"),
)
sa.Table(
    "users",
    SCHEMA,
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("password_hash", sa.String(length=200), nullable=False),
    sa.Column("role", sa.String(length=20), nullable=False),
    sa.Column("agent_id", sa.String(length=64), nullable=True),
    sa.Column("device", sa.String(length=120), nullable=True),
    sa.Column("display_name", sa.String(length=200), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("username"),
)
_index("ix_users_agent_id", "users", "agent_id")
sa.Table(
    "webhook_deliveries",
    SCHEMA,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("subscription_id", sa.String(length=64), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.String(length=64), nullable=False),
    sa.Column("event_type", sa.String(length=64), nullable=False),
    sa.Column("order_key", sa.String(length=200), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("queued_at", sa.Float(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_at", sa.Float(), nullable=False),
    sa.Column("last_error", sa.String(length=500), nullable=False),
    sa.Column("last_status", sa.Integer(), nullable=True),
    sa.Column("delivered_at", sa.Float(), nullable=True),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
)
_index("ix_webhook_deliveries_due", "webhook_deliveries", "subscription_id", "state", "next_at")
_index(
    "ix_webhook_deliveries_line",
    "webhook_deliveries",
    "subscription_id",
    "order_key",
    "state",
    "seq",
)
_index("ix_webhook_deliveries_listed", "webhook_deliveries", "subscription_id", "state", "seq")
_index("ix_webhook_deliveries_prune", "webhook_deliveries", "state", "updated_at")
sa.Table(
    "web_sessions",
    SCHEMA,
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("csrf_token", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("last_seen", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("token_hash"),
)
_index("ix_web_sessions_username", "web_sessions", "username")
