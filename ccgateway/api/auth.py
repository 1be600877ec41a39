"""Who may do what: API keys, the three roles, and the one table of permissions."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.api.errors import forbidden, unauthenticated
from ccgateway.ports import KeyStore


class Role(StrEnum):
    ADMIN = "admin"  # everything
    SUPERVISOR = "supervisor"  # read everything; change any agent's state; monitor calls
    AGENT = "agent"  # read and change only its own agent


class Permission(StrEnum):
    CONFIGURE = "configure"  # skills, agents, queues: create, change, delete
    READ = "read"  # configuration, live state, interactions, events
    MANAGE_KEYS = "manage_keys"
    SET_ANY_AGENT_STATE = "set_any_agent_state"
    OWN_AGENT = "own_agent"  # read and set the state of one's own agent
    MONITOR_CALLS = "monitor_calls"  # listen to, whisper to or barge into a live call


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset(
        {
            Permission.READ,
            Permission.SET_ANY_AGENT_STATE,
            Permission.OWN_AGENT,
            Permission.MONITOR_CALLS,
        }
    ),
    Role.AGENT: frozenset({Permission.OWN_AGENT}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    agent_id: str | None = None
    key_id: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise forbidden(f"the {self.role.value} role may not do this")

    def require_agent(self, agent_id: str, *, change_state: bool = False) -> None:
        """Reading (or changing the state of) one agent: own agent, or a wider role."""
        wider = Permission.SET_ANY_AGENT_STATE if change_state else Permission.READ
        if self.can(wider):
            return
        if self.can(Permission.OWN_AGENT) and self.agent_id == agent_id:
            return
        raise forbidden(f"this key acts only for agent {self.agent_id!r}")


class Authenticator:
    def __init__(self, admin_key: str, keys: KeyStore) -> None:
        self._admin_key = admin_key.encode()
        self._keys = keys

    def from_header(self, authorization: str | None) -> Principal:
        if not authorization:
            raise unauthenticated()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated()
        return self.from_key(token.strip())

    def from_key(self, key: str) -> Principal:
        if hmac.compare_digest(key.encode(), self._admin_key):
            return Principal(Role.ADMIN, key_id="config")
        info = self._keys.find(key)
        if info is None:
            raise unauthenticated("unknown API key")
        return Principal(Role(info.role), info.agent_id, info.id)
