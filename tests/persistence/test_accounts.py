"""People's accounts and web sessions on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.model import Agent
from ccgateway.persistence import SqlConfigStore, open_database
from ccgateway.persistence.accounts import SqlSessionStore, SqlUserStore
from ccgateway.ports import UserInfo, WebSession

SUP = UserInfo("sup.one@floor", "supervisor", None, "PJSIP/sup1", "Sue", 100.0)
DESK = UserInfo("desk1", "agent", "ann", None, "Ann", 200.0)


def web(token_hash: str, username: str, last_seen: float) -> WebSession:
    return WebSession(token_hash, username, f"csrf-{token_hash}", 1.0, last_seen)


@pytest.fixture
def stores(engine: Engine) -> tuple[SqlUserStore, SqlSessionStore, SqlConfigStore]:
    config = SqlConfigStore(engine)
    config.put_agent(Agent("ann", "Ann", "PJSIP/agent1", {}))
    return SqlUserStore(engine), SqlSessionStore(engine), config


def test_users_are_added_read_changed_and_removed(
    stores: tuple[SqlUserStore, SqlSessionStore, SqlConfigStore],
) -> None:
    users, _, _ = stores
    users.add(SUP, "$argon2id$sup")
    users.add(DESK, "$argon2id$desk")
    assert users.get("sup.one@floor") == SUP
    assert users.get("nobody") is None
    assert users.list() == [DESK, SUP]  # by name
    assert users.password_hash("desk1") == "$argon2id$desk"
    assert users.password_hash("nobody") is None

    assert users.set_password("desk1", "$argon2id$new")
    assert users.password_hash("desk1") == "$argon2id$new"
    assert not users.set_password("nobody", "$argon2id$new")

    moved = UserInfo("sup.one@floor", "admin", None, None, "Sue A.", 100.0)
    assert users.update(moved)
    assert users.get("sup.one@floor") == moved
    assert not users.update(UserInfo("nobody", "admin", None, None, "", 1.0))

    assert users.delete("sup.one@floor")
    assert not users.delete("sup.one@floor")
    assert users.list() == [DESK]


def test_a_taken_name_or_an_unknown_agent_is_refused(
    stores: tuple[SqlUserStore, SqlSessionStore, SqlConfigStore],
) -> None:
    users, _, _ = stores
    users.add(DESK, "h")
    with pytest.raises(Conflict, match="already"):
        users.add(DESK, "h")
    with pytest.raises(InvalidValue, match="no agent 'bob'"):
        users.add(UserInfo("desk2", "agent", "bob", None, "", 1.0), "h")
    with pytest.raises(InvalidValue, match="no agent 'bob'"):
        users.update(UserInfo("desk1", "agent", "bob", None, "", 1.0))
    assert users.list() == [DESK]


def test_sessions_are_found_touched_and_ended(
    stores: tuple[SqlUserStore, SqlSessionStore, SqlConfigStore],
) -> None:
    users, sessions, _ = stores
    users.add(SUP, "h")
    users.add(DESK, "h")
    for name, user in (("a", SUP), ("b", SUP), ("c", DESK)):
        sessions.add(web(name, user.username, 10.0))
    assert sessions.find("a") == web("a", SUP.username, 10.0)
    assert sessions.find("zzz") is None
    sessions.touch("a", 50.0)
    assert sessions.find("a") == web("a", SUP.username, 50.0)
    sessions.delete("a")
    assert sessions.find("a") is None

    sessions.add(web("a", SUP.username, 10.0))
    assert sessions.delete_for_user(SUP.username, keep="a") == 1
    assert [sessions.find(h) is not None for h in "abc"] == [True, False, True]
    assert sessions.delete_for_user(SUP.username) == 1
    assert sessions.find("c") is not None


def test_idle_sessions_end_but_those_of_exempt_roles(
    stores: tuple[SqlUserStore, SqlSessionStore, SqlConfigStore],
) -> None:
    users, sessions, _ = stores
    users.add(SUP, "h")
    users.add(UserInfo("tv", "wallboard", None, None, "TV", 1.0), "h")
    sessions.add(web("old", SUP.username, 10.0))
    sessions.add(web("new", SUP.username, 100.0))
    sessions.add(web("tv", "tv", 10.0))
    assert sessions.delete_idle(50.0, exempt_roles=["wallboard"]) == 1
    assert [sessions.find(h) is not None for h in ("old", "new", "tv")] == [False, True, True]


def test_removing_a_user_or_their_agent_ends_their_sessions(
    stores: tuple[SqlUserStore, SqlSessionStore, SqlConfigStore],
) -> None:
    users, sessions, config = stores
    users.add(SUP, "h")
    users.add(DESK, "h")
    sessions.add(web("sup", SUP.username, 1.0))
    sessions.add(web("desk", DESK.username, 1.0))
    users.delete(SUP.username)
    assert sessions.find("sup") is None
    config.delete_agent("ann")  # the agent's accounts go with it, and their sessions
    assert users.get("desk1") is None
    assert sessions.find("desk") is None


def test_sessions_survive_a_reopening(engine: Engine) -> None:
    users, sessions = SqlUserStore(engine), SqlSessionStore(engine)
    users.add(SUP, "h")
    sessions.add(web("a", SUP.username, 5.0))
    url = engine.url
    engine.dispose()
    reopened = open_database(url.render_as_string(hide_password=False))
    try:
        assert SqlSessionStore(reopened).find("a") == web("a", SUP.username, 5.0)
        assert SqlUserStore(reopened).get(SUP.username) == SUP
    finally:
        reopened.dispose()
