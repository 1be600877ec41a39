"""The event stream of an installed controller, over a real socket (the `websockets` client):
what a browser or an integrator gets, close codes and logs included."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ccgateway.api.sessions import SESSION_COOKIE
from tests.installed.conftest import ServedController

WAIT_S = 10.0  # generous: other test runs may share the machine


def open_stream(
    served: ServedController, query: str = "", headers: dict[str, str] | None = None
) -> ClientConnection:
    return connect(
        f"{served.ws_url}/v1/events{query}", additional_headers=headers, open_timeout=WAIT_S
    )


def next_event(ws: ClientConnection, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first message that passes `check` (within WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        message: dict[str, Any] = json.loads(
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        )
        if check(message):
            return message


def close_code(ws: ClientConnection) -> int:
    """The code of the close frame the server sends next (after any messages)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=WAIT_S)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


def make_agent(client: httpx.Client, agent_id: str = "a1") -> None:
    agent = {"id": agent_id, "name": agent_id.upper(), "device": f"PJSIP/{agent_id}"}
    client.post("/v1/agents", json=agent).raise_for_status()


def set_state(client: httpx.Client, agent_id: str, state: str) -> None:
    client.post(f"/v1/agents/{agent_id}/state", json={"state": state}).raise_for_status()


def is_agent(agent_id: str, state: str) -> Callable[[dict[str, Any]], bool]:
    def check(message: dict[str, Any]) -> bool:
        data = message["data"]
        return bool(
            message["topic"] == "agent.state"
            and data["agent_id"] == agent_id
            and data["state"] == state
        )

    return check


def test_a_change_made_over_http_arrives_on_the_stream(served: ServedController) -> None:
    with (
        httpx.Client(base_url=served.base_url, headers=served.auth) as client,
        open_stream(served, headers=served.auth) as ws,
    ):
        make_agent(client)
        set_state(client, "a1", "available")
        event = next_event(ws, is_agent("a1", "available"))
    assert set(event) == {"seq", "at", "topic", "data"}
    assert abs(event["at"] - time.time()) < 60


def test_refusals_reach_the_client_as_close_codes(served: ServedController) -> None:
    with open_stream(served) as ws:
        assert close_code(ws) == 4401
    with open_stream(served, "?key=not-a-key-at-all") as ws:
        assert close_code(ws) == 4401
    with open_stream(served, headers={"Authorization": "Bearer not-a-key"}) as ws:
        assert close_code(ws) == 4401

    with httpx.Client(base_url=served.base_url, headers=served.auth) as client:
        make_agent(client)
        user = {"username": "anna", "password": "a long passphrase", "role": "agent"}
        client.post("/v1/users", json={**user, "agent_id": "a1"}).raise_for_status()
        signed_in = httpx.post(
            f"{served.base_url}/v1/session",
            json={"username": "anna", "password": "a long passphrase"},
        )
        signed_in.raise_for_status()
        cookie = {"Cookie": f"{SESSION_COOKIE}={signed_in.cookies[SESSION_COOKIE]}"}
        # Another site's page opening our stream with the browser's cookie: refused.
        with open_stream(served, headers={**cookie, "Origin": "https://evil.example"}) as ws:
            assert close_code(ws) == 4403
        with open_stream(served, headers=cookie) as ws:  # no Origin at all
            assert close_code(ws) == 4403
        # Our own page: its agent's events.
        with open_stream(served, headers={**cookie, "Origin": served.base_url}) as ws:
            set_state(client, "a1", "available")
            assert next_event(ws, is_agent("a1", "available"))


def test_the_key_parameter_never_reaches_the_log(served: ServedController) -> None:
    wrong = "wrong-key-that-must-not-be-logged"
    with httpx.Client(base_url=served.base_url, headers=served.auth) as client:
        make_agent(client)
        with open_stream(served, f"?after=0&key={served.admin_key}") as ws:
            set_state(client, "a1", "available")
            assert next_event(ws, is_agent("a1", "available"))
        with open_stream(served, f"?key={wrong}") as ws:
            assert close_code(ws) == 4401
    # Plain HTTP to the same URL goes through uvicorn's access log instead.
    httpx.get(f"{served.base_url}/v1/events?key={served.admin_key}")

    deadline = time.monotonic() + WAIT_S
    while served.log().count("key=***") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = served.log()
    assert served.admin_key not in log
    assert wrong not in log
    assert '"WebSocket /v1/events?after=0&key=***"' in log  # uvicorn's "accepted" line
    assert '"GET /v1/events?key=*** HTTP/1.1"' in log  # uvicorn's access log


def test_a_stopping_controller_says_going_away_and_the_stream_resumes(
    served: ServedController,
) -> None:
    with httpx.Client(base_url=served.base_url, headers=served.auth) as client:
        make_agent(client)
        set_state(client, "a1", "available")
    with open_stream(served, headers=served.auth) as ws:
        next_event(ws, is_agent("a1", "available"))
        served.stop()
        assert close_code(ws) == 1001
    served.start()  # the same database and port: the agent is still there
    with (
        httpx.Client(base_url=served.base_url, headers=served.auth) as client,
        open_stream(served, "?after=5000", headers=served.auth) as ws,
    ):
        set_state(client, "a1", "paused")
        assert next_event(ws, is_agent("a1", "paused"))["seq"] >= 1
