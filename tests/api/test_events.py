"""The WebSocket event stream, over the real dispatcher (run in the test client's loop)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ccgateway.api.auth import Principal, Role
from ccgateway.api.routes.events import KeyParameterFilter, hide_key_parameters, open_streams
from ccgateway.api.sessions import SESSION_COOKIE
from ccgateway.api.visibility import may_subscribe, visible
from ccgateway.domain.events import CallWaiting, PbxResynced
from ccgateway.services.event_hub import Published
from tests.services.stack import ADMIN, Stack

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Stack, TestClient]]:
    stack = Stack.build(tmp_path / "ccgateway.db")
    with TestClient(stack.api, headers=AUTH) as client:
        running = client.portal.start_task_soon(stack.dispatcher.run)
        client.post("/v1/skills", json={"id": "de", "name": "German"}).raise_for_status()
        client.post(
            "/v1/queues",
            json={"id": "german", "name": "German", "extension": "200", "requires": {"de": 1}},
        ).raise_for_status()
        for k in (1, 2):
            agent = {
                "id": f"a{k}",
                "name": f"A{k}",
                "device": f"PJSIP/agent{k}",
                "skills": {"de": 5},
            }
            client.post("/v1/agents", json=agent).raise_for_status()
        yield stack, client
        client.portal.call(stack.dispatcher.drain_writes)
        running.cancel()
    stack.engine.dispose()


def set_state(client: TestClient, agent_id: str, state: str, reason: str | None = None) -> None:
    body = {"state": state, "reason": reason}
    client.post(f"/v1/agents/{agent_id}/state", json=body).raise_for_status()


def receive(ws: Any, count: int) -> list[dict[str, Any]]:
    return [ws.receive_json() for _ in range(count)]


def test_agent_state_changes_stream_live_and_resume_after_a_seq(
    live: tuple[Stack, TestClient],
) -> None:
    stack, client = live
    set_state(client, "a1", "paused", "lunch")
    set_state(client, "a1", "available")
    with client.websocket_connect("/v1/events", headers=AUTH) as ws:
        paused, available = receive(ws, 2)
        assert (paused["seq"], paused["topic"]) == (1, "agent.state")
        assert paused["data"] == {
            "agent_id": "a1",
            "state": "paused",
            "reason": "lunch",
            "call_id": None,
            "tasks": [],
            "wrapup_until": None,
        }
        assert paused["at"] == stack.clock.now()
        assert (available["seq"], available["data"]["state"]) == (2, "available")
        set_state(client, "a2", "available")  # while connected: comes live
        [live_event] = receive(ws, 1)
        assert (live_event["seq"], live_event["data"]["agent_id"]) == (3, "a2")
        client.portal.call(stack.pbx.emit, PbxResynced())
        client.portal.call(stack.pbx.emit, CallWaiting("c1", "200"))
        topics = {e["topic"]: e["data"] for e in receive(ws, 3)}  # the call, a1 reserved
        assert topics["call.state"]["state"] in ("waiting", "offering")
        assert topics["agent.state"] == {
            "agent_id": "a1",
            "state": "reserved",
            "reason": None,
            "call_id": "c1",
            "tasks": [],
            "wrapup_until": None,
        }

    with client.websocket_connect("/v1/events?after=1", headers=AUTH) as ws:
        assert [e["seq"] for e in receive(ws, 2)] == [2, 3]  # nothing at or before 1


def test_a_browser_authenticates_with_the_key_parameter(live: tuple[Stack, TestClient]) -> None:
    _, client = live
    set_state(client, "a1", "paused", "lunch")
    with client.websocket_connect(f"/v1/events?key={ADMIN}") as ws:
        assert receive(ws, 1)[0]["data"]["reason"] == "lunch"


def test_a_seq_from_before_a_restart_starts_the_stream_over(
    live: tuple[Stack, TestClient],
) -> None:
    _, client = live
    set_state(client, "a1", "paused", "lunch")
    with client.websocket_connect("/v1/events?after=5000", headers=AUTH) as ws:
        assert receive(ws, 1)[0]["seq"] == 1


def new_key(client: TestClient, role: str, agent_id: str | None = None) -> str:
    body = {"name": role, "role": role, "agent_id": agent_id}
    key: str = client.post("/v1/keys", json=body).json()["key"]
    return key


def refusal(client: TestClient, url: str, headers: dict[str, str]) -> int:
    """The close code of a stream the server accepts and then closes at once."""
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(url, headers=headers) as ws,
    ):
        ws.receive_json()
    return refused.value.code


def test_the_stream_refuses_missing_and_bad_keys_with_4401(
    live: tuple[Stack, TestClient],
) -> None:
    _, client = live
    assert refusal(client, "/v1/events", {"Authorization": ""}) == 4401
    assert refusal(client, "/v1/events?key=wrong", {"Authorization": ""}) == 4401
    assert refusal(client, "/v1/events", {"Authorization": "Bearer wrong"}) == 4401


def test_an_agent_sees_only_its_own_agents_items_replayed_and_live(
    live: tuple[Stack, TestClient],
) -> None:
    stack, client = live
    agent_key = new_key(client, "agent", "a1")
    set_state(client, "a2", "paused", "lunch")
    set_state(client, "a1", "paused", "lunch")
    with client.websocket_connect(
        f"/v1/events?key={agent_key}", headers={"Authorization": ""}
    ) as ws:
        [replayed] = receive(ws, 1)  # a2's pause, before it, is not replayed
        assert (replayed["seq"], replayed["data"]["agent_id"]) == (2, "a1")
        set_state(client, "a2", "paused", "break")  # a2's: not for a1
        set_state(client, "a1", "available")
        client.portal.call(stack.pbx.emit, PbxResynced())
        client.portal.call(stack.pbx.emit, CallWaiting("c1", "200"))  # a1 is the one free
        available, *offer = receive(ws, 3)
        assert (available["data"]["agent_id"], available["data"]["state"]) == ("a1", "available")
        assert {e["topic"] for e in offer} == {"call.state", "agent.state"}
        assert all(e["data"]["agent_id"] == "a1" for e in offer)
    # The same key in the header: the same view.
    with client.websocket_connect(
        "/v1/events", headers={"Authorization": f"Bearer {agent_key}"}
    ) as ws:
        assert receive(ws, 1)[0]["data"] == replayed["data"]


@pytest.mark.skipif(not hasattr(Role, "WALLBOARD"), reason="no wallboard role yet")
def test_a_wallboard_sees_the_floor_without_callers(live: tuple[Stack, TestClient]) -> None:
    stack, client = live
    wallboard = new_key(client, "wallboard")
    set_state(client, "a1", "available")
    client.portal.call(stack.pbx.emit, PbxResynced())
    client.portal.call(stack.pbx.emit, CallWaiting("c1", "200", "+4930999", "Alice"))
    callback = {"queue_id": "german", "number": "+4930123456"}
    client.post("/v1/callbacks", json=callback).raise_for_status()
    with client.websocket_connect("/v1/events", headers=AUTH) as ws:
        everything = receive(ws, stack.hub.last_seq)
    assert "callback.state" in {e["topic"] for e in everything}
    floor = [e for e in everything if e["topic"] in ("agent.state", "call.state")]
    with client.websocket_connect(
        f"/v1/events?key={wallboard}", headers={"Authorization": ""}
    ) as ws:
        seen = receive(ws, len(floor))
        set_state(client, "a2", "available")
        [after] = receive(ws, 1)  # the callback's items were left out, not merely late
    assert [e["seq"] for e in seen] == [e["seq"] for e in floor]
    calls = [e["data"] for e in seen if e["topic"] == "call.state"]
    assert calls and all("caller_number" not in c and "caller_name" not in c for c in calls)
    assert (after["topic"], after["data"]["agent_id"]) == ("agent.state", "a2")


def sign_in(client: TestClient, role: str, agent_id: str | None = None) -> str:
    """A person's session token (the cookie's value), for a new user with `role`."""
    user = {"username": f"u-{role}", "password": "correct horse battery", "role": role}
    if agent_id is not None:
        user["agent_id"] = agent_id
    client.post("/v1/users", json=user).raise_for_status()
    body = {"username": user["username"], "password": user["password"]}
    response = client.post("/v1/session", json=body, headers={"Authorization": ""})
    response.raise_for_status()
    token: str = response.cookies[SESSION_COOKIE]
    client.cookies.clear()  # each test below sends the cookie it means to
    return token


def test_a_session_cookie_opens_the_stream_only_from_our_own_origin(
    live: tuple[Stack, TestClient],
) -> None:
    _, client = live
    token = sign_in(client, "agent", "a1")
    set_state(client, "a1", "paused", "lunch")
    cookie = {"Authorization": "", "Cookie": f"{SESSION_COOKIE}={token}"}
    with client.websocket_connect(
        "/v1/events", headers={**cookie, "Origin": "http://testserver"}
    ) as ws:
        assert receive(ws, 1)[0]["data"]["agent_id"] == "a1"
    for origin in ({"Origin": "http://evil.example"}, {"Origin": "https://testserver"}, {}):
        assert refusal(client, "/v1/events", {**cookie, **origin}) == 4403, origin
    bogus = {"Authorization": "", "Cookie": f"{SESSION_COOKIE}=nobody"}
    assert refusal(client, "/v1/events", {**bogus, "Origin": "http://testserver"}) == 4401


def test_a_stopping_controller_closes_the_streams_with_1001(
    live: tuple[Stack, TestClient],
) -> None:
    stack, client = live
    set_state(client, "a1", "paused", "lunch")
    with client.websocket_connect("/v1/events", headers=AUTH) as ws:
        receive(ws, 1)
        client.portal.call(open_streams(stack.api).close_all)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1001
    assert refusal(client, "/v1/events", AUTH) == 1001  # and refuses new ones meanwhile


# --- who sees what (the pure function) ---------------------------------------------------------


def item(topic: str, **data: object) -> Published:
    return Published(7, 1.5, topic, dict(data))


CALL = item(
    "call.state",
    call_id="c1",
    queue_id="q",
    state="offering",
    agent_id="a1",
    caller_number="+4930999",
    caller_name="Alice",
)
ROWS = [
    # (item, what admin, agent a1, agent a2 see: True = the item unchanged, False = nothing)
    (item("agent.state", agent_id="a1", state="available"), True, True, False),
    (CALL, True, True, False),
    (item("call.ended", call_id="c1", outcome="answered"), True, False, False),
    (item("call.ended", call_id="c1", outcome="answered", agent_id="a1"), True, True, False),
    (item("dial.preview", dial_id="d", agent_id="a2", contact={"name": "Bob"}), True, False, True),
    (item("campaign.state", campaign_id="k", state="running"), True, False, False),
    (item("agent.feature_refused", device="PJSIP/x", why="no agent"), True, False, False),
]


@pytest.mark.parametrize(("published", "admin", "a1", "a2"), ROWS)
def test_admins_and_supervisors_see_everything_agents_their_own(
    published: Published, admin: bool, a1: bool, a2: bool
) -> None:
    message = {"seq": 7, "at": 1.5, "topic": published.topic, "data": published.data}
    for principal, sees in [
        (Principal(Role.ADMIN), admin),
        (Principal(Role.SUPERVISOR), admin),
        (Principal(Role.AGENT, "a1"), a1),
        (Principal(Role.AGENT, "a2"), a2),
    ]:
        assert visible(principal, published) == (message if sees else None), principal


@pytest.mark.skipif(not hasattr(Role, "WALLBOARD"), reason="no wallboard role yet")
def test_a_wallboard_sees_the_floor_but_never_a_caller() -> None:
    wallboard = Principal(Role("wallboard"))
    message = visible(wallboard, CALL)
    assert message is not None
    assert message["data"] == {
        "call_id": "c1",
        "queue_id": "q",
        "state": "offering",
        "agent_id": "a1",
    }
    assert CALL.data["caller_name"] == "Alice"  # the hub's item itself is left alone
    for topic in ("agent.state", "call.ended", "campaign.state", "queue.figures"):
        assert visible(wallboard, item(topic, x=1)) is not None, topic
    for topic in ("dial.preview", "dial.state", "callback.state", "task.state", "call.transfer"):
        assert visible(wallboard, item(topic, agent_id="a1")) is None, topic
    assert may_subscribe(wallboard)


def test_who_may_open_the_stream_at_all() -> None:
    assert may_subscribe(Principal(Role.ADMIN))
    assert may_subscribe(Principal(Role.AGENT, "a1"))
    assert not may_subscribe(Principal(Role.AGENT, None))


# --- the key parameter never reaches a log -----------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "shown"),
    [
        ("/v1/events?key=s3cret", "/v1/events?key=***"),
        ("/v1/events?after=5&key=s3cret&x=1", "/v1/events?after=5&key=***&x=1"),
        ("/v1/events?k%65y=s3cret", "/v1/events?k%65y=***"),
        ("/v1/events?KEY=s3cret", "/v1/events?KEY=***"),
        ("/v1/events?monkey=1&after=2", "/v1/events?monkey=1&after=2"),
        ('GET /v1/events?key=s3cret HTTP/1.1" 404', 'GET /v1/events?key=*** HTTP/1.1" 404'),
    ],
)
def test_the_key_parameter_is_hidden(logged: str, shown: str) -> None:
    assert hide_key_parameters(logged) == shown


def test_the_filter_rewrites_uvicorns_arguments_in_place() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/events?key=s3cret", "1.1", 404),
        None,
    )
    assert KeyParameterFilter().filter(record)
    assert record.args == ("127.0.0.1:5", "GET", "/v1/events?key=***", "1.1", 404)
