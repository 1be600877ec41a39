"""The stores behind the ports, on SQLAlchemy: SQLite by default, PostgreSQL by URL.

Each public method is one transaction, so a refused or failed write leaves nothing behind.
Schema changes beyond version 1 will need migrations (Alembic); today the schema is created
on first start and its version recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.persistence.tables import (
    SCHEMA_VERSION,
    AgentRow,
    AgentSkillRow,
    ApiKeyRow,
    Base,
    InteractionRow,
    PresenceRow,
    QueueRequirementRow,
    QueueRow,
    SchemaVersion,
    SkillRow,
)
from ccgateway.ports import InteractionQuery, KeyInfo


def open_database(url: str) -> Engine:
    """An engine with the schema in place; SQLite gets foreign keys, WAL and its folder."""
    options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, pool_pre_ping=True, **options)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        if session.get(SchemaVersion, SCHEMA_VERSION) is None:
            session.add(SchemaVersion(version=SCHEMA_VERSION))
    return engine


class _Store:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)


class SqlConfigStore(_Store):
    def load(self) -> tuple[list[Skill], list[Agent], list[Queue]]:
        with self._sessions() as session:
            skills = [Skill(r.id, r.name) for r in session.scalars(select(SkillRow))]
            agents = [
                Agent(r.id, r.name, r.device, {s.skill_id: s.level for s in r.skills}, r.pbx)
                for r in session.scalars(select(AgentRow))
            ]
            queues = [
                Queue(
                    r.id,
                    r.name,
                    r.extension,
                    {q.skill_id: q.min_level for q in r.requires},
                    r.ring_timeout_s,
                    r.wrapup_s,
                    r.pbx,
                )
                for r in session.scalars(select(QueueRow))
            ]
        return skills, agents, queues

    def put_skill(self, skill: Skill) -> None:
        with self._sessions.begin() as session:
            session.merge(SkillRow(id=skill.id, name=skill.name))

    def delete_skill(self, skill_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(SkillRow).where(SkillRow.id == skill_id))

    def put_agent(self, agent: Agent) -> None:
        with self._sessions.begin() as session:
            row = session.get(AgentRow, agent.id) or AgentRow(id=agent.id)
            row.name, row.device, row.pbx = agent.name, agent.device, agent.pbx
            row.skills = [
                AgentSkillRow(agent_id=agent.id, skill_id=s, level=lvl)
                for s, lvl in sorted(agent.skills.items())
            ]
            session.add(row)

    def delete_agent(self, agent_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(AgentRow, agent_id)
            if row is not None:
                session.execute(delete(PresenceRow).where(PresenceRow.agent_id == agent_id))
                session.delete(row)

    def put_queue(self, queue: Queue) -> None:
        with self._sessions.begin() as session:
            row = session.get(QueueRow, queue.id) or QueueRow(id=queue.id)
            row.name, row.extension, row.pbx = queue.name, queue.extension, queue.pbx
            row.ring_timeout_s, row.wrapup_s = queue.ring_timeout_s, queue.wrapup_s
            row.requires = [
                QueueRequirementRow(queue_id=queue.id, skill_id=s, min_level=lvl)
                for s, lvl in sorted(queue.requires.items())
            ]
            session.add(row)

    def delete_queue(self, queue_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(QueueRow, queue_id)
            if row is not None:
                session.delete(row)

    def load_presence(self) -> dict[str, tuple[AgentState, str | None]]:
        with self._sessions() as session:
            return {
                r.agent_id: (AgentState(r.state), r.reason)
                for r in session.scalars(select(PresenceRow))
            }

    def save_presence(self, agent_id: str, state: AgentState, reason: str | None) -> None:
        with self._sessions.begin() as session:
            if session.get(AgentRow, agent_id) is not None:  # removed meanwhile: nothing to do
                session.merge(PresenceRow(agent_id=agent_id, state=state.value, reason=reason))


class SqlInteractionStore(_Store):
    def add(self, interaction: Interaction) -> None:
        i = interaction
        try:
            with self._sessions.begin() as session:
                session.add(
                    InteractionRow(
                        call_id=i.call_id,
                        queue_id=i.queue_id,
                        agent_id=i.agent_id,
                        caller_number=i.caller_number,
                        outcome=i.outcome.value,
                        arrived_at=i.arrived_at,
                        answered_at=i.answered_at,
                        ended_at=i.ended_at,
                        wait_s=i.wait_s,
                        talk_s=i.talk_s,
                        offers=i.offers,
                    )
                )
        except IntegrityError:
            pass  # the same record twice: it is there once, as it should be

    def query(self, query: InteractionQuery) -> list[Interaction]:
        statement = select(InteractionRow)
        if query.queue_id is not None:
            statement = statement.where(InteractionRow.queue_id == query.queue_id)
        if query.agent_id is not None:
            statement = statement.where(InteractionRow.agent_id == query.agent_id)
        if query.since is not None:
            statement = statement.where(InteractionRow.arrived_at >= query.since)
        if query.until is not None:
            statement = statement.where(InteractionRow.arrived_at < query.until)
        statement = statement.order_by(InteractionRow.arrived_at, InteractionRow.id)
        statement = statement.limit(query.limit).offset(query.offset)
        with self._sessions() as session:
            return [
                Interaction(
                    r.call_id,
                    r.queue_id,
                    r.agent_id,
                    r.caller_number,
                    Outcome(r.outcome),
                    r.arrived_at,
                    r.answered_at,
                    r.ended_at,
                    r.wait_s,
                    r.talk_s,
                    r.offers,
                )
                for r in session.scalars(statement)
            ]


class SqlKeyStore(_Store):
    """API keys, stored only as SHA-256 hashes: the key itself is shown once, at creation."""

    def create(self, name: str, role: str, agent_id: str | None) -> tuple[KeyInfo, str]:
        plaintext = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=secrets.token_hex(8),
            name=name,
            role=role,
            agent_id=agent_id,
            key_hash=_hash(plaintext),
            created_at=time.time(),
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _info(row), plaintext

    def find(self, plaintext: str) -> KeyInfo | None:
        digest = _hash(plaintext)
        with self._sessions() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        return _info(row)

    def list(self) -> list[KeyInfo]:
        with self._sessions() as session:
            return [
                _info(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            ]

    def delete(self, key_id: str) -> bool:
        with self._sessions.begin() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                return False
            session.delete(row)
            return True


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.id, row.name, row.role, row.agent_id, row.created_at)
