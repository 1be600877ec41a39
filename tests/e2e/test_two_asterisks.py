"""One controller drives two real Asterisks (`sandbox up --asterisks 2`, issue 14: several
PBXs), configured by its settings alone: the session's sandbox Asterisk as `asterisk` and a
second one as `[pbxes.east]`. A caller on each reaches only an agent of its own PBX (each
Asterisk's own AMI says whom it bridged); stopping east leaves the main Asterisk's call and
routing untouched while `/v1/health` and `ccgw_pbx_up` say east is down; when east comes back
its resync settles the call it lost. Over the sandbox's trunk between the two, a caller
talks to the other Asterisk's agent, is recorded, listened to and handed on by a consult."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ccgateway.app import Controller, build_controller
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.asterisk_config import FIRST, SECOND
from ccgateway.settings import RecordingSettings, Settings
from tests.conftest import EAST_AGENTS
from tests.e2e.ami_observer import AmiObserver
from tests.e2e.test_two_pbxs import _records, until

pytestmark = pytest.mark.asterisk
ADMIN = "two-asterisks-admin-key-0123"
RECORDINGS = "/var/spool/asterisk/monitor"  # the main Asterisk's own, inside the sandbox


def pbx_up(metrics: str) -> dict[str, float]:
    """ccgw_pbx_up by PBX, read with prometheus_client's own parser."""
    return {
        sample.labels["pbx"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "ccgw_pbx_up"
    }


async def test_each_asterisk_routes_its_own_callers_and_one_going_away_spares_the_other(
    asterisk_sandbox: Sandbox, east: Sandbox, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite",
        admin_key=ADMIN,
        asterisk={"secret": asterisk_sandbox.ami_secret()},
        pbxes={"east": {"kind": "asterisk", "port": SECOND.ami_port, "secret": east.ami_secret()}},
    )
    controller = build_controller(settings)  # both adapters, from the settings
    main_ami = AmiObserver(secret=asterisk_sandbox.ami_secret())
    east_ami = AmiObserver(secret=east.ami_secret(), port=SECOND.ami_port)
    await main_ami.start()
    await east_ami.start()
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    try:
        await _configure(api)
        center = controller.dispatcher.center
        await until("both Asterisks", lambda: center.ready == {"asterisk", "east"})
        assert (await api.get("/v1/health")).json()["pbxes"] == {"asterisk": True, "east": True}

        # The same extension on both: each caller must reach an agent of its own Asterisk.
        asterisk_sandbox.call("5000", hangup_after=60, caller="+4930555101")
        east.call("5000", hangup_after=60, caller="+4930555201")
        await until("both callers talking", lambda: _talking(controller) == 2)
        calls = {c.pbx: c for c in center.calls.values()}
        assert (calls["asterisk"].agent_id, calls["east"].agent_id) == ("m1", "e1")
        await until("the bridges", lambda: main_ami.bridged_pairs() and east_ami.bridged_pairs())
        assert main_ami.bridged_pairs() == {calls["asterisk"].id: {"PJSIP/agent1"}}
        assert east_ami.bridged_pairs() == {calls["east"].id: {"PJSIP/agent2"}}

        # East goes away: only its call is touched; the main Asterisk goes on routing.
        await east_ami.stop()
        east.down()
        await until("east down", lambda: center.ready == {"asterisk"}, timeout_s=15)
        health = (await api.get("/v1/health")).json()
        assert (health["pbx_ready"], health["pbxes"]) == (False, {"asterisk": True, "east": False})
        assert pbx_up((await api.get("/metrics")).text) == {"asterisk": 1.0, "east": 0.0}
        main_call = center.calls[calls["asterisk"].id]
        assert (main_call.state.value, main_call.agent_id) == ("connected", "m1")
        response = await api.post("/v1/agents/m2/state", json={"state": "available"})
        assert response.status_code == 200, response.text
        asterisk_sandbox.call("5000", hangup_after=2, caller="+4930555102")
        record = await until(
            "the main Asterisk's next caller served",
            lambda: [r for r in _records(controller) if r.caller_number == "+4930555102"],
            timeout_s=30,
        )
        assert (record[0].agent_id, record[0].outcome.value) == ("m2", "answered")
        assert center.calls[calls["asterisk"].id].agent_id == "m1"  # still talking

        # East back (a new Asterisk: the call is gone): its resync settles east's call alone.
        east.up(agents=EAST_AGENTS)
        await until("east back", lambda: center.ready == {"asterisk", "east"}, timeout_s=30)
        settled = await until(
            "east's lost call recorded",
            lambda: [r for r in _records(controller) if r.call_id == calls["east"].id],
            timeout_s=15,
        )
        assert settled[0].agent_id == "e1"
        assert calls["asterisk"].id in center.calls  # the main call is still on
        assert pbx_up((await api.get("/metrics")).text) == {"asterisk": 1.0, "east": 1.0}
    finally:
        # The main call was to last a minute: end it, so the session's phones are free for
        # the next tests.
        asterisk_sandbox.asterisk_cli("channel request hangup all")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await api.aclose()
        await main_ami.stop()
        await east_ami.stop()
        for pbx in controller.dispatcher.pbxes.values():
            await pbx.close()
        controller.engine.dispose()


async def _configure(api: httpx.AsyncClient) -> None:
    """Queue 5000 on each Asterisk; m1 (available) and m2 (not yet) on the main one, e1
    (available) on east (device names are unique across PBXs: east's agent has its phone
    agent2)."""

    async def post(path: str, body: dict[str, Any]) -> None:
        response = await api.post(path, json=body)
        assert response.status_code < 300, response.text

    await post("/v1/skills", {"id": "support", "name": "Support"})
    for queue, pbx in (("main", "asterisk"), ("east", "east")):
        body = {"id": queue, "name": queue, "extension": "5000", "pbx": pbx}
        await post("/v1/queues", {**body, "requires": {"support": 5}})
    for agent, device, pbx in (
        ("m1", "PJSIP/agent1", "asterisk"),
        ("m2", "PJSIP/agent3", "asterisk"),
        ("e1", "PJSIP/agent2", "east"),
    ):
        body = {"id": agent, "name": agent, "device": device, "pbx": pbx}
        await post("/v1/agents", {**body, "skills": {"support": 9}})
        if agent != "m2":
            await post(f"/v1/agents/{agent}/state", {"state": "available"})


def _talking(controller: Controller) -> int:
    return sum(c.state.value == "connected" for c in controller.dispatcher.center.calls.values())


async def test_a_trunked_queue_s_callers_talk_to_the_other_asterisk_s_agent_over_the_trunk(
    asterisk_sandbox: Sandbox, east: Sandbox, tmp_path: Path
) -> None:
    """Queue 5000 on the main Asterisk names east in `trunked_pbxes`; its only agent is on
    east. The caller is bridged on the main Asterisk to a leg that went out over the
    sandbox's trunk (`PJSIP/asterisk2-...`), and east rang its own phone agent1 and joined
    it to that trunk call: each Asterisk's AMI says so. A controller restarted mid-call
    adopts the conversation with east's agent (the leg's account code says whose phone it
    rang, although the main Asterisk has an agent1 of its own); a call that ends while no
    controller runs is recorded from the end marks with that agent too."""
    settings = trunked(asterisk_sandbox, east, tmp_path)
    main_ami = AmiObserver(secret=asterisk_sandbox.ami_secret())
    east_ami = AmiObserver(secret=east.ami_secret(), port=SECOND.ami_port)
    await main_ami.start()
    await east_ami.start()
    running = await _Running.start(settings)
    try:
        response = await running.api.post("/v1/skills", json={"id": "support", "name": "S"})
        assert response.status_code == 201, response.text
        queue: dict[str, Any] = {"id": "shared", "name": "Shared", "extension": "5000"}
        queue |= {"requires": {"support": 5}, "trunked_pbxes": ["east"], "wrapup_s": 0}
        response = await running.api.post("/v1/queues", json=queue)
        assert response.status_code == 201, response.text
        agent = {"id": "e1", "name": "E1", "device": "PJSIP/agent1", "pbx": "east"}
        response = await running.api.post("/v1/agents", json={**agent, "skills": {"support": 9}})
        assert response.status_code == 201, response.text
        await running.until_ready()
        response = await running.api.post("/v1/agents/e1/state", json={"state": "available"})
        assert response.status_code == 200, response.text

        # 1. A caller on the main Asterisk talks to east's agent, over the trunk.
        asterisk_sandbox.call("5000", hangup_after=3, caller="+4930555301")
        [first] = await until(
            "the first call recorded",
            lambda: [r for r in _records(running.controller) if r.caller_number == "+4930555301"],
            timeout_s=30,
        )
        assert (first.agent_id, first.outcome.value, first.queue_id) == ("e1", "answered", "shared")
        assert 1.5 < first.talk_s < 3.0, first  # the caller hangs up 3 s after its answer
        main_bridge = _bridge_of(main_ami, first.call_id)
        assert [c for c in main_bridge if c != first.call_id] == ["leg"], main_bridge
        assert main_bridge["leg"].startswith("PJSIP/asterisk2-"), main_bridge
        east_bridges = [
            {e["Channel"].rsplit("-", 1)[0] for e in east_ami.seen("BridgeEnter", BridgeUniqueid=b)}
            for b in {e["BridgeUniqueid"] for e in east_ami.seen("BridgeEnter")}
        ]
        assert east_bridges == [{"PJSIP/asterisk", "PJSIP/agent1"}], east_bridges

        # 2. A restart mid-call: the conversation is adopted with east's agent.
        await until("e1 free again", lambda: running.center.status["e1"].state.value == "available")
        asterisk_sandbox.call("5000", hangup_after=8, caller="+4930555302")
        await until("the second call talking", lambda: _talking(running.controller) == 1)
        [second_id] = running.center.calls
        await running.stop()
        running = await _Running.start(settings)
        await running.until_ready()
        adopted = running.center.calls[second_id]
        assert (adopted.state.value, adopted.agent_id) == ("connected", "e1")
        assert running.center.status["e1"].state.value == "on_call"

        # 3. The same call ends while no controller runs: its end marks name east's agent.
        await running.stop()
        await until(
            "the caller's end on the main Asterisk",
            lambda: main_ami.seen("Hangup", Uniqueid=second_id),
            timeout_s=15,
        )
        running = await _Running.start(settings)
        await running.until_ready()
        [second] = await until(
            "the second call recorded from its end marks",
            lambda: [r for r in _records(running.controller) if r.call_id == second_id],
        )
        assert (second.agent_id, second.outcome.value) == ("e1", "answered"), second
    finally:
        asterisk_sandbox.asterisk_cli("channel request hangup all")
        east.asterisk_cli("channel request hangup all")
        await running.stop()
        await main_ami.stop()
        await east_ami.stop()


def trunked(main: Sandbox, east: Sandbox, tmp_path: Path, **more: Any) -> Settings:
    """A controller of both Asterisks, each with its trunk to the other."""
    return Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite",
        admin_key=ADMIN,
        asterisk={"secret": main.ami_secret(), "trunks": {"east": SECOND.name}},
        pbxes={
            "east": {
                "kind": "asterisk",
                "port": SECOND.ami_port,
                "secret": east.ami_secret(),
                "trunks": {"asterisk": FIRST.name},
            }
        },
        **more,
    )


