"""One controller drives two PBXs at once: the real sandbox Asterisk and a FreeSWITCH whose
every message comes from the real transcripts. Each call stays on its own PBX."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.app import build_controller
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import InteractionQuery
from ccgateway.sandbox import Sandbox
from ccgateway.settings import Settings
from tests.e2e.ami_observer import AmiObserver
from tests.pbx.freeswitch.test_routing_scenario import CALLER, server_for_scenario

pytestmark = pytest.mark.asterisk
ADMIN = "two-pbx-admin-key-012345"


async def until(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


async def test_asterisk_and_freeswitch_calls_each_reach_their_own_agents(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    server, script = server_for_scenario()
    server.answer("bgapi originate", script["t14_bgapi"][0])
    server.answer("api uuid_bridge", script["t14_bridge"][0])
    fs = FreeSwitchPbx(
        port=await server.start(), password="ClueCon", inbound_context="default", hold_music=None
    )
    ast = AsteriskPbx(secret=asterisk_sandbox.ami_secret())
    controller = build_controller(
        Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key=ADMIN), [ast, fs]
    )
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    try:

        async def post(path: str, body: dict[str, Any]) -> None:
            response = await api.post(path, json=body)
            assert response.status_code < 300, response.text

        await post("/v1/skills", {"id": "support", "name": "Support"})
        await post(
            "/v1/queues",
            {"id": "ast", "name": "A", "extension": "5000", "requires": {"support": 5}},
        )
        await post(
            "/v1/queues",
            {
                "id": "fs",
                "name": "F",
                "extension": "5000",
                "requires": {"support": 5},
                "pbx": "freeswitch",
            },
        )
        await post(
            "/v1/agents",
            {"id": "ast1", "name": "A1", "device": "PJSIP/agent1", "skills": {"support": 9}},
        )
        await post(
            "/v1/agents",
            {
                "id": "fs1",
                "name": "F1",
                "device": "user/1001",
                "skills": {"support": 9},
                "pbx": "freeswitch",
            },
        )
        for agent in ("ast1", "fs1"):
            await post(f"/v1/agents/{agent}/state", {"state": "available"})
        health = await until(
            "both PBXs", lambda: controller.dispatcher.center.ready == {"asterisk", "freeswitch"}
        )
        assert health
        assert (await api.get("/v1/health")).json() == {
            "pbx_ready": True,
            "pbxes": {"asterisk": True, "freeswitch": True},
            "problems": {},
        }

        # The same extension on both PBXs: each call must stay on the PBX it came from.
        asterisk_sandbox.call("5000", hangup_after=6, caller="+4930555")
        server.push(script["register_and_caller_parks"])
        fs_leg = await until(
            "the FreeSWITCH offer",
            lambda: (
                controller.dispatcher.center.calls.get(CALLER)
                and controller.dispatcher.center.calls[CALLER].leg_id
            ),
        )
        originate = await until(
            "the FreeSWITCH originate",
            lambda: [c for c in server.received if c.startswith("bgapi originate")],
        )
        assert f"origination_uuid={fs_leg}" in originate[0] and "user/1001" in originate[0]
        await until(
            "the FreeSWITCH bridge", lambda: f"api uuid_bridge {CALLER} {fs_leg}" in server.received
        )
        server.push(script["caller_and_agent_hang_up"])

        records = await until(
            "both calls recorded",
            lambda: len(_records(controller)) >= 2 and _records(controller),
            timeout_s=30,
        )
        by_queue = {r.queue_id: r for r in records}
        assert (by_queue["ast"].agent_id, by_queue["ast"].outcome.value) == ("ast1", "answered")
        assert (by_queue["fs"].agent_id, by_queue["fs"].outcome.value) == ("fs1", "answered")
        asterisk_call = by_queue["ast"].call_id
        assert observer.bridged_pairs()[asterisk_call] == {"PJSIP/agent1"}
        assert not any("PJSIP" in c for c in server.received)  # no Asterisk agent on FS
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await api.aclose()
        await observer.stop()
        await server.stop()
        controller.engine.dispose()


def _records(controller: Any) -> list[Any]:
    return list(controller.dispatcher._interactions.query(InteractionQuery()))
