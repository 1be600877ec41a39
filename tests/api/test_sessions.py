"""People signing in: accounts, session cookies, CSRF, throttling, idle timeout, logout,
password changes, /v1/users, and `ccgateway users` run for real."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.api.sessions import SESSION_COOKIE
from tests.services.stack import Stack

PASSWORD = "correct horse battery"
Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[Client]:
    """Browsers of their own (cookie jars), from an address of their own if asked."""
    made: list[httpx.AsyncClient] = []

    def new(address: str = "127.0.0.1", base_url: str = "http://test") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=stack.api, client=(address, 40000))
        made.append(httpx.AsyncClient(transport=transport, base_url=base_url))
        return made[-1]

    yield new
    for browser in made:
        await browser.aclose()


async def add_user(stack: Stack, username: str, role: str, **fields: Any) -> Any:
    body = {"username": username, "password": PASSWORD, "role": role, **fields}
    return await stack.ok("POST", "/v1/users", body)


async def login(
    browser: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await browser.post("/v1/session", json={"username": username, "password": password})


async def signed_in(client: Client, username: str, **kwargs: str) -> tuple[httpx.AsyncClient, str]:
    """A browser signed in as `username`, and its CSRF token."""
    browser = client(**kwargs)
    response = await login(browser, username)
    assert response.status_code == 200, response.text
    return browser, response.json()["csrf_token"]


async def test_signing_in_sets_a_strict_http_only_cookie(stack: Stack, client: Client) -> None:
    await add_user(stack, "sue", "supervisor", device="PJSIP/sup1", display_name="Sue")
    browser = client()
    response = await login(browser, "sue")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "username": "sue",
        "role": "supervisor",
        "agent_id": None,
        "device": "PJSIP/sup1",
        "display_name": "Sue",
        "csrf_token": body["csrf_token"],
        "idle_timeout_s": 1800.0,
    }
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain http: a Secure cookie would never come back
    assert (await browser.get("/v1/session")).json() == body
    assert (await browser.get("/v1/queues")).status_code == 200  # the cookie signs in

    over_tls = client(base_url="https://test")
    cookie = (await login(over_tls, "sue")).headers["set-cookie"]
    assert "secure" in {f.strip().lower() for f in cookie.split(";")[1:]}


async def test_a_wrong_password_and_an_unknown_user_read_the_same(
    stack: Stack, client: Client
) -> None:
    await add_user(stack, "sue", "supervisor")
    browser = client()
    wrong = await login(browser, "sue", "wrong password!")
    unknown = await login(browser, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error_id"] == "unauthenticated"
    assert SESSION_COOKIE not in browser.cookies
    assert (await browser.get("/v1/session")).status_code == 401


async def test_repeated_failures_lock_a_name_and_an_address(stack: Stack, client: Client) -> None:
    await add_user(stack, "sue", "supervisor")
    await add_user(stack, "tim", "supervisor")
    attacker = client("10.0.0.66")
    for _ in range(5):
        assert (await login(attacker, "sue", "guess guess!")).status_code == 401
    # The right password too, and from anywhere: the name is locked.
    locked = await login(client("10.0.0.1"), "sue")
    assert locked.status_code == 429
    assert locked.json()["error_id"] == "too-many-attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # The attacker's address too, whatever the name; another address and name still work.
    assert (await login(attacker, "tim")).status_code == 429
    assert (await login(client("10.0.0.2"), "tim")).status_code == 200

    stack.clock.advance(901)  # the window has passed
    assert (await login(client("10.0.0.1"), "sue")).status_code == 200

    for k in range(5):  # one address trying many names
        assert (await login(attacker, f"user{k}", "guess guess!")).status_code == 401
    assert (await login(attacker, "tim")).status_code == 429


async def test_an_idle_session_ends_a_used_one_lives_and_a_wallboard_never_idles(
    stack: Stack, client: Client
) -> None:
    await add_user(stack, "sue", "supervisor")
    await add_user(stack, "tv", "wallboard")
    idle, _ = await signed_in(client, "sue")
    used, _ = await signed_in(client, "sue")
    tv, _ = await signed_in(client, "tv")
    assert (await tv.get("/v1/session")).json()["idle_timeout_s"] is None
    for _ in range(3):
        stack.clock.advance(1000)
        assert (await used.get("/v1/queues")).status_code == 200
    response = await idle.get("/v1/queues")
    assert (response.status_code, response.json()["error_id"]) == (401, "unauthenticated")
    assert (await idle.get("/v1/session")).status_code == 401
    stack.clock.advance(10 * 86400)
    assert (await tv.get("/v1/queues")).status_code == 200
    assert (await used.get("/v1/queues")).status_code == 401


async def test_changes_with_the_cookie_need_the_csrf_token_and_our_origin(
    stack: Stack, client: Client
) -> None:
    await add_user(stack, "sue", "supervisor")
    browser, csrf = await signed_in(client, "sue")
    state = {"state": "paused", "reason": "break"}

    async def post(headers: dict[str, str]) -> tuple[int, Any]:
        response = await browser.post("/v1/agents/a1/state", json=state, headers=headers)
        return response.status_code, response.json()

    for headers in (
        {},
        {"X-CSRF-Token": "forged"},
        {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": csrf, "Origin": "http://test:8080"},
    ):
        status, body = await post(headers)
        assert (status, body["error_id"]) == (403, "csrf-refused"), headers
    assert stack.service.agent("a1").state.value == "available"  # nothing happened
    assert (await post({"X-CSRF-Token": csrf}))[0] == 200
    assert (await post({"X-CSRF-Token": csrf, "Origin": "http://test"}))[0] == 200
    # Reading needs no token; a bearer key needs none either (it is never sent on its own).
    assert (await browser.get("/v1/agents/a1")).status_code == 200
    assert (await stack.call("POST", "/v1/agents/a2/state", state))[0] == 200
    # Signing in from another origin is refused too (login CSRF).
    other = await client().post(
        "/v1/session",
        json={"username": "sue", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert (other.status_code, other.json()["error_id"]) == (403, "csrf-refused")


async def test_signing_out_ends_the_session_and_clears_the_cookie(
    stack: Stack, client: Client
) -> None:
    await add_user(stack, "sue", "supervisor")
    browser, csrf = await signed_in(client, "sue")
    token = browser.cookies[SESSION_COOKIE]
    refused = await browser.delete("/v1/session")
    assert (refused.status_code, refused.json()["error_id"]) == (403, "csrf-refused")
    response = await browser.delete("/v1/session", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert SESSION_COOKIE not in browser.cookies
    stale = client()
    stale.cookies.set(SESSION_COOKIE, token)  # the old token, kept by someone
    assert (await stale.get("/v1/session")).status_code == 401
    assert (await stale.get("/v1/queues")).status_code == 401


async def test_a_password_change_ends_the_other_sessions(stack: Stack, client: Client) -> None:
    await add_user(stack, "sue", "supervisor")
    here, csrf = await signed_in(client, "sue")
    elsewhere, _ = await signed_in(client, "sue")
    headers = {"X-CSRF-Token": csrf}
    new = "a much better passphrase"
    wrong = await here.post(
        "/v1/session/password", json={"current": "not it at all", "new": new}, headers=headers
    )
    assert (wrong.status_code, wrong.json()["error_id"]) == (403, "forbidden")
    short = await here.post(
        "/v1/session/password", json={"current": PASSWORD, "new": "short"}, headers=headers
    )
    assert (short.status_code, short.json()["error_id"]) == (422, "invalid-value")
    no_token = await here.post("/v1/session/password", json={"current": PASSWORD, "new": new})
    assert no_token.status_code == 403
    changed = await here.post(
        "/v1/session/password", json={"current": PASSWORD, "new": new}, headers=headers
    )
    assert changed.status_code == 204
    assert (await here.get("/v1/session")).status_code == 200
    assert (await elsewhere.get("/v1/session")).status_code == 401
    assert (await login(client("10.0.0.9"), "sue")).status_code == 401
    assert (await login(client("10.0.0.9"), "sue", new)).status_code == 200


async def test_an_agent_user_reaches_only_its_own_agent(stack: Stack, client: Client) -> None:
    await add_user(stack, "desk1", "agent", agent_id="a1")
    browser, csrf = await signed_in(client, "desk1")
    assert (await browser.get("/v1/session")).json()["agent_id"] == "a1"
    headers = {"X-CSRF-Token": csrf}
    paused = {"state": "paused"}
    assert (await browser.get("/v1/agents/a1")).status_code == 200
    assert (await browser.post("/v1/agents/a1/state", json=paused, headers=headers)).is_success
    for method, path in (
        ("GET", "/v1/agents/a2"),
        ("POST", "/v1/agents/a2/state"),
        ("GET", "/v1/agents"),
        ("GET", "/v1/calls"),
        ("GET", "/v1/interactions"),
        ("GET", "/v1/users"),
    ):
        body = paused if method == "POST" else None
        response = await browser.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)


async def test_users_are_managed_by_admins_only_and_never_show_a_hash(
    stack: Stack, client: Client
) -> None:
    created = await add_user(stack, "sue", "supervisor", display_name="Sue")
    assert created == {
        "username": "sue",
        "role": "supervisor",
        "agent_id": None,
        "device": None,
        "display_name": "Sue",
        "created_at": "2023-11-14T22:13:20Z",
    }
    sup_key = (await stack.ok("POST", "/v1/keys", {"name": "s", "role": "supervisor"}))["key"]
    assert (await stack.error("GET", "/v1/users", key=sup_key))[:2] == (403, "forbidden")
    sue, csrf = await signed_in(client, "sue")
    body = {"username": "x", "password": PASSWORD, "role": "admin"}
    refused = await sue.post("/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403

    for bad, error in (
        ({"username": "bad name!", "role": "admin"}, "invalid-value"),
        ({"username": "b", "role": "agent"}, "invalid-value"),  # no agent
        ({"username": "b", "role": "agent", "agent_id": "nope"}, "invalid-value"),
        ({"username": "b", "role": "admin", "agent_id": "a1"}, "invalid-value"),
        ({"username": "b", "role": "admin", "device": "not a phone"}, "invalid-value"),
        ({"username": "b", "role": "root"}, "invalid-request"),
        ({"username": "b", "role": "admin", "password": "2short"}, "invalid-value"),
    ):
        status, error_id, _ = await stack.error("POST", "/v1/users", {"password": PASSWORD, **bad})
        assert (status, error_id) == (422, error), bad
    assert (await stack.error("POST", "/v1/users", body | {"username": "sue"}))[:2] == (
        409,
        "conflict",
    )

    await add_user(stack, "desk2", "agent", agent_id="a2")
    listed = await stack.ok("GET", "/v1/users")
    assert [u["username"] for u in listed] == ["desk2", "sue"]
    assert all(set(u) == set(created) for u in listed)  # no hash, no password
    assert (await stack.ok("GET", "/v1/users/desk2"))["agent_id"] == "a2"
    assert (await stack.error("GET", "/v1/users/nobody"))[:2] == (404, "not-found")

    patched = await stack.ok("PATCH", "/v1/users/sue", {"role": "admin", "device": "PJSIP/sup1"})
    assert (patched["role"], patched["device"]) == ("admin", "PJSIP/sup1")
    assert (await sue.get("/v1/session")).json()["role"] == "admin"  # at the next request
    assert (await sue.get("/v1/users")).status_code == 200
    await stack.ok("PATCH", "/v1/users/sue", {"password": "another long one"})
    assert (await sue.get("/v1/session")).status_code == 401  # a reset ends the sessions
    assert (await login(client("10.1.1.1"), "sue", "another long one")).status_code == 200

    desk, _ = await signed_in(client, "desk2")
    assert (await stack.call("DELETE", "/v1/users/desk2"))[0] == 204
    assert (await desk.get("/v1/session")).status_code == 401
    assert (await stack.error("DELETE", "/v1/users/desk2"))[:2] == (404, "not-found")


async def test_a_deleted_agents_accounts_and_keys_act_for_nobody(
    stack: Stack, client: Client
) -> None:
    await add_user(stack, "desk3", "agent", agent_id="a3")
    key = (await stack.ok("POST", "/v1/keys", {"name": "d", "role": "agent", "agent_id": "a3"}))[
        "key"
    ]
    desk, _ = await signed_in(client, "desk3")
    await stack.ok("POST", "/v1/agents/a3/state", {"state": "logged_out"})
    assert (await stack.call("DELETE", "/v1/agents/a3"))[0] == 204
    assert (await desk.get("/v1/session")).status_code == 401
    assert (await desk.get("/v1/agents/a3")).status_code == 401
    assert (await login(client("10.2.2.2"), "desk3")).status_code == 401
    assert (await stack.error("GET", "/v1/agents/a3", key=key))[:2] == (401, "unauthenticated")
    assert stack.api.state.sessions.accounts.list() == []


async def test_sessions_survive_a_restart_and_the_stream_can_use_them(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    await add_user(stack, "sue", "supervisor")
    browser, _ = await signed_in(client, "sue")
    token = browser.cookies[SESSION_COOKIE]
    principal = stack.api.state.sessions.principal_for(token)  # as STREAM calls it
    assert (principal.role.value, principal.username) == ("supervisor", "sue")
    # A second controller on the same database (a restart) knows the session.
    second = Stack.build(tmp_path / "ccgateway.db")
    try:
        assert second.api.state.sessions.principal_for(token).username == "sue"
    finally:
        second.engine.dispose()


async def test_the_users_command_adds_an_account_that_signs_in(tmp_path: Path) -> None:
    db = tmp_path / "ccgateway.db"
    config = tmp_path / "ccgateway.toml"
    config.write_text(f'database_url = "sqlite:///{db}"\n')
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    ccgateway = str(Path(sys.executable).parent / "ccgateway")

    def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ccgateway, "users", *args, "--config", str(config)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = users("add", "sue", "--role", "supervisor", "--password-file", str(secret))
    assert added.returncode == 0, added.stderr
    assert users("add", "tv", "--role", "wallboard", stdin="a wallboard password\n").returncode == 0
    refused = users("add", "desk", "--role", "agent", "--agent", "nope", stdin=PASSWORD + "\n")
    assert refused.returncode == 1
    assert "no agent 'nope'" in refused.stderr
    assert users("passwd", "tv", stdin="the new tv password\n").returncode == 0
    assert users("remove", "tv").returncode == 0
    listed = users("list")
    assert listed.stdout.splitlines() == ["sue\tsupervisor\t-\t-\t-"]

    stack = Stack.build(db)  # the controller on that database
    try:
        transport = httpx.ASGITransport(app=stack.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
            assert (await login(browser, "sue")).status_code == 200
            assert (await browser.get("/v1/session")).json()["role"] == "supervisor"
    finally:
        stack.engine.dispose()