class _Running:
    """A controller built from the settings and running, as `serve` would run it, with an
    API client; stopped as a process that ends would be (its PBX links closed)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.center = controller.dispatcher.center
        self.task = asyncio.create_task(controller.dispatcher.run())
        self.api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=controller.api),
            base_url="http://ccgw",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        self.stopped = False

    @classmethod
    async def start(cls, settings: Settings) -> _Running:
        return cls(build_controller(settings))

    async def until_ready(self) -> None:
        await until("both Asterisks", lambda: self.center.ready == {"asterisk", "east"})

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.api.aclose()
        for pbx in self.controller.dispatcher.pbxes.values():
            await pbx.close()
        self.controller.engine.dispose()


def _bridge_of(ami: AmiObserver, call_id: str) -> dict[str, str]:
    """The channels of the bridge where the caller met our agent leg (its holding bridge
    aside): the caller by its uniqueid, the leg as "leg", each with its channel name."""
    for entered in ami.seen("BridgeEnter", Uniqueid=call_id):
        members = ami.seen("BridgeEnter", BridgeUniqueid=entered["BridgeUniqueid"])
        if any(e["Uniqueid"].startswith("ccgw-") for e in members):
            return {
                "leg" if e["Uniqueid"].startswith("ccgw-") else e["Uniqueid"]: e["Channel"]
                for e in members
            }
    raise AssertionError(f"{call_id} never shared a bridge with an agent leg")


async def test_over_the_trunk_a_call_is_recorded_listened_to_and_handed_on_by_a_consult(
    asterisk_sandbox: Sandbox, east: Sandbox, tmp_path: Path
) -> None:
    """A caller on the main Asterisk talks to east's agent over the trunk, in a queue that
    records: the main Asterisk records it (its MixMonitor on the trunk's leg, the file on
    its disk, measured once the call is over: e1's part, as in a call on one PBX); a
    supervisor's phone on the main Asterisk listens (ChanSpy on the trunk's leg); east's
    agent consults agent2 of the main Asterisk and hands the caller over: the caller is then
    bridged to that phone, and the call has two records, east's agent's part transferred,
    agent2's answered."""
    folder = Path(asterisk_sandbox.root) / RECORDINGS.lstrip("/")
    recordings = RecordingSettings(directory=folder, pbx_directory=RECORDINGS)
    settings = trunked(asterisk_sandbox, east, tmp_path, recordings=recordings)
    main_ami = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await main_ami.start()
    running = await _Running.start(settings)
    try:
        api = running.api
        for path, body in (
            ("/v1/skills", {"id": "support", "name": "S"}),
            ("/v1/queues", {"id": "taped", "name": "Taped", "extension": "5000",
                            "requires": {"support": 5}, "trunked_pbxes": ["east"],
                            "wrapup_s": 0, "recording": {"mode": "always"}}),
            ("/v1/agents", {"id": "e1", "name": "E1", "device": "PJSIP/agent1", "pbx": "east",
                            "skills": {"support": 9}}),
            ("/v1/agents", {"id": "m2", "name": "M2", "device": "PJSIP/agent2"}),
        ):  # fmt: skip
            response = await api.post(path, json=body)
            assert response.status_code == 201, response.text
        await running.until_ready()
        for agent in ("e1", "m2"):
            response = await api.post(f"/v1/agents/{agent}/state", json={"state": "available"})
            assert response.status_code == 200, response.text

        asterisk_sandbox.call("5000", hangup_after=60, caller="+4930555401", speak_after=0.5)
        await until("the caller talking to e1", lambda: _talking(running.controller) == 1)
        [call_id] = running.center.calls
        assert running.center.calls[call_id].agent_id == "e1"
        leg = _bridge_of(main_ami, call_id)["leg"]
        assert leg.startswith("PJSIP/asterisk2-"), leg
        await asyncio.sleep(2)  # the caller speaks (from 0.5 s after its answer)

        response = await api.post(
            f"/v1/calls/{call_id}/monitor", json={"supervisor_device": "PJSIP/agent3"}
        )
        assert response.status_code == 202, response.text
        spying = await until("agent3 listening", lambda: main_ami.seen("ChanSpyStart"))
        assert spying[0]["SpyeeChannel"] == leg, spying

        response = await api.post(
            f"/v1/calls/{call_id}/transfer", json={"target": "agent", "to": "m2", "attended": True}
        )
        assert response.status_code == 200, response.text
        await until("m2 on the consult", lambda: running.center.status["m2"].state.value
                    == "on_call")  # fmt: skip
        response = await api.post(f"/v1/calls/{call_id}/transfer/complete")
        assert response.status_code == 200, response.text
        await until(
            "the caller bridged to agent2",
            lambda: "PJSIP/agent2" in main_ami.bridged_pairs().get(call_id, set()),
        )
        await until("e1 free again", lambda: running.center.status["e1"].state.value
                    == "available")  # fmt: skip
        [caller] = main_ami.seen("Newchannel", Uniqueid=call_id)
        asterisk_sandbox.asterisk_cli(f"channel request hangup {caller['Channel']}")
        parts = await until(
            "both parts recorded",
            lambda: (lambda mine: mine if len(mine) == 2 else None)(
                [r for r in _records(running.controller) if r.call_id == call_id]
            ),
            timeout_s=20,
        )
        assert [(p.agent_id, p.outcome.value) for p in parts] == [
            ("e1", "transferred"), ("m2", "answered")
        ]  # fmt: skip

        for _ in range(100):  # measured a moment after the call's end (dispatcher.py)
            response = await api.get("/v1/recordings", params={"call_id": call_id})
            measured = [r for r in response.json() if r["size"] is not None]
            if measured:
                break
            await asyncio.sleep(0.2)
        [recording] = measured
        # e1's part: 16,000 bytes a second of 8 kHz 16-bit audio, at least 1.5 s of it
        assert recording["size"] > 24000 and recording["agent_id"] == "e1", recording
    finally:
        asterisk_sandbox.asterisk_cli("channel request hangup all")
        east.asterisk_cli("channel request hangup all")
        await running.stop()
        await main_ami.stop()
