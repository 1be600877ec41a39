"""The database schema (SQLAlchemy 2).

Times are epoch seconds, as in the domain, in `Float` columns: an 8-byte IEEE double on both
databases (PostgreSQL's FLOAT is float8, SQLite's REAL is a double), so a value reads back
exactly as written and the interactions' uniqueness on times compares the same everywhere.
Timezone-aware timestamps were the alternative; they behave differently on SQLite (stored
as text) and would need converting at every edge.

Skills of agents and requirements of queues are child tables, not JSON: the foreign key to
`skills` keeps a skill in use from being deleted under an agent or a queue, on both databases.
An agent's attributes and a queue's routing settings (expression, strategy, weight,
priority, relaxation steps) are JSON text: they are read and written whole, never queried,
and the model validates them on load. Skills named in an expression are guarded against
removal by the domain (Directory), not by a foreign key.

The dialer's tables (version 5) follow the same lines: a campaign's and a custom rule set's
settings are JSON (outbound_codec.py); a contact is one row per campaign, its progress in
columns so that `due` is one indexed query. The records (dial_records, dispositions,
refusals) have no foreign keys, so they outlive their campaign, and database.py adds
triggers that refuse any UPDATE or DELETE of them: append-only in the database itself.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# 2: agent_presence.updated_at; 3: agents.attributes, queues.routing; 4: interactions.detail,
# kind and channel, agents.capacity, and the callbacks and tasks tables; 5: the dialer's
# tables (campaigns, rule_sets, contact_lists, contacts, dial_records, dispositions,
# refusals, suppressions, registers); 6: the contacts' order index; 7: people's accounts
# (users, web sessions) and agents' notes on interactions
SCHEMA_VERSION = 10


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    """One row per schema version applied; the highest is the database's version."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class SkillRow(Base):
    __tablename__ = "skills"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class AgentRow(Base):
    __tablename__ = "agents"
    # A phone's name is unique on its PBX (two Asterisks may each have PJSIP/agent1).
    __table_args__ = (UniqueConstraint("pbx", "device", name="uq_agents_pbx_device"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(120))
    pbx: Mapped[str] = mapped_column(String(64), default="asterisk")
    attributes: Mapped[str] = mapped_column(Text, default="{}")
    capacity: Mapped[str] = mapped_column(Text, default="{}")
    skills: Mapped[list[AgentSkillRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class AgentSkillRow(Base):
    __tablename__ = "agent_skills"
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)


class QueueRow(Base):
    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("pbx", "extension"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    extension: Mapped[str] = mapped_column(String(20))
    pbx: Mapped[str] = mapped_column(String(64), default="asterisk")
    ring_timeout_s: Mapped[float] = mapped_column(Float)
    wrapup_s: Mapped[float] = mapped_column(Float)
    routing: Mapped[str] = mapped_column(Text, default="{}")
    requires: Mapped[list[QueueRequirementRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class QueueRequirementRow(Base):
    __tablename__ = "queue_requirements"
    queue_id: Mapped[str] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    min_level: Mapped[int] = mapped_column(Integer)


class PresenceRow(Base):
    __tablename__ = "agent_presence"
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)


class InteractionRow(Base):
    """One finished call. No foreign keys: the record outlives the agent and the queue.

    A call id may have two records (a caller sent back into a queue), so the record is
    known by its call id, arrival and end together: the same record added twice is kept once.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("call_id", "arrived_at", "ended_at", name="uq_interaction_once"),
        Index("ix_interactions_queue_arrived", "queue_id", "arrived_at"),
        Index("ix_interactions_agent_arrived", "agent_id", "arrived_at"),
        Index("ix_interactions_caller_arrived", "caller_number", "arrived_at"),  # version 7
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(150))
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_number: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    arrived_at: Mapped[float] = mapped_column(Float, index=True)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float] = mapped_column(Float)
    wait_s: Mapped[float] = mapped_column(Float)
    talk_s: Mapped[float] = mapped_column(Float)
    offers: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="inbound")
    channel: Mapped[str] = mapped_column(String(32), default="voice")


class CallbackRow(Base):
    """A queued callback, as last saved (domain/records.py); ended ones stay as history."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_state", "state"),
        Index("ix_callbacks_number", "number", "created_at"),  # version 7
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer)
    placed_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20))
    not_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leg_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pbx: Mapped[str] = mapped_column(String(64))
    origin_call_id: Mapped[str | None] = mapped_column(String(150), nullable=True)
    result: Mapped[str] = mapped_column(String(100))
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)


