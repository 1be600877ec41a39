"""Who may do what: API keys, people's sessions, the four roles, and the one table of
permissions.

    role        configure  read  keys  any agent's state  own agent  monitor/manage work  floor
    admin           x        x     x           x               x              x              x
    supervisor               x                 x               x              x              x
    agent                                                      x
    wallboard                                                                                x

"Configure" covers the dialer's rule sets, campaigns, contact lists and the registers'
do-not-call screenings too. "Own agent" is reading `GET /v1/agents/{own}` (and its figures),
`POST /v1/agents/{own}/state`, transferring the agent's own calls, answering its own tasks and
previews and disposing of its own dials, for the agent the key belongs to. "Manage work" is
changing a call's priority, transferring any call, making, changing and cancelling callbacks
and tasks, starting, pausing and stopping campaigns, scheduling a contact's callback and adding
numbers to the internal do-not-call list. "Keys" is managing API keys and people's accounts.
"Floor" is the wallboard's read-only view: `GET /v1/queues`, a queue's status and figures,
`GET /v1/agents` (with their states), `GET /v1/campaigns` and a campaign's figures; never
callers' numbers or names, history or any change. Any valid key or session may ask
`GET /v1/health`. The admin key from the settings is an admin that cannot be deleted; every
other key lives in the KeyStore. People sign in with a user name and password (api/sessions.py)
and act with their account's role; a key or account of role agent stops working when its agent
is deleted.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.api.errors import Forbidden, Unauthenticated
from ccgateway.domain.errors import InvalidValue
from ccgateway.ports import KeyStore


class Role(StrEnum):
    ADMIN = "admin"  # everything
    SUPERVISOR = "supervisor"  # read everything; change any agent's state; monitor calls
    AGENT = "agent"  # read and change only its own agent
    WALLBOARD = "wallboard"  # read the floor's figures only: no callers, history or changes


class Permission(StrEnum):
    CONFIGURE = "configure"  # skills, agents, queues, campaigns, rule sets, lists: create, ...
    READ = "read"  # configuration, live state, interactions, events
    MANAGE_KEYS = "manage_keys"
    SET_ANY_AGENT_STATE = "set_any_agent_state"
    OWN_AGENT = "own_agent"  # read and set the state of one's own agent
    MONITOR_CALLS = "monitor_calls"  # listen to, whisper to or barge into a live call
    MANAGE_CALLS = "manage_calls"  # priorities, transfers, callbacks, tasks; running campaigns
    VIEW_FLOOR = "view_floor"  # queues, their status and figures, agents, campaigns' figures
    PERSONAL_DATA = "personal_data"  # erase or export a person's data; read the audit log


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset(
        {
            Permission.READ,
            Permission.SET_ANY_AGENT_STATE,
            Permission.OWN_AGENT,
            Permission.MONITOR_CALLS,
            Permission.MANAGE_CALLS,
            Permission.VIEW_FLOOR,
        }
    ),
    Role.AGENT: frozenset({Permission.OWN_AGENT}),
    Role.WALLBOARD: frozenset({Permission.VIEW_FLOOR}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    agent_id: str | None = None
    key_id: str | None = None
    username: str | None = None  # a person signed in with a session (api/sessions.py)

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            action = permission.value.replace("_", " ")
            raise Forbidden(f"the {self.role.value} role may not {action}")

    def require_agent(self, agent_id: str, *, change_state: bool = False) -> None:
        """Reading (or changing the state of) one agent: own agent, or a wider role."""
        wider = Permission.SET_ANY_AGENT_STATE if change_state else Permission.READ
        if self.can(wider):
            return
        if self.can(Permission.OWN_AGENT) and self.agent_id == agent_id:
            return
        raise Forbidden(f"this key or account acts only for agent {self.agent_id!r}")


class Authenticator:
    """Turns a presented key into a Principal, or raises Unauthenticated."""

    def __init__(self, admin_key: str, keys: KeyStore) -> None:
        self._admin_key = admin_key.encode()
        self._keys = keys

    def from_header(self, authorization: str | None) -> Principal:
        """From an `Authorization: Bearer <key>` header's value."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated()
        return self.from_key(token.strip())

    def from_key(self, key: str) -> Principal:
        admin = self.admin(key)
        return admin if admin is not None else self.stored(key)

    def admin(self, key: str) -> Principal | None:
        """The settings' admin key's Principal, or None: a constant-time compare in memory,
        so it may run on the event loop."""
        if hmac.compare_digest(key.encode(), self._admin_key):
            return Principal(Role.ADMIN, key_id="config")
        return None

    def stored(self, key: str) -> Principal:
        """A key of the KeyStore (a lookup that blocks: run it in a thread)."""
        info = self._keys.find(key)
        if info is None:
            raise Unauthenticated("unknown API key")
        return Principal(Role(info.role), info.agent_id, info.id)


def check_key_owner(role: Role, agent_id: str | None, what: str = "key") -> None:
    """An agent key (or account) belongs to exactly one agent; other keys to none."""
    if role is Role.AGENT and agent_id is None:
        raise InvalidValue(f"a {what} with role agent needs agent_id")
    if role is not Role.AGENT and agent_id is not None:
        raise InvalidValue(f"only {what}s with role agent belong to an agent")
