"""The stores behind the ports, on SQLAlchemy (sync: the services call them in a thread).

Each public method is one transaction, so a refused or failed write leaves nothing behind.
A write the database refuses (a duplicate device or extension, a skill still in use) raises
`Conflict`, translated from the driver's IntegrityError: the services check these rules
first, so this is the backstop for a race or a second writer, not the usual path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.errors import Conflict
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.persistence.codec import queue_settings_from_json, queue_settings_to_json
from ccgateway.persistence.tables import (
    AgentRow,
    AgentSkillRow,
    ApiKeyRow,
    InteractionRow,
    PresenceRow,
    QueueRequirementRow,
    QueueRow,
    SkillRow,
)
from ccgateway.ports import InteractionQuery, KeyInfo


class SqlStore:
    def __init__(self, engine: Engine, now: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._now = now

    @contextmanager
    def _writing(self, what: str) -> Iterator[Session]:
        """One write transaction; the database's refusal becomes a Conflict naming `what`."""
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "refused"
            raise Conflict(f"cannot save {what}: the database refused it ({reason})") from exc


class SqlConfigStore(SqlStore):
    def load(self) -> tuple[list[Skill], list[Agent], list[Queue]]:
        with self._sessions() as session:
            skills = [Skill(r.id, r.name) for r in session.scalars(select(SkillRow))]
            agents = [
                Agent(
                    r.id,
                    r.name,
                    r.device,
                    {s.skill_id: s.level for s in r.skills},
                    r.pbx,
                    json.loads(r.attributes or "{}"),
                    json.loads(r.capacity or "{}"),
                )
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
                    **queue_settings_from_json(r.routing),
                )
                for r in session.scalars(select(QueueRow))
            ]
        return skills, agents, queues

    def put_skill(self, skill: Skill) -> None:
        with self._writing(f"skill {skill.id}") as session:
            session.merge(SkillRow(id=skill.id, name=skill.name))

    def delete_skill(self, skill_id: str) -> None:
        with self._writing(f"the removal of skill {skill_id}") as session:
            session.execute(delete(SkillRow).where(SkillRow.id == skill_id))

    def put_agent(self, agent: Agent) -> None:
        """The agent and its skills, replaced together."""
        with self._writing(f"agent {agent.id}") as session:
            row = session.get(AgentRow, agent.id) or AgentRow(id=agent.id)
            row.name, row.device, row.pbx = agent.name, agent.device, agent.pbx
            row.attributes = json.dumps(dict(agent.attributes), sort_keys=True)
            row.capacity = json.dumps(dict(agent.capacity), sort_keys=True)
            row.skills = [
                AgentSkillRow(agent_id=agent.id, skill_id=s, level=lvl)
                for s, lvl in sorted(agent.skills.items())
            ]
            session.add(row)

    def delete_agent(self, agent_id: str) -> None:
        with self._writing(f"the removal of agent {agent_id}") as session:
            row = session.get(AgentRow, agent_id)
            if row is not None:
                session.execute(delete(PresenceRow).where(PresenceRow.agent_id == agent_id))
                session.delete(row)

    def put_queue(self, queue: Queue) -> None:
        """The queue and its requirements, replaced together."""
        with self._writing(f"queue {queue.id}") as session:
            row = session.get(QueueRow, queue.id) or QueueRow(id=queue.id)
            row.name, row.extension, row.pbx = queue.name, queue.extension, queue.pbx
            row.ring_timeout_s, row.wrapup_s = queue.ring_timeout_s, queue.wrapup_s
            row.routing = queue_settings_to_json(queue)
            row.requires = [
                QueueRequirementRow(queue_id=queue.id, skill_id=s, min_level=lvl)
                for s, lvl in sorted(queue.requires.items())
            ]
            session.add(row)

    def delete_queue(self, queue_id: str) -> None:
        with self._writing(f"the removal of queue {queue_id}") as session:
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
        """The agent's state to restore after a restart; for an agent since removed, nothing."""
        with self._writing(f"the presence of agent {agent_id}") as session:
            if session.get(AgentRow, agent_id) is not None:
                row = PresenceRow(
                    agent_id=agent_id, state=state.value, reason=reason, updated_at=self._now()
                )
                session.merge(row)


