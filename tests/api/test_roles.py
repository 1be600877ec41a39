"""Keys and roles: who may do what (the table in ccgateway/api/auth.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ccgateway.domain.events import CallWaiting, PbxResynced
from tests.api.dialer_helpers import CAMPAIGN, csv_of, import_list, number, send
from tests.services.stack import ADMIN, Stack

QUEUE = {"id": "q", "name": "q", "extension": "1"}


@pytest.fixture
async def keys(stack: Stack) -> dict[str, str]:
    supervisor = await stack.ok("POST", "/v1/keys", {"name": "sup", "role": "supervisor"})
    agent = await stack.ok("POST", "/v1/keys", {"name": "desk", "role": "agent", "agent_id": "a1"})
    assert set(agent) == {"id", "name", "role", "agent_id", "created_at", "key"}
    wallboard = await stack.ok("POST", "/v1/keys", {"name": "tv", "role": "wallboard"})
    return {
        "admin": ADMIN,
        "supervisor": supervisor["key"],
        "agent": agent["key"],
        "wallboard": wallboard["key"],
    }


ROLES = ["admin", "supervisor", "agent", "wallboard"]


# (method, path, body) -> the status each role gets: admin, supervisor, agent, wallboard (the
# floor's figures only: queues, their status, agents, campaigns and their figures, health)
MATRIX = [
    ("GET", "/v1/health", None, (200, 200, 200, 200)),
    ("GET", "/v1/skills", None, (200, 200, 403, 403)),
    ("GET", "/v1/agents", None, (200, 200, 403, 200)),
    ("GET", "/v1/agents/a1", None, (200, 200, 200, 403)),
    ("GET", "/v1/agents/a2", None, (200, 200, 403, 403)),
    ("POST", "/v1/agents/a1/state", {"state": "paused"}, (200, 200, 200, 403)),
    ("POST", "/v1/agents/a2/state", {"state": "paused"}, (200, 200, 403, 403)),
    ("PATCH", "/v1/agents/a1", {"name": "Me"}, (200, 403, 403, 403)),
    ("POST", "/v1/queues", QUEUE, (201, 403, 403, 403)),
    ("GET", "/v1/queues", None, (200, 200, 403, 200)),
    ("GET", "/v1/queues/german/status", None, (200, 200, 403, 200)),
    ("DELETE", "/v1/skills/en", None, (409, 403, 403, 403)),  # admin may, but en is in use
    ("GET", "/v1/calls", None, (200, 200, 403, 200)),  # the wallboard's without callers
    ("GET", "/v1/interactions", None, (200, 200, 403, 403)),
    ("GET", "/v1/history?number=%2B4930111", None, (200, 200, 403, 403)),  # never served
    ("POST", "/v1/notes", {"text": "hi", "number": "+4930111"}, (201, 201, 403, 403)),
    ("GET", "/v1/directory", None, (200, 200, 200, 403)),
    ("GET", "/v1/users", None, (200, 403, 403, 403)),
    ("GET", "/v1/agents/a1/figures", None, (200, 200, 200, 403)),
    ("GET", "/v1/agents/a2/figures", None, (200, 200, 403, 403)),
    ("GET", "/v1/callbacks", None, (200, 200, 403, 403)),
    ("POST", "/v1/callbacks", {"queue_id": "german", "number": "+4930111"}, (201, 201, 403, 403)),
    ("GET", "/v1/tasks", None, (200, 200, 200, 403)),  # an agent's key sees its own
    ("GET", "/v1/tasks?agent_id=a2", None, (200, 200, 403, 403)),
    ("POST", "/v1/tasks", {"queue_id": "german", "channel": "chat"}, (201, 201, 403, 403)),
    ("GET", "/v1/keys", None, (200, 403, 403, 403)),
    ("POST", "/v1/keys", {"name": "k", "role": "admin"}, (201, 403, 403, 403)),
]


@pytest.mark.parametrize(("method", "path", "body", "statuses"), MATRIX)
@pytest.mark.parametrize("role", ROLES)
async def test_the_role_table(
    stack: Stack,
    keys: dict[str, str],
    role: str,
    method: str,
    path: str,
    body: object,
    statuses: tuple[int, int, int, int],
) -> None:
    expected = statuses[ROLES.index(role)]
    status, payload = await stack.call(method, path, body, key=keys[role])
    assert status == expected, payload
    if status == 403:
        assert payload["error_id"] == "forbidden"


async def test_a_wallboard_counts_calls_but_sees_no_caller(
    stack: Stack, keys: dict[str, str]
) -> None:
    for k in (1, 2, 3):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    await stack.emit(PbxResynced(), CallWaiting("c1", "200", "+4930111", "Ann <b>"))
    [seen] = await stack.ok("GET", "/v1/calls", key=keys["wallboard"])
    [full] = await stack.ok("GET", "/v1/calls", key=keys["supervisor"])
    assert (full["caller_number"], full["caller_name"]) == ("+4930111", "Ann <b>")
    assert (seen["caller_number"], seen["caller_name"]) == ("", "")
    assert {k: v for k, v in seen.items() if not k.startswith("caller_")} == {
        k: v for k, v in full.items() if not k.startswith("caller_")
    }


# The dialer's endpoints, in order: one centre per role, so the writes an admin or a
# supervisor may make come in a sequence that keeps the later rows meaningful (the campaign
# is started, paused and stopped, then deleted last). Bytes are sent as a file.
SETTINGS = {k: v for k, v in CAMPAIGN.items() if k != "id"}
CSV = csv_of(number(9))
DIALER_MATRIX: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
    ("GET", "/v1/rule-sets", None, (200, 200, 403, 403)),
    ("GET", "/v1/rule-sets/uk", None, (200, 200, 403, 403)),
    ("PUT", "/v1/rule-sets/house", {"name": "House", "base": "uk"}, (200, 403, 403, 403)),
    ("DELETE", "/v1/rule-sets/nope", None, (404, 403, 403, 403)),
    ("GET", "/v1/campaigns", None, (200, 200, 403, 200)),
    ("POST", "/v1/campaigns", {**CAMPAIGN, "id": "other"}, (201, 403, 403, 403)),
    ("GET", "/v1/campaigns/renewals", None, (200, 200, 403, 403)),
    ("PUT", "/v1/campaigns/renewals", SETTINGS, (200, 403, 403, 403)),
    ("POST", "/v1/campaigns/renewals/lists?list_id=l2&name=L2", CSV, (201, 403, 403, 403)),
    ("GET", "/v1/campaigns/renewals/lists", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/contacts", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/contacts/l1-2", None, (200, 200, 403, 403)),
    (
        "POST",
        "/v1/campaigns/renewals/contacts/l1-2/callback",
        {"at": "2023-11-15T10:00:00Z"},
        (200, 200, 403, 403),
    ),
    ("POST", "/v1/campaigns/renewals/start", None, (200, 200, 403, 403)),
    ("POST", "/v1/campaigns/renewals/pause", None, (200, 200, 403, 403)),
    ("POST", "/v1/campaigns/renewals/stop", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/figures", None, (200, 200, 403, 200)),
    ("GET", "/v1/campaigns/renewals/dials", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/refusals", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/dispositions", None, (200, 200, 403, 403)),
    ("GET", "/v1/campaigns/renewals/answers", None, (200, 200, 403, 403)),
    # No preview or ended dial exists: who may ask is checked first (404: they may).
    ("POST", "/v1/agents/a1/preview", {"dial_id": "ob-1", "action": "dial"}, (404, 404, 404, 403)),
    ("POST", "/v1/agents/a2/preview", {"dial_id": "ob-1", "action": "dial"}, (404, 404, 403, 403)),
    (
        "POST",
        "/v1/dials/ob-1/disposition",
        {"code": "sale", "agent_id": "a1"},
        (404, 404, 404, 403),
    ),
    (
        "POST",
        "/v1/dials/ob-1/disposition",
        {"code": "sale", "agent_id": "a2"},
        (404, 404, 403, 403),
    ),
    ("POST", "/v1/dnc", {"numbers": [number(8)], "reason": "objected"}, (200, 200, 403, 403)),
    ("PUT", "/v1/dnc/registers/tps", number(7).encode(), (200, 403, 403, 403)),
    ("GET", "/v1/dnc/registers", None, (200, 200, 403, 403)),
    ("DELETE", "/v1/campaigns/renewals", None, (204, 403, 403, 403)),
]


@pytest.mark.parametrize("role", ROLES)
async def test_the_role_table_for_the_dialer(stack: Stack, keys: dict[str, str], role: str) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    await import_list(stack, "renewals", "l1", csv_of(number(1)))
    wrong = []
    for method, path, body, statuses in DIALER_MATRIX:
        expected = statuses[ROLES.index(role)]
        if isinstance(body, bytes):
            status, payload = await send(stack, method, path, body, key=keys[role])
        else:
            status, payload = await stack.call(method, path, body, key=keys[role])
        if status != expected or (status == 403 and payload["error_id"] != "forbidden"):
            wrong.append(f"{method} {path}: {status} {payload}, not {expected}")
    assert not wrong, "\n".join(wrong)


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
        ("tv", "wallboard", None),
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
