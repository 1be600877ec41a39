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
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# 2: agent_presence.updated_at; 3: agents.attributes, queues.routing; 4: interactions.detail,
# kind and channel, agents.capacity, and the callbacks and tasks tables
SCHEMA_VERSION = 4


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
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(120), unique=True)
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
    __table_args__ = (Index("ix_callbacks_state", "state"),)
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
