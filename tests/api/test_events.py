"""The WebSocket event stream, over the real dispatcher (run in the test client's loop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ccgateway.domain.events import CallWaiting, PbxResynced
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


def test_the_stream_refuses_bad_keys_and_agents(live: tuple[Stack, TestClient]) -> None:
    _, client = live
    agent_key = client.post(
        "/v1/keys", json={"name": "desk", "role": "agent", "agent_id": "a1"}
    ).json()["key"]
    for url, headers, code in [
        ("/v1/events", {"Authorization": ""}, 4401),
        ("/v1/events?key=wrong", {"Authorization": ""}, 4401),
        (f"/v1/events?key={agent_key}", {"Authorization": ""}, 4403),
        ("/v1/events", {"Authorization": f"Bearer {agent_key}"}, 4403),
    ]:
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(url, headers=headers) as ws,
        ):
            ws.receive_json()
        assert refused.value.code == code, url
