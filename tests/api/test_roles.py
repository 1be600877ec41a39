"""Keys and roles: who may do what (the table in ccgateway/api/auth.py)."""

from __future__ import annotations

import pytest

from tests.services.stack import ADMIN, Stack

QUEUE = {"id": "q", "name": "q", "extension": "1"}


@pytest.fixture
async def keys(stack: Stack) -> dict[str, str]:
    supervisor = await stack.ok("POST", "/v1/keys", {"name": "sup", "role": "supervisor"})
    agent = await stack.ok("POST", "/v1/keys", {"name": "desk", "role": "agent", "agent_id": "a1"})
    assert set(agent) == {"id", "name", "role", "agent_id", "created_at", "key"}
    return {"admin": ADMIN, "supervisor": supervisor["key"], "agent": agent["key"]}


# (method, path, body) -> the status each role gets: admin, supervisor, agent
MATRIX = [
    ("GET", "/v1/health", None, (200, 200, 200)),
    ("GET", "/v1/skills", None, (200, 200, 403)),
    ("GET", "/v1/agents", None, (200, 200, 403)),
    ("GET", "/v1/agents/a1", None, (200, 200, 200)),
    ("GET", "/v1/agents/a2", None, (200, 200, 403)),
    ("POST", "/v1/agents/a1/state", {"state": "paused"}, (200, 200, 200)),
    ("POST", "/v1/agents/a2/state", {"state": "paused"}, (200, 200, 403)),
    ("PATCH", "/v1/agents/a1", {"name": "Me"}, (200, 403, 403)),
    ("POST", "/v1/queues", QUEUE, (201, 403, 403)),
    ("GET", "/v1/queues", None, (200, 200, 403)),
    ("GET", "/v1/queues/german/status", None, (200, 200, 403)),
    ("DELETE", "/v1/skills/en", None, (409, 403, 403)),  # admin may, but en is in use
    ("GET", "/v1/calls", None, (200, 200, 403)),
    ("GET", "/v1/interactions", None, (200, 200, 403)),
    ("GET", "/v1/agents/a1/figures", None, (200, 200, 200)),
    ("GET", "/v1/agents/a2/figures", None, (200, 200, 403)),
    ("GET", "/v1/callbacks", None, (200, 200, 403)),
    ("POST", "/v1/callbacks", {"queue_id": "german", "number": "+4930111"}, (201, 201, 403)),
    ("GET", "/v1/tasks", None, (200, 200, 200)),  # an agent's key sees its own
    ("GET", "/v1/tasks?agent_id=a2", None, (200, 200, 403)),
    ("POST", "/v1/tasks", {"queue_id": "german", "channel": "chat"}, (201, 201, 403)),
    ("GET", "/v1/keys", None, (200, 403, 403)),
    ("POST", "/v1/keys", {"name": "k", "role": "admin"}, (201, 403, 403)),
]


@pytest.mark.parametrize(("method", "path", "body", "statuses"), MATRIX)
@pytest.mark.parametrize("role", ["admin", "supervisor", "agent"])
async def test_the_role_table(
    stack: Stack,
    keys: dict[str, str],
    role: str,
    method: str,
    path: str,
    body: object,
    statuses: tuple[int, int, int],
) -> None:
    expected = statuses[["admin", "supervisor", "agent"].index(role)]
    status, payload = await stack.call(method, path, body, key=keys[role])
    assert status == expected, payload
    if status == 403:
        assert payload["error_id"] == "forbidden"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer wrong", f"Token {ADMIN}"],
)
async def test_no_valid_key_is_401(stack: Stack, authorization: str | None) -> None:
    assert stack.client is not None
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await stack.client.get("/v1/health", headers=headers)
    assert response.status_code == 401
    assert response.json()["error_id"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_keys_are_shown_once_and_a_deleted_key_stops_working(
    stack: Stack, keys: dict[str, str]
) -> None:
    listed = await stack.ok("GET", "/v1/keys")
    assert {(k["name"], k["role"], k["agent_id"]) for k in listed} == {
        ("sup", "supervisor", None),
        ("desk", "agent", "a1"),
    }
    assert all("key" not in k for k in listed)
    desk = next(k for k in listed if k["name"] == "desk")
    assert desk["created_at"] == "2023-11-14T22:13:20Z"
    assert (await stack.call("GET", "/v1/agents/a1", key=keys["agent"]))[0] == 200
    assert (await stack.call("DELETE", f"/v1/keys/{desk['id']}"))[0] == 204
    assert (await stack.error("GET", "/v1/agents/a1", key=keys["agent"]))[:2] == (
        401,
        "unauthenticated",
    )


async def test_a_created_admin_key_is_an_admin(stack: Stack) -> None:
    created = await stack.ok("POST", "/v1/keys", {"name": "ops", "role": "admin"})
    assert (
        await stack.call("POST", "/v1/skills", {"id": "fr", "name": "French"}, key=created["key"])
    )[0] == 201
