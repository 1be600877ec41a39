"""One controller drives two PBXs at once: the real sandbox Asterisk and a FreeSWITCH whose
every message comes from the real transcripts; then `ccgateway sandbox up --pbx both` with a
real FreeSWITCH beside the Asterisk (skipped without a FreeSWITCH binary). Each call stays on
its own PBX."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.app import build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import InteractionQuery
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.lock import asterisk_lock
from ccgateway.settings import Settings
from tests.conftest import SESSION_AGENTS
from tests.e2e.ami_observer import AmiObserver
from tests.pbx.freeswitch.test_routing_scenario import CALLER, server_for_scenario
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import BINARY, bridged_agents
from tests.sandbox.freeswitch_e2e import LOCK as FREESWITCH_LOCK

pytestmark = pytest.mark.asterisk
ADMIN = "two-pbx-admin-key-012345"
NO_FREESWITCH = "no FreeSWITCH binary ($CCGW_FREESWITCH_BIN or `freeswitch` on PATH)"


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
        port=await server.start(),
        password="ClueCon",
        inbound_context="default",
        hold_music=None,
        resync_settle_s=0,  # a replayed transcript: no channel table lagging behind
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
            "database": True,
            "problems": {},
            "passive": {},
            "role": "single",
            "node": None,
            "epoch": None,
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


@pytest.mark.freeswitch
@pytest.mark.skipif(BINARY is None, reason=NO_FREESWITCH)
async def test_sandbox_up_both_starts_both_pbxs_and_one_controller_drives_them(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    """`ccgateway sandbox up --pbx both` from the command line: the Asterisk sandbox (the
    session's, restarted with the same phones) and a FreeSWITCH sandbox at once; one
    controller, configured by its settings alone, routes a call on each to that PBX's own
    agent (each PBX's word: AMI's BridgeEnter, FreeSWITCH's CHANNEL_BRIDGE); `down --pbx
    both` stops both, and the session's Asterisk is brought back for the tests after."""
    fs_state = tmp_path / "fs-sandbox"
    env = os.environ | {"CCGW_FREESWITCH_SANDBOX_STATE": str(fs_state)}
    agents = str(SESSION_AGENTS)
    with asterisk_lock(path=FREESWITCH_LOCK):
        try:
            up = cli(env, "up", "--pbx", "both", "--agents", agents, "--freeswitch-bin", BINARY)
            assert "AMI 127.0.0.1:5038" in up and f"FreeSWITCH ESL 127.0.0.1:{ESL_PORT}" in up
            both = json.loads(cli(env, "status", "--pbx", "both"))
            assert both["asterisk"]["running"] and both["freeswitch"]["running"], both
            assert all(p["registered"] for p in both["freeswitch"]["phones"]), both
            await _one_call_on_each(asterisk_sandbox, FreeSwitchSandbox(fs_state), tmp_path)
        finally:
            cli(env, "down", "--pbx", "both")
        status = subprocess.run(
            [sys.executable, "-m", "ccgateway", "sandbox", "status", "--pbx", "both"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert status.returncode == 3, status.stdout  # neither runs
        gone = json.loads(status.stdout)
        assert not gone["asterisk"]["running"] and not gone["freeswitch"]["running"]
    asterisk_sandbox.up(agents=SESSION_AGENTS)  # the session's sandbox, as it was


def cli(env: dict[str, str], *args: str | Path) -> str:
    """`ccgateway sandbox ...` as a user runs it; its output (a failure shows it)."""
    done = subprocess.run(
        [sys.executable, "-m", "ccgateway", "sandbox", *map(str, args)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


async def _one_call_on_each(ast: Sandbox, fs: FreeSwitchSandbox, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/both.sqlite",
        admin_key=ADMIN,
        freeswitch={"enabled": True, "port": ESL_PORT, "password_file": fs.password_file},
    )
    controller = build_controller(settings)  # both adapters, from the settings
    ami, esl = AmiObserver(secret=ast.ami_secret()), EslObserver(fs.esl_password())
    await ami.start()
    await esl.start()
    task = asyncio.create_task(controller.dispatcher.run())
    try:
        service = controller.service
        await service.create_skill(Skill("support", "Support"))
        await service.create_queue(Queue("ast", "A", "5000", {"support": 5}))
        await service.create_queue(Queue("fs", "F", "5000", {"support": 5}, pbx="freeswitch"))
        await service.create_agent(Agent("ast1", "A1", "PJSIP/agent1", {"support": 9}))
        await service.create_agent(
            Agent("fs1", "F1", "user/1001", {"support": 9}, pbx="freeswitch")
        )
        for agent in ("ast1", "fs1"):
            await service.set_agent_state(agent, AgentState.AVAILABLE, None)
        center = controller.dispatcher.center
        await until("both PBXs", lambda: center.ready == {"asterisk", "freeswitch"})
        # The same extension on both PBXs: each call must stay on the PBX it came from.
        ast.call("5000", hangup_after=5, caller="+4930555001")
        fs.call("5000", hangup_after=5, caller="+4930555002")
        records = await until(
            "both calls recorded",
            lambda: len(_records(controller)) >= 2 and _records(controller),
            timeout_s=40,
        )
        by_queue = {r.queue_id: r for r in records}
        assert (by_queue["ast"].agent_id, by_queue["ast"].caller_number) == (
            "ast1",
            "+4930555001",
        )
        assert (by_queue["fs"].agent_id, by_queue["fs"].caller_number) == ("fs1", "+4930555002")
        assert {r.outcome.value for r in records} == {"answered"}
        assert ami.bridged_pairs()[by_queue["ast"].call_id] == {"PJSIP/agent1"}
        assert bridged_agents(esl, by_queue["fs"].call_id) == {1}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await controller.dispatcher.pbx.close()
        await ami.stop()
        await esl.stop()
        controller.engine.dispose()
