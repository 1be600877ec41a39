"""The REST API over the real services, stores (SQLite) and dispatcher; the PBX is our fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ccgateway.app import Controller, build_controller
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxResynced,
)
from ccgateway.settings import Settings
from tests.fakes import FakePbx

ADMIN = "test-admin-key-0123456789"


class Stack:
    def __init__(self, controller: Controller, pbx: FakePbx, client: httpx.AsyncClient) -> None:
        self.controller, self.pbx, self.client = controller, pbx, client

    async def ok(self, method: str, path: str, json: Any = None, key: str = ADMIN) -> Any:
        response = await self.client.request(method, path, json=json,
                                             headers={"Authorization": f"Bearer {key}"})
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def status(self, method: str, path: str, json: Any = None, key: str | None = ADMIN
                     ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await self.client.request(method, path, json=json, headers=headers)
        return response.status_code, response.json() if response.content else None

    async def until(self, check: Callable[[], Any], timeout_s: float = 3.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while not (result := check()):
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.01)
        return result


async def build(db: Path) -> tuple[Stack, asyncio.Task[None]]:
    pbx = FakePbx()
    controller = build_controller(Settings(database_url=f"sqlite:///{db}", admin_key=ADMIN), [pbx])
    task = asyncio.create_task(controller.dispatcher.run())
    await pbx.running.wait()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=controller.api),
                               base_url="http://test")
    return Stack(controller, pbx, client), task


async def teardown(stack: Stack, task: asyncio.Task[None]) -> None:
    await stack.controller.dispatcher.drain_writes()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await stack.client.aclose()
    stack.controller.engine.dispose()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    built, task = await build(tmp_path / "db.sqlite")
    await seed(built)
    yield built
    await teardown(built, task)


async def seed(stack: Stack) -> None:
    await stack.ok("POST", "/v1/skills", {"id": "de", "name": "German"})
    await stack.ok("POST", "/v1/skills", {"id": "en", "name": "English"})
    await stack.ok("POST", "/v1/queues", {"id": "german", "name": "German", "extension": "200",
                                          "requires": {"de": 5}, "ring_timeout_s": 10,
                                          "wrapup_s": 0})
    for k, skills in ((1, {"de": 8}), (2, {"de": 5, "en": 9}), (3, {"en": 9})):
        await stack.ok("POST", "/v1/agents", {"id": f"a{k}", "name": f"A{k}",
                                              "device": f"PJSIP/agent{k}", "skills": skills})
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "available"})


async def test_a_call_through_the_api_from_waiting_to_history(stack: Stack) -> None:
    stack.pbx.emit(PbxResynced())
    stack.pbx.emit(CallWaiting("c1", "200", "+4930111", "Ann"))
    [ring] = await stack.until(stack.pbx.rings)
    assert ring.agent_id == "a1" and ring.device == "PJSIP/agent1"  # a3 lacks German
    calls = await stack.ok("GET", "/v1/calls")
    assert [(c["call_id"], c["state"], c["agent_id"]) for c in calls] == [
        ("c1", "offering", "a1")]

    stack.pbx.emit(AgentLegAnswered(ring.leg_id))
    await stack.until(lambda: stack.controller.dispatcher.center.calls["c1"].state == "connected")
    assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "on_call"
    status = await stack.ok("GET", "/v1/queues/german/status")
    assert (status["connected"], status["waiting"], status["agents_available"]) == (1, 0, 1)

    stack.pbx.emit(ChannelHungUp("c1", 16))
    await stack.until(lambda: not stack.controller.dispatcher.center.calls)
    await stack.controller.dispatcher.drain_writes()
    [record] = await stack.ok("GET", "/v1/interactions?queue_id=german")
    assert (record["outcome"], record["agent_id"], record["caller_number"]) == (
        "answered", "a1", "+4930111")
    assert record["wait_s"] >= 0 and record["talk_s"] >= 0
    assert await stack.ok("GET", "/v1/interactions?queue_id=other") == []


async def test_no_answer_pauses_the_agent_and_offers_the_next(stack: Stack) -> None:
    stack.pbx.emit(PbxResynced())
    stack.pbx.emit(CallWaiting("c1", "200"))
    [first] = await stack.until(stack.pbx.rings)
    stack.pbx.emit(AgentLegFailed(first.leg_id, LegFailure.NO_ANSWER))
    rings = await stack.until(lambda: len(stack.pbx.rings()) == 2 and stack.pbx.rings())
    assert rings[1].agent_id == "a2"
    agent = await stack.ok("GET", "/v1/agents/a1")
    assert (agent["state"], agent["reason"]) == ("paused", "not ready: no_answer")


async def test_an_abandoned_caller_is_recorded(stack: Stack) -> None:
    for k in (1, 2):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    stack.pbx.emit(PbxResynced())
    stack.pbx.emit(CallWaiting("c1", "200"))
    await stack.until(lambda: stack.controller.dispatcher.center.calls)
    stack.pbx.emit(ChannelHungUp("c1"))
    await stack.until(lambda: not stack.controller.dispatcher.center.calls)
    await stack.controller.dispatcher.drain_writes()
    [record] = await stack.ok("GET", "/v1/interactions")
    assert record["outcome"] == "abandoned" and record["agent_id"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_id", "says"),
    [
        ("POST", "/v1/skills", {"id": "de", "name": "again"}, 409, "conflict", "already"),
        ("POST", "/v1/skills", {"id": "Bad Id", "name": "x"}, 422, "invalid-value", "skill id"),
        ("POST", "/v1/skills", {"id": "x", "name": "x", "extra": 1}, 422, "invalid-request",
         "extra"),
        ("POST", "/v1/agents", {"id": "a9", "name": "A", "device": "PJSIP/agent9",
                                "skills": {"fr": 3}}, 422, "invalid-value", "unknown skill"),
        ("POST", "/v1/agents", {"id": "a9", "name": "A", "device": "PJSIP/agent9",
                                "skills": {"de": 11}}, 422, "invalid-value", "1-10"),
        ("POST", "/v1/agents", {"id": "a9", "name": "A", "device": "PJSIP/agent1"}, 409,
         "conflict", "device"),
        ("POST", "/v1/agents", {"id": "a9", "name": "A", "device": "x\r\ny"}, 422,
         "invalid-value", "device"),
        ("POST", "/v1/queues", {"id": "q2", "name": "Q", "extension": "200"}, 409, "conflict",
         "extension"),
        ("PATCH", "/v1/queues/german", {"ring_timeout_s": 1}, 422, "invalid-value",
         "ring_timeout_s"),
        ("GET", "/v1/agents/nobody", None, 404, "not-found", "nobody"),
        ("POST", "/v1/agents/a1/state", {"state": "on_call"}, 422, "invalid-request", "state"),
        ("DELETE", "/v1/skills/de", None, 409, "conflict", "still used"),
        ("GET", "/v1/interactions?since=yesterday", None, 422, "invalid-request", "since"),
    ],
)
async def test_bad_input_gets_a_4xx_that_says_what_was_wrong(
        stack: Stack, method: str, path: str, body: Any, status: int, error_id: str,
        says: str) -> None:
    got, payload = await stack.status(method, path, body)
    assert (got, payload["error_id"]) == (status, error_id), payload
    assert says in payload["message"], payload


async def test_patch_merges_and_delete_removes(stack: Stack) -> None:
    agent = await stack.ok("PATCH", "/v1/agents/a3", {"skills": {"en": 2, "de": 6}})
    assert agent["skills"] == {"en": 2, "de": 6} and agent["device"] == "PJSIP/agent3"
    await stack.ok("DELETE", "/v1/agents/a3")
    assert (await stack.status("GET", "/v1/agents/a3"))[0] == 404


async def test_roles_decide_who_may_do_what(stack: Stack) -> None:
    supervisor = (await stack.ok("POST", "/v1/keys", {"name": "sup", "role": "supervisor"}))
    agent = await stack.ok("POST", "/v1/keys", {"name": "desk", "role": "agent",
                                                "agent_id": "a1"})
    sup, own = supervisor["key"], agent["key"]
    assert (await stack.status("GET", "/v1/calls", key=None))[1]["error_id"] == "unauthenticated"
    assert (await stack.status("GET", "/v1/calls", key="wrong"))[0] == 401
    assert (await stack.status("GET", "/v1/calls", key=sup))[0] == 200
    assert (await stack.status("POST", "/v1/queues", {"id": "q", "name": "q", "extension": "1"},
                               key=sup))[1]["error_id"] == "forbidden"
    assert (await stack.status("POST", "/v1/agents/a2/state", {"state": "paused"},
                               key=sup))[0] == 200
    assert (await stack.status("GET", "/v1/agents/a1", key=own))[0] == 200
    assert (await stack.status("POST", "/v1/agents/a1/state", {"state": "paused"},
                               key=own))[0] == 200
    assert (await stack.status("GET", "/v1/agents/a2", key=own))[0] == 403
    assert (await stack.status("POST", "/v1/agents/a2/state", {"state": "available"},
                               key=own))[0] == 403
    assert (await stack.status("GET", "/v1/calls", key=own))[0] == 403
    assert (await stack.status("GET", "/v1/keys", key=sup))[0] == 403
    listed = await stack.ok("GET", "/v1/keys")
    assert {k["role"] for k in listed} == {"supervisor", "agent"}
    assert all("key" not in k for k in listed)
    await stack.ok("DELETE", f"/v1/keys/{agent['id']}")
    assert (await stack.status("GET", "/v1/agents/a1", key=own))[0] == 401


async def test_configuration_and_history_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    first, task = await build(db)
    await seed(first)
    await first.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "training"})
    first.pbx.emit(PbxResynced())
    first.pbx.emit(CallWaiting("c1", "200"))
    await first.until(first.pbx.rings)
    first.pbx.emit(ChannelHungUp("c1"))
    await first.until(lambda: not first.controller.dispatcher.center.calls)
    await teardown(first, task)

    second, task = await build(db)
    try:
        queues = await second.ok("GET", "/v1/queues")
        assert [q["id"] for q in queues] == ["german"]
        agents = {a["id"]: a for a in await second.ok("GET", "/v1/agents")}
        assert agents["a2"]["state"] == "paused" and agents["a2"]["reason"] == "training"
        assert agents["a1"]["state"] == "available"
        assert [i["outcome"] for i in await second.ok("GET", "/v1/interactions")] == [
            "abandoned"]
    finally:
        await teardown(second, task)


def test_the_event_stream_delivers_changes_and_resumes(tmp_path: Path) -> None:
    pbx = FakePbx()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key=ADMIN)
    controller = build_controller(settings, [pbx])
    hub = controller.dispatcher.hub
    for k in range(3):
        hub.publish(float(k), "agent.state", {"agent_id": f"a{k}", "state": "available"})
    with TestClient(controller.api) as client:
        with client.websocket_connect("/v1/events?after=1", headers={
                "Authorization": f"Bearer {ADMIN}"}) as ws:
            first, second = ws.receive_json(), ws.receive_json()
        assert [first["seq"], second["seq"]] == [2, 3]
        assert second["data"]["agent_id"] == "a2"
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(
                "/v1/events?key=wrong") as ws:
            ws.receive_json()
        assert refused.value.code == 4401
    controller.engine.dispose()


async def test_agents_and_queues_must_live_on_a_driven_pbx(stack: Stack) -> None:
    got, payload = await stack.status("POST", "/v1/agents", {
        "id": "fs9", "name": "F", "device": "user/1009", "pbx": "freeswitch"})
    assert (got, payload["error_id"]) == (422, "invalid-value")
    assert "freeswitch" in payload["message"] and "asterisk" in payload["message"]


async def test_a_supervisor_can_monitor_a_connected_call(stack: Stack) -> None:
    sup = (await stack.ok("POST", "/v1/keys", {"name": "sup", "role": "supervisor"}))["key"]
    own = (await stack.ok("POST", "/v1/keys", {"name": "desk", "role": "agent",
                                               "agent_id": "a1"}))["key"]
    stack.pbx.emit(PbxResynced())
    stack.pbx.emit(CallWaiting("c1", "200"))
    [ring] = await stack.until(stack.pbx.rings)
    body = {"supervisor_device": "PJSIP/sup1", "mode": "whisper"}
    got, payload = await stack.status("POST", "/v1/calls/c1/monitor", body, key=sup)
    assert (got, payload["error_id"]) == (409, "conflict")  # still ringing
    stack.pbx.emit(AgentLegAnswered(ring.leg_id))
    await stack.until(lambda: stack.controller.dispatcher.center.calls["c1"].state == "connected")
    assert (await stack.status("POST", "/v1/calls/c1/monitor", body, key=own))[0] == 403
    assert (await stack.status("POST", "/v1/calls/c1/monitor", body, key=sup))[0] == 202
    [monitor] = await stack.until(lambda: [c for k, c in stack.pbx.commands if k == "monitor"])
    assert (monitor.agent_leg_id, monitor.supervisor_device, monitor.mode.value) == (
        ring.leg_id, "PJSIP/sup1", "whisper")


async def test_figures_and_metrics_follow_finished_calls_and_survive_a_restart(
        tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    first, task = await build(db)
    await seed(first)
    first.pbx.emit(PbxResynced())
    first.pbx.emit(CallWaiting("c1", "200"))
    [ring] = await first.until(first.pbx.rings)
    first.pbx.emit(AgentLegAnswered(ring.leg_id))
    await first.until(lambda: first.controller.dispatcher.center.calls["c1"].state
                      == "connected")
    first.pbx.emit(ChannelHungUp("c1"))
    await first.until(lambda: not first.controller.dispatcher.center.calls)
    figures = await first.ok("GET", "/v1/queues/german/figures")
    assert (figures["offered"], figures["answered"], figures["service_level"]) == (1, 1, 1.0)
    await teardown(first, task)

    second, task = await build(db)
    try:
        figures = await second.ok("GET", "/v1/queues/german/figures")
        assert (figures["offered"], figures["answered"]) == (1, 1)
        assert (await second.status("GET", "/metrics", key=None))[0] == 401
        text = (await second.client.get("/metrics", headers={
            "Authorization": f"Bearer {ADMIN}"})).text
        assert 'ccgw_queue_answered_today{queue="german"} 1' in text
        assert 'ccgw_agents{state="available"} 3' in text
        assert "# TYPE ccgw_queue_service_level_ratio gauge" in text
    finally:
        await teardown(second, task)
