"""People's accounts and their browser sessions, on SQLAlchemy (SQLite and PostgreSQL).

Passwords arrive here already hashed (argon2id, api/sessions.py) and sessions under the
SHA-256 of their token: neither a password nor a session's token is ever stored. An agent's
account hangs on its agent by a foreign key with ON DELETE CASCADE, and its sessions on the
account: deleting an agent ends its people's accounts and sessions in the database itself.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select, update

from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import AgentRow, UserRow, WebSessionRow
from ccgateway.ports import UserInfo, WebSession


class SqlUserStore(SqlStore):
    def add(self, user: UserInfo, password_hash: str) -> None:
        with self._writing(f"user {user.username!r}") as session:
            if session.get(UserRow, user.username) is not None:
                raise Conflict(f"there is a user {user.username!r} already")
            if user.agent_id is not None and session.get(AgentRow, user.agent_id) is None:
                raise InvalidValue(f"no agent {user.agent_id!r} for user {user.username!r}")
            session.add(
                UserRow(
                    username=user.username,
                    password_hash=password_hash,
                    role=user.role,
                    agent_id=user.agent_id,
                    device=user.device,
                    display_name=user.display_name,
                    created_at=user.created_at,
                )
            )

    def get(self, username: str) -> UserInfo | None:
        with self._sessions() as session:
            row = session.get(UserRow, username)
            return None if row is None else _user(row)

    def password_hash(self, username: str) -> str | None:
        with self._sessions() as session:
            row = session.get(UserRow, username)
            return None if row is None else row.password_hash

    def list(self) -> list[UserInfo]:
        with self._sessions() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def update(self, user: UserInfo) -> bool:
        with self._writing(f"user {user.username!r}") as session:
            row = session.get(UserRow, user.username)
            if row is None:
                return False
            if user.agent_id is not None and session.get(AgentRow, user.agent_id) is None:
                raise InvalidValue(f"no agent {user.agent_id!r} for user {user.username!r}")
            row.role, row.agent_id, row.device = user.role, user.agent_id, user.device
            row.display_name = user.display_name
            return True

    def set_password(self, username: str, password_hash: str) -> bool:
        with self._writing(f"the password of {username!r}") as session:
            statement = (
                update(UserRow)
                .where(UserRow.username == username)
                .values(password_hash=password_hash)
            )
            return int(session.execute(statement).rowcount) > 0  # type: ignore[attr-defined]

    def delete(self, username: str) -> bool:
        with self._writing(f"the removal of user {username!r}") as session:
            # Sessions first: SQLite enforces the cascade only with foreign keys on, and a
            # database opened elsewhere might not have them.
            session.execute(delete(WebSessionRow).where(WebSessionRow.username == username))
            result = session.execute(delete(UserRow).where(UserRow.username == username))
            return int(result.rowcount) > 0  # type: ignore[attr-defined]


class SqlSessionStore(SqlStore):
    def add(self, web: WebSession) -> None:
        with self._writing(f"a session of {web.username!r}") as session:
            session.add(
                WebSessionRow(
                    token_hash=web.token_hash,
                    username=web.username,
                    csrf_token=web.csrf_token,
                    created_at=web.created_at,
                    last_seen=web.last_seen,
                )
            )

    def find(self, token_hash: str) -> WebSession | None:
        with self._sessions() as session:
            row = session.get(WebSessionRow, token_hash)
            if row is None:
                return None
            return WebSession(
                row.token_hash, row.username, row.csrf_token, row.created_at, row.last_seen
            )

    def touch(self, token_hash: str, at: float) -> None:
        with self._writing("a session's last use") as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == token_hash)
                .values(last_seen=at)
            )

    def delete(self, token_hash: str) -> None:
        with self._writing("the end of a session") as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    def delete_for_user(self, username: str, keep: str | None = None) -> int:
        statement = delete(WebSessionRow).where(WebSessionRow.username == username)
        if keep is not None:
            statement = statement.where(WebSessionRow.token_hash != keep)
        with self._writing(f"the end of {username!r}'s sessions") as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def delete_idle(self, seen_before: float, exempt_roles: Collection[str]) -> int:
        exempt = select(UserRow.username).where(UserRow.role.in_(list(exempt_roles)))
        statement = delete(WebSessionRow).where(
            WebSessionRow.last_seen < seen_before, WebSessionRow.username.not_in(exempt)
        )
        with self._writing("the end of idle sessions") as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _user(row: UserRow) -> UserInfo:
    return UserInfo(
        row.username, row.role, row.agent_id, row.device, row.display_name, row.created_at
    )