class SqlInteractionStore(SqlStore):
    def __init__(self, engine: Engine, now: Callable[[], float] = time.time) -> None:
        super().__init__(engine, now)
        self._insert, self._ignored = _insert_once(engine.dialect.name)

    def add(self, interaction: Interaction) -> None:
        """Append one finished call; the same record (call id, arrival, end) twice is kept once."""
        i = interaction
        values: dict[str, Any] = {
            "call_id": i.call_id,
            "queue_id": i.queue_id,
            "agent_id": i.agent_id,
            "caller_number": i.caller_number,
            "outcome": i.outcome.value,
            "arrived_at": i.arrived_at,
            "answered_at": i.answered_at,
            "ended_at": i.ended_at,
            "wait_s": i.wait_s,
            "talk_s": i.talk_s,
            "offers": i.offers,
            "detail": i.detail,
            "kind": i.kind,
            "channel": i.channel,
        }
        with suppress(*self._ignored), self._engine.begin() as connection:
            connection.execute(self._insert, values)

    def recorded(self, call_ids: Collection[str]) -> set[str]:
        """Which of these calls already have a record: a call the PBX's end marks tell of
        (domain/gap.py) is written only if the controller did not record it itself."""
        found: set[str] = set()
        wanted = sorted(set(call_ids))
        with self._sessions() as session:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                chunk = wanted[start : start + 500]
                statement = select(InteractionRow.call_id).where(InteractionRow.call_id.in_(chunk))
                found.update(session.scalars(statement))
        return found

    def query(self, query: InteractionQuery) -> list[Interaction]:
        """Oldest first by arrival (or newest first); `since` is inclusive, `until` exclusive."""
        statement = select(InteractionRow)
        if query.queue_id is not None:
            statement = statement.where(InteractionRow.queue_id == query.queue_id)
        if query.agent_id is not None:
            statement = statement.where(InteractionRow.agent_id == query.agent_id)
        if query.caller_number is not None:
            statement = statement.where(InteractionRow.caller_number == query.caller_number)
        if query.call_id is not None:
            statement = statement.where(InteractionRow.call_id == query.call_id)
        if query.since is not None:
            statement = statement.where(InteractionRow.arrived_at >= query.since)
        if query.until is not None:
            statement = statement.where(InteractionRow.arrived_at < query.until)
        if query.newest_first:
            statement = statement.order_by(
                InteractionRow.arrived_at.desc(), InteractionRow.id.desc()
            )
        else:
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
                    r.detail,
                    r.kind,
                    r.channel,
                )
                for r in session.scalars(statement)
            ]


class SqlKeyStore(SqlStore):
    """API keys, stored only as SHA-256 hashes: the key itself is shown once, at creation."""

    def create(self, name: str, role: str, agent_id: str | None) -> tuple[KeyInfo, str]:
        """A new key (32 random bytes, URL-safe); only its SHA-256 is stored."""
        plaintext = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=secrets.token_hex(8),
            name=name,
            role=role,
            agent_id=agent_id,
            key_hash=_hash(plaintext),
            created_at=self._now(),
        )
        with self._writing(f"key {name!r}") as session:
            session.add(row)
        return _info(row), plaintext

    def find(self, plaintext: str) -> KeyInfo | None:
        """The key's record, looked up by its hash.

        The lookup compares hashes, not keys, so its timing says nothing useful about the
        key; the final check is constant-time all the same.
        """
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


_INTERACTIONS: Table = InteractionRow.__table__  # type: ignore[assignment]
_IDENTITY = ("call_id", "arrived_at", "ended_at")  # tables.InteractionRow's unique constraint


def _insert_once(dialect: str) -> tuple[Executable, tuple[type[Exception], ...]]:
    """The interaction's INSERT, built once per store and run with each record's values as
    parameters (built per record, SQLAlchemy coerced the values and computed the statement's
    cache key every time: a sixth of the controller's CPU under load, issue 14), and the
    errors that mean the record was there already. Adding the same record again is a no-op."""
    if dialect == "sqlite":
        return sqlite.insert(_INTERACTIONS).on_conflict_do_nothing(index_elements=_IDENTITY), ()
    if dialect == "postgresql":
        statement = postgresql.insert(_INTERACTIONS)
        return statement.on_conflict_do_nothing(index_elements=_IDENTITY), ()
    # Another database: the unique constraint alone keeps the record once.
    return insert(_INTERACTIONS), (IntegrityError,)