class TaskRow(Base):
    """A non-voice task, as last saved (domain/records.py); ended ones stay as history."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_state", "state"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    queue_id: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    offered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    assigned_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    offers: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float] = mapped_column(Float)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


# --- the dialer (version 5) ---------------------------------------------------------------


class RuleSetRow(Base):
    """A custom rule set (the presets live in the code and are never stored)."""

    __tablename__ = "rule_sets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    settings: Mapped[str] = mapped_column(Text)


class CampaignRow(Base):
    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    settings: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))


class ContactListRow(Base):
    __tablename__ = "contact_lists"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)
    contacts: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)


class ContactRow(Base):
    """A contact of a campaign and its progress there (domain/outbound/contacts.py).

    Unique by id within the campaign. `list_id` is not a foreign key: a composite key to
    contact_lists would want one more index on a table that can hold millions of rows, for
    a rule import_contacts keeps anyway (every contact is of the list it comes with).
    """

    __tablename__ = "contacts"
    __table_args__ = (
        ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        Index("ix_contacts_callbacks", "campaign_id", "callback_at"),
        Index("ix_contacts_number", "number"),
    )
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    time_zones: Mapped[str] = mapped_column(Text)  # a JSON list
    line_type: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(200))
    business: Mapped[bool] = mapped_column(Boolean)
    consents: Mapped[str] = mapped_column(Text)  # JSON: purpose -> basis, given_at, source
    fields: Mapped[str] = mapped_column(Text)  # JSON: name -> value
    priority: Mapped[int] = mapped_column(Integer)
    # the progress
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_outcome: Mapped[str] = mapped_column(Text)
    outcomes: Mapped[str] = mapped_column(Text)  # JSON: outcome -> times
    callback_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    callback_agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dial_id: Mapped[str | None] = mapped_column(String(150), nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)


# The order the dialer takes contacts in, per state (outbound_store.due): the first ones of
# a list of millions are read from here, not found by sorting them all.
Index(
    "ix_contacts_order",
    ContactRow.campaign_id,
    ContactRow.state,
    ContactRow.priority.desc(),
    ContactRow.next_at,
    ContactRow.id,
)


class DialRecordRow(Base):
    """One dial, written once (append-only: see database.py's triggers)."""

    __tablename__ = "dial_records"
    __table_args__ = (
        Index("ix_dial_records_campaign_dialled", "campaign_id", "dialled_at"),
        Index("ix_dial_records_dialled", "dialled_at"),
        Index("ix_dial_records_number", "number", "dialled_at"),
    )
    id: Mapped[str] = mapped_column(String(150), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    rule_set_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(20))
    caller_id: Mapped[str] = mapped_column(String(32))
    dialled_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    live_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    connected_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amd: Mapped[str] = mapped_column(String(20))
    at_risk: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # version 8


class DispositionRow(Base):
    """What an agent recorded after a dial, written once (append-only)."""

    __tablename__ = "dispositions"
    __table_args__ = (
        Index("ix_dispositions_campaign_at", "campaign_id", "at"),
        Index("ix_dispositions_dial", "dial_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dial_id: Mapped[str] = mapped_column(String(150))
    campaign_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)
    answers: Mapped[str] = mapped_column(Text)  # JSON: question id -> text, number or yes/no
    note: Mapped[str] = mapped_column(Text)
    callback_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    callback_agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    erased_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # version 8


class RefusalRow(Base):
    """A dial the compliance check refused, written once (append-only)."""

    __tablename__ = "refusals"
    __table_args__ = (Index("ix_refusals_campaign_at", "campaign_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)
    retry_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    erased_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # version 8


class SuppressionRow(Base):
    """A number on a do-not-call list: "internal" (objections) or a screened register."""

    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_number", "number"),)
    register: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    added_at: Mapped[float] = mapped_column(Float)


class RegisterRow(Base):
    """A register's last screening: when, and how many numbers it listed."""

    __tablename__ = "registers"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    screened_at: Mapped[float] = mapped_column(Float)
    numbers: Mapped[int] = mapped_column(Integer)


# --- version 7: people's accounts and web sessions (api/accounts) ---------------------------


class UserRow(Base):
    """A person who signs in. An agent's account goes with its agent: the foreign key
    removes it (and, below, its sessions) when the agent is deleted."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), nullable=True, index=True
    )
    device: Mapped[str | None] = mapped_column(String(120), nullable=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Float)


class WebSessionRow(Base):
    """A signed-in browser, under the SHA-256 of its cookie's token (never the token)."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)


# --- version 7: agents' notes on interactions (the contact history) --------------------------


class NoteRow(Base):
    """A note on a contact's number (and perhaps the call or dial it was written on). No
    foreign keys: like the interactions, a note outlives its agent and its campaign."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_number_at", "number", "at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    number: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(150), nullable=True)
    dial_id: Mapped[str | None] = mapped_column(String(150), nullable=True)
    text: Mapped[str] = mapped_column(Text)


# --- version 8: the audit log (privacy) --------------------------------------------------------


class AuditRow(Base):
    """Who did what to personal data, when: an erasure, an export. Its subject is a
    pseudonym, never the number (the log must not keep what an erasure removed)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)


# --- version 8: retention (the policy, legal holds, the purge's permit) -----------------------


class RetentionPolicyRow(Base):
    """The retention policy (domain/retention.py) as one JSON document."""

    __tablename__ = "retention_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)


class LegalHoldRow(Base):
    """A legal hold: nothing of the number, campaign or contact is purged while it lasts."""

    __tablename__ = "legal_holds"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(129), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class PurgePermitRow(Base):
    """Present only inside a purge's own transaction (so never seen by another): the one
    thing that lets the append-only records' triggers allow a DELETE (database.py)."""

    __tablename__ = "purge_permits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


# --- version 8: recordings ----------------------------------------------------------------------


class RecordingRow(Base):
    """A call's recording (domain/recording.py): its record as last saved, and once the PBX
    has closed the file, its size and SHA-256."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_started", "started_at"),
        Index("ix_recordings_number", "caller_number"),
        Index("ix_recordings_call", "call_id"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(150))
    pbx: Mapped[str] = mapped_column(String(64))
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_number: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    pauses: Mapped[str] = mapped_column(Text)  # JSON: [[paused at, resumed at or null], ...]
    file: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(150), default="")  # the leg recorded
    failure: Mapped[str] = mapped_column(Text, default="")  # why nothing was recorded
    # version 9: the recording notice (domain/recording.py Consent): heard, refused, ...
    consent: Mapped[str] = mapped_column(String(20), default="", server_default="")
    campaign_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # version 9
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
