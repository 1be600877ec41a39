"""People signing in: accounts with argon2id passwords, browser sessions, login throttling.

A session is a random token in an HttpOnly, SameSite=Strict cookie (`SESSION_COOKIE`); the
database keeps only the token's SHA-256, with the session's CSRF token and when it was last
used. A session idle for `api.session_idle_s` ends (a wallboard's never: it sits on a TV).
Every use reads the account again, so a changed role or a removed account (or agent) takes
effect at the next request. Everything here blocks (argon2, the database): the API calls it
through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ccgateway.api.auth import Principal, Role, check_key_owner
from ccgateway.api.errors import Forbidden, TooManyAttempts, Unauthenticated
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.domain.model import DEVICE_PATTERN
from ccgateway.ports import SessionStore, UserInfo, UserStore, WebSession

SESSION_COOKIE = "ccgw_session"
CSRF_HEADER = "X-CSRF-Token"
USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a bound keeps a login from costing more
NO_IDLE_TIMEOUT = frozenset({Role.WALLBOARD})
# A session's last use is written at most this often: a page's burst of requests costs one
# write, and the idle timeout is late by at most this much.
TOUCH_EVERY_S = 5.0
BAD_LOGIN = "wrong user name or password"  # the same whether the user exists or not


class Passwords:
    """argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches; with no stored hash the check runs all the same on a
        dummy one, so the time taken does not tell whether the user exists."""
        if self._dummy is None:  # made at the first check, whoever it is for: no tell
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        if stored is None:
            stored = self._dummy  # of a random secret nobody knows
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


class LoginThrottle:
    """Failed logins per user name and per client address within a sliding window.

    Kept in memory: a restart of the controller forgets it (an attacker cannot restart the
    controller at will, and the database stays free of a write per failure). Each attempt
    counts as a failure from the start and is taken back when it succeeds, so guesses sent
    in parallel cannot slip past the limit while their hashes are being checked."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self._attempts = attempts
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # logins run in the API's worker threads

    def attempt(self, keys: Sequence[str], now: float) -> None:
        """Count an attempt for each of `keys`; TooManyAttempts (counting nothing) while any
        of them has used up its attempts."""
        with self._lock:
            wait = 0.0
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self._attempts:
                    wait = max(wait, failures[-self._attempts] + self._window_s - now)
            if wait > 0:
                raise TooManyAttempts(max(1, math.ceil(wait)))
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: Sequence[str], now: float) -> None:
        """The attempt made at `now` was right: the name (`keys[0]`) starts afresh, the
        others lose this one attempt."""
        with self._lock:
            self._failures.pop(keys[0], None)
            for key in keys[1:]:
                failures = self._failures.get(key)
                if failures and now in failures:
                    failures.remove(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        if len(self._failures) > 100_000:  # a flood of made-up names: keep memory bounded
            self._failures = {
                k: v for k, v in self._failures.items() if v and v[-1] > now - self._window_s
            }
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window_s:
            failures.popleft()
        return failures


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session in use: who it is, its CSRF token, and its idle timeout (None: none)."""

    principal: Principal
    user: UserInfo
    csrf_token: str
    idle_timeout_s: float | None
    token_hash: str


class Accounts:
    """Creating, changing and removing people's accounts (the API's /v1/users and the CLI)."""

    def __init__(
        self,
        users: UserStore,
        sessions: SessionStore,
        passwords: Passwords,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self.passwords = passwords
        self._now = now

    def add(
        self,
        username: str,
        password: str,
        role: str,
        agent_id: str | None = None,
        device: str | None = None,
        display_name: str = "",
    ) -> UserInfo:
        """A new account; InvalidValue for a bad value or an unknown agent, Conflict if the
        name is taken."""
        if not USERNAME.fullmatch(username):
            raise InvalidValue(
                f"user name {username!r} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', "
                "'@', '-'"
            )
        user = _checked(UserInfo(username, role, agent_id, device, display_name, self._now()))
        self._users.add(user, self.passwords.hash(_checked_password(password)))
        return user

    def get(self, username: str) -> UserInfo:
        user = self._users.get(username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        return user

    def list(self) -> list[UserInfo]:
        return self._users.list()

    def change(self, username: str, changes: Mapping[str, Any]) -> UserInfo:
        """Change the given fields (role, agent_id, device, display_name, password); a new
        password ends every session of the account."""
        fields = {k: v for k, v in changes.items() if k != "password"}
        user = _checked(replace(self.get(username), **fields))
        if not self._users.update(user):
            raise NotFound(f"no user {username!r}")
        if "password" in changes:
            self.set_password(username, changes["password"])
        return user

    def set_password(self, username: str, password: str, keep: str | None = None) -> None:
        """A new password; every session of the account ends but `keep` (a token hash)."""
        hashed = self.passwords.hash(_checked_password(password))
        if not self._users.set_password(username, hashed):
            raise NotFound(f"no user {username!r}")
        self._sessions.delete_for_user(username, keep=keep)

    def remove(self, username: str) -> None:
        if not self._users.delete(username):
            raise NotFound(f"no user {username!r}")


class SessionManager:
    """Logins, sessions and logouts; `principal_for` is what every cookie is checked with."""

    def __init__(
        self,
        users: UserStore,
        sessions: SessionStore,
        *,
        now: Callable[[], float] = time.time,
        idle_s: float = 1800,
        attempts: int = 5,
        window_s: float = 900,
        passwords: Passwords | None = None,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._now = now
        self.idle_s = idle_s
        self._throttle = LoginThrottle(attempts, window_s)
        self.accounts = Accounts(users, sessions, passwords or Passwords(), now)

    @property
    def _passwords(self) -> Passwords:
        return self.accounts.passwords

    def login(self, username: str, password: str, client: str) -> tuple[str, ActiveSession]:
        """A new session's token and the session; Unauthenticated (the same message whether
        the user exists or not), TooManyAttempts after repeated failures."""
        now = self._now()
        keys = (f"user:{username}", f"address:{client}")
        self._throttle.attempt(keys, now)
        stored = self._users.password_hash(username)
        user = self._users.get(username) if stored is not None else None
        if not self._passwords.verify(stored, password) or stored is None or user is None:
            raise Unauthenticated(BAD_LOGIN)
        self._throttle.succeeded(keys, now)
        if self._passwords.needs_rehash(stored):  # stronger settings since it was made
            self._users.set_password(username, self._passwords.hash(password))
        self._sessions.delete_idle(now - self.idle_s, [r.value for r in NO_IDLE_TIMEOUT])
        token = secrets.token_urlsafe(32)
        web = WebSession(_digest(token), username, secrets.token_urlsafe(32), now, now)
        self._sessions.add(web)
        return token, self._active(web, user)

    def session(self, token: str) -> ActiveSession:
        """The session of a cookie's token, its last use now; Unauthenticated if there is
        none (any more)."""
        digest = _digest(token)
        web = self._sessions.find(digest)
        if web is None or not hmac.compare_digest(web.token_hash, digest):
            raise Unauthenticated("not signed in (or the session has ended): sign in again")
        user = self._users.get(web.username)
        if user is None:  # the account (or its agent) was removed
            self._sessions.delete(digest)
            raise Unauthenticated("the account of this session no longer exists")
        active = self._active(web, user)
        now = self._now()
        if active.idle_timeout_s is not None and now - web.last_seen > active.idle_timeout_s:
            self._sessions.delete(digest)
            raise Unauthenticated("the session ended after being idle: sign in again")
        if now - web.last_seen >= TOUCH_EVERY_S:
            self._sessions.touch(digest, now)
        return active

    def principal_for(self, token: str) -> Principal:
        """Who the cookie's token signs in (refreshing its last use); Unauthenticated if
        nobody."""
        return self.session(token).principal

    def logout(self, token: str) -> None:
        self._sessions.delete(_digest(token))

    def change_password(self, token: str, current: str, new: str, client: str) -> None:
        """The session's own account gets a new password; its other sessions end. A wrong
        current password is Forbidden and counts as a failed login (throttled alike)."""
        active = self.session(token)
        username = active.user.username
        now = self._now()
        keys = (f"user:{username}", f"address:{client}")
        self._throttle.attempt(keys, now)
        if not self._passwords.verify(self._users.password_hash(username), current):
            raise Forbidden("the current password is wrong")
        self._throttle.succeeded(keys, now)
        self.accounts.set_password(username, new, keep=active.token_hash)

    def _active(self, web: WebSession, user: UserInfo) -> ActiveSession:
        role = Role(user.role)
        principal = Principal(role, user.agent_id, username=user.username)
        idle = None if role in NO_IDLE_TIMEOUT else self.idle_s
        return ActiveSession(principal, user, web.csrf_token, idle, web.token_hash)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checked(user: UserInfo) -> UserInfo:
    """The account's rules: a known role, an agent exactly for role agent, a phone's form."""
    try:
        role = Role(user.role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise InvalidValue(f"role {user.role!r} is not one of {roles}") from exc
    check_key_owner(role, user.agent_id, what="user")
    if user.device is not None and not DEVICE_PATTERN.fullmatch(user.device):
        raise InvalidValue(f"device {user.device!r} must look like 'PJSIP/sup1'")
    if len(user.display_name) > 200:
        raise InvalidValue("a display name has at most 200 characters")
    return user


def _checked_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidValue(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password
