"""Outbound campaigns on a real FreeSWITCH 1.10.12, end to end (as tests/e2e/test_outbound_dialer.py
and test_outbound_restart.py do on the real Asterisk): the controller dials sipp callees
through the sandbox's gateway `trunk`, each answering as its number says (a person, an
answering machine with a greeting and a beep, busy, never, an invalid number;
sandbox/scenarios/callee.xml), with AMD on (dialplans/freeswitch ccgw-outbound:
detect_audio/detect_silence for the greeting's length, mod_avmd for the beep). A person
reaches an agent whose phone answers at once; with no agent, the campaign's message plays
2 s after the answer; a preview is dialled agent first (ccgw-callback); a controller
restart mid-campaign neither drops nor redials. What FreeSWITCH did is read from a raw
Event Socket connection of the test's own.

FreeSWITCH is in no package registry this project reaches: these tests skip when no binary
is found ($CCGW_FREESWITCH_BIN, else `freeswitch` on PATH). With $CCGW_ESL_CAPTURE set to a
folder, each test writes FreeSWITCH's frames there (how tests/pbx/freeswitch/recorded/
outbound_*.esl were made).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.outbound.runs import Stage
from ccgateway.pbx.freeswitch import translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.freeswitch.outbound import with_outbound
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.lock import asterisk_lock
from ccgateway.settings import Settings
from tests.e2e.test_outbound_dialer import CAMPAIGN, csv_of, register
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS
from tests.sandbox.test_freeswitch_recording import EslObserver
from tests.sandbox.test_freeswitch_sandbox import until

ADMIN = "fs-outbound-admin-key-0123"
WATCHED = (
    "CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_BRIDGE CHANNEL_EXECUTE BACKGROUND_JOB "
    "CUSTOM ccgw::outbound ccgw::callback avmd::beep"
)
# K RR TTT as on Asterisk (tests/e2e/test_outbound_dialer.py)
PERSON = "+442079102080"  # a person after 2 s of ringing, talks 8 s
MACHINE = "+442079202000"
NEVER = "+442079300000"
BUSY = "+442079400000"
INVALID = "+442079500000"
SILENT = "+442079700000"  # answers, then only silence
LATE_PERSON = "+442079102060"
TALKS_LONG = "+442079102200"  # a person after 2 s, talks 20 s
ANSWERS_LATE = "+442079110080"  # rings 10 s, then a person who talks 8 s
# A machine gets a message after its beep here (Asterisk's test hangs up on it): the
# greeting-length verdict, then mod_avmd's beep, then the message.
AMD = {"enabled": True, "machine_action": "message", "machine_message": "vm-nobodyavail"}
FS_CAMPAIGN = CAMPAIGN | {"pbx": "freeswitch", "ring_s": 15, "amd": AMD}
LIST = [("p1", PERSON, 100), ("m1", MACHINE, 90), ("b1", BUSY, 80), ("i1", INVALID, 70),
        ("n1", NEVER, 60), ("s1", SILENT, 55)]  # fmt: skip
OUTCOMES = {"p1": "connected", "m1": "machine", "b1": "busy", "i1": "failed",
            "n1": "no_answer", "s1": "machine"}  # fmt: skip


pytestmark = [
    *MARKS,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None or shutil.which("sox") is None,
        reason="the callees' speech is made with espeak-ng and sox",
    ),
]


@dataclass
class Centre:
    controller: Controller
    api: httpx.AsyncClient
    observer: EslObserver

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.api.request(method, path, json=body)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None

    async def dials(self, campaign: str = "e2e-out") -> dict[str, dict[str, Any]]:
        found = await self.call("GET", f"/v1/campaigns/{campaign}/dials?limit=500")
        return {d["contact_id"]: d for d in found}

    def steps(self, dial_id: str) -> dict[str, dict[str, str]]:
        """FreeSWITCH's own ccgw::outbound events of one dial, by step."""
        return {
            e["ccgw_step"]: e
            for e in self.observer.named("CUSTOM", **{"Event-Subclass": "ccgw::outbound"})
            if e.get("Unique-ID") == dial_id
        }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-outbound"))
        try:
            sandbox.up(agents=2, binary=BINARY, outside="callee")
            yield sandbox
        finally:
            sandbox.down()


@asynccontextmanager
async def running(sandbox: FreeSwitchSandbox, db: Path, capture: str) -> AsyncIterator[Centre]:
    """The whole controller (real adapter, dispatcher, SQLite, API through ASGI) on the
    sandbox FreeSWITCH; stopped dead at the end (the dispatcher cancelled): calls stay."""
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    observer._writer.write(f"event plain {WATCHED}\n\n".encode())
    settings = Settings(
        database_url=f"sqlite:///{db}",
        admin_key=ADMIN,
        asterisk={"enabled": False},
        freeswitch={"enabled": True, "port": ESL_PORT, "password_file": sandbox.password_file},
    )
    pbx = FreeSwitchPbx(port=ESL_PORT, password=sandbox.esl_password())
    controller = build_controller(settings, [pbx])
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    try:
        await until("the FreeSWITCH link", lambda: _ready(api))
        yield Centre(controller, api, observer)
    finally:
        if os.environ.get("CCGW_ESL_CAPTURE"):
            folder = Path(os.environ["CCGW_ESL_CAPTURE"])
            folder.mkdir(parents=True, exist_ok=True)
            pairs = zip(observer.frames, observer.events, strict=True)
            kept = b"".join(raw for raw, event in pairs if _kept(event))
            (folder / f"outbound_{capture}.esl").write_bytes(kept)
        await api.aclose()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
        await observer.stop()
        controller.engine.dispose()


def _kept(event: dict[str, str]) -> bool:
    """The frames tests/pbx/freeswitch/test_outbound*.py replay: what the adapter reads, and
    the applications that show the claim, the bridge and the messages (not every `set`)."""
    if event.get("Event-Name") == "CHANNEL_EXECUTE":
        return event.get("Application") in ("hash", "intercept", "playback", "avmd_start")
    return True


async def _ready(api: httpx.AsyncClient) -> bool:
    response = await api.get("/v1/health")
    return response.status_code == 200 and bool(response.json().get("pbx_ready"))


async def configure(centre: Centre, campaign: dict[str, Any] = FS_CAMPAIGN) -> None:
    await centre.call("POST", "/v1/skills", {"id": "sales", "name": "Sales"})
    queue = {"id": "out", "name": "Outbound", "extension": "299", "requires": {"sales": 1},
             "ring_timeout_s": 6, "wrapup_s": 0, "pbx": "freeswitch"}  # fmt: skip
    await centre.call("POST", "/v1/queues", queue)
    for k in (1, 2):
        agent = {"id": f"agent{k}", "name": f"A{k}", "device": f"user/100{k}",
                 "skills": {"sales": 5}, "pbx": "freeswitch"}  # fmt: skip
        await centre.call("POST", "/v1/agents", agent)
    # the UK and US rules dial only against a current register (TPS, the national DNC)
    for name in ("tps", "national"):
        await register(centre, name, ["+442079999999"])  # type: ignore[arg-type]
    await centre.call("POST", "/v1/campaigns", campaign)


async def import_list(
    centre: Centre,
    list_id: str,
    rows: list[tuple[str, str, int]],
    campaign: str = "e2e-out",
    at: float | None = None,
) -> None:
    """`at`: the moment the list is dialled, for its callees' time zone (default: now)."""
    response = await centre.api.post(
        f"/v1/campaigns/{campaign}/lists?list_id={list_id}&name={list_id}&region=GB",
        content=csv_of(rows, at),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text


async def set_agent(centre: Centre, k: int, state: str) -> None:
    body: dict[str, Any] = {"state": state}
    if state == "paused":
        body["reason"] = "break"
    await centre.call("POST", f"/v1/agents/agent{k}/state", body)


def seconds(later: dict[str, str], earlier: dict[str, str]) -> float:
    return (int(later["Event-Date-Timestamp"]) - int(earlier["Event-Date-Timestamp"])) / 1e6


async def test_a_list_is_dialled_each_outcome_recorded(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    async with running(sandbox, tmp_path / "list.db", "list") as centre:
        await configure(centre)
        await import_list(centre, "first", LIST)
        await set_agent(centre, 1, "available")
        await set_agent(centre, 2, "available")
        await centre.call("POST", "/v1/campaigns/e2e-out/start")

        async def all_ended() -> bool:
            return len(await centre.dials()) >= len(LIST)

        await until("six dials to end", all_ended, 90)
        await centre.call("POST", "/v1/campaigns/e2e-out/pause")
        found = await centre.dials()
        person, machine = found["p1"], found["m1"]
        outcomes = {c: d["outcome"] for c, d in found.items()}
        print("outcomes", outcomes, "person", person, "machine", machine)
        assert outcomes == OUTCOMES
        assert person["agent_id"] in ("agent1", "agent2") and person["amd"] == "human"
        assert person["wait_s"] < 2.0
        assert found["n1"]["ring_s"] >= 15.0
        assert machine["agent_id"] is None
        # FreeSWITCH's word: the person was bridged within 2 s of the answer (AMD included)
        steps = centre.steps(person["id"])
        [bridge] = [
            e
            for e in centre.observer.named("CHANNEL_BRIDGE")
            if person["id"] in (e.get("Unique-ID"), e.get("Other-Leg-Unique-ID"))
        ]
        amd_s, bridged_s = (
            seconds(steps["live"], steps["answered"]),
            seconds(bridge, steps["answered"]),
        )
        print(f"person: AMD {steps['live']['ccgw_amd_cause']} after {amd_s:.2f} s, bridged "
              f"{bridged_s:.2f} s after the answer")  # fmt: skip
        assert steps["live"]["ccgw_amd_status"] == "human" and bridged_s < 2.0
        # the machine: AMD's verdict (the greeting's length), never offered to an agent
        machine_steps = centre.steps(machine["id"])
        print("machine:", machine_steps["machine"]["ccgw_amd_cause"],
              f"{seconds(machine_steps['machine'], machine_steps['answered']):.2f} s")  # fmt: skip
        assert machine_steps["machine"]["ccgw_amd_cause"].startswith("LONGGREETING")
        assert "live" not in machine_steps
        # then the beep (mod_avmd), then the message once the line is silent
        [beep] = [
            e
            for e in centre.observer.named("CUSTOM", **{"Event-Subclass": "avmd::beep"})
            if e.get("Unique-ID") == machine["id"]
        ]
        [message] = [
            e
            for e in centre.observer.named("CHANNEL_EXECUTE", Application="playback")
            if e.get("Unique-ID") == machine["id"]
        ]
        print(f"machine: beep at {beep.get('Frequency')} Hz "
              f"{seconds(beep, machine_steps['answered']):.2f} s after the answer, the message "
              f"{seconds(message, beep):.2f} s after the beep")  # fmt: skip
        assert message["Application-Data"] == "voicemail/vm-not_available.wav"
        assert 0.9 <= seconds(message, beep) <= 3.0
        assert not [
            e
            for e in centre.observer.named("CHANNEL_BRIDGE")
            if machine["id"] in (e.get("Unique-ID"), e.get("Other-Leg-Unique-ID"))
        ]
        # a silent line: AMD's INITIALSILENCE (no voice within 2.5 s), a machine, as on Asterisk
        silent = centre.steps(found["s1"]["id"])["machine"]
        print("silent line:", silent["ccgw_amd_cause"])
        assert silent["ccgw_amd_cause"].startswith("INITIALSILENCE")
        busy = await centre.call("GET", "/v1/campaigns/e2e-out/contacts/b1")
        assert busy["progress"]["state"] == "scheduled"
        assert busy["progress"]["outcomes"] == {"busy": 1}


async def test_with_no_agent_to_take_the_person_the_message_plays_within_2_s(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    async with running(sandbox, tmp_path / "late.db", "abandoned") as centre:
        await configure(centre)
        await set_agent(centre, 2, "paused")
        await asyncio.to_thread(sandbox.set_phone, 1, "noanswer")  # rings, never answers
        try:
            await import_list(centre, "second", [("p2", LATE_PERSON, 100)])
            await set_agent(centre, 1, "available")
            await centre.call("POST", "/v1/campaigns/e2e-out/start")

            async def ended() -> dict[str, Any] | None:
                return (await centre.dials()).get("p2")

            record = await until("the dial to p2 to end", ended, 60)
        finally:
            await centre.call("POST", "/v1/campaigns/e2e-out/pause")
            await asyncio.to_thread(sandbox.set_phone, 1, "answer")
        assert record["outcome"] == "abandoned" and record["connected_at"] is None
        steps = centre.steps(record["id"])
        abandoned = steps["abandoned"]
        # FreeSWITCH's own clock: the message starts 2 s after the answer, AMD included
        late = (int(abandoned["ccgw_at_us"]) - int(abandoned["ccgw_answered_us"])) / 1e6
        [message] = [
            e
            for e in centre.observer.named("CHANNEL_EXECUTE", Application="playback")
            if e.get("Unique-ID") == record["id"]
        ]
        print(f"abandon message {late:.3f} s after the answer: {message['Application-Data']}")
        assert 1.9 <= late <= 2.05
        assert message["Application-Data"].endswith(".wav")  # a real sound, never silence
        contact = await centre.call("GET", "/v1/campaigns/e2e-out/contacts/p2")
        assert contact["progress"]["outcomes"] == {"abandoned": 1}
        figures = await centre.call("GET", "/v1/campaigns/e2e-out/figures")
        assert figures["ledger"]["abandoned"] == 1


async def test_us_rules_count_the_grace_from_amd_s_verdict(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    """The US rule: 2 s from the end of the greeting (AMD's verdict), not from the answer."""
    us = FS_CAMPAIGN | {"id": "e2e-us", "rule_set_id": "us"}
    async with running(sandbox, tmp_path / "us.db", "abandoned_us") as centre:
        await configure(centre, us)
        await set_agent(centre, 2, "paused")
        await asyncio.to_thread(sandbox.set_phone, 1, "noanswer")
        try:
            await import_list(centre, "us", [("u1", LATE_PERSON, 100)], "e2e-us")
            await set_agent(centre, 1, "available")
            await centre.call("POST", "/v1/campaigns/e2e-us/start")

            async def ended() -> dict[str, Any] | None:
                return (await centre.dials("e2e-us")).get("u1")

            record = await until("the dial to u1 to end", ended, 60)
        finally:
            await centre.call("POST", "/v1/campaigns/e2e-us/pause")
            await asyncio.to_thread(sandbox.set_phone, 1, "answer")
        assert record["outcome"] == "abandoned"
        steps = centre.steps(record["id"])
        at = int(steps["abandoned"]["ccgw_at_us"]) / 1e6
        answered = int(steps["abandoned"]["ccgw_answered_us"]) / 1e6
        verdict = int(steps["live"]["Event-Date-Timestamp"]) / 1e6
        print(f"US: AMD's verdict {verdict - answered:.2f} s after the answer, the message "
              f"{at - verdict:.3f} s after the verdict")  # fmt: skip
        assert 1.9 <= at - verdict <= 2.05 and at - answered > 2.5


async def test_a_progressive_campaign_keeps_an_agent_for_each_call(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    progressive = FS_CAMPAIGN | {"id": "e2e-prog", "mode": "progressive"}
    async with running(sandbox, tmp_path / "prog.db", "progressive") as centre:
        await configure(centre, progressive)
        await set_agent(centre, 2, "paused")
        await import_list(centre, "prog", [("g1", PERSON, 100)], "e2e-prog")
        await set_agent(centre, 1, "available")
        await centre.call("POST", "/v1/campaigns/e2e-prog/start")

        async def ended() -> dict[str, Any] | None:
            return (await centre.dials("e2e-prog")).get("g1")

        record = await until("the progressive dial to end", ended, 40)
        await centre.call("POST", "/v1/campaigns/e2e-prog/pause")
        assert (record["outcome"], record["agent_id"]) == ("connected", "agent1")
        assert record["wait_s"] < 2.0 and record["talk_s"] >= 6.0


async def test_a_preview_is_dialled_agent_first(sandbox: FreeSwitchSandbox, tmp_path: Path) -> None:
    preview = FS_CAMPAIGN | {"id": "e2e-preview", "mode": "preview", "amd": {"enabled": False}}
    async with running(sandbox, tmp_path / "preview.db", "preview") as centre:
        await configure(centre, preview)
        await set_agent(centre, 2, "paused")
        await import_list(centre, "third", [("v1", PERSON, 100)], "e2e-preview")
        await set_agent(centre, 1, "available")
        await centre.call("POST", "/v1/campaigns/e2e-preview/start")

        def offered() -> str | None:
            dials = centre.controller.dispatcher.center.outbound.dials.values()
            return next((d.id for d in dials if d.stage is Stage.PREVIEW), None)

        dial_id = await until("a preview for agent1", offered, 20)
        await centre.call(
            "POST", "/v1/agents/agent1/preview", {"dial_id": dial_id, "action": "dial"}
        )

        async def ended() -> dict[str, Any] | None:
            return (await centre.dials("e2e-preview")).get("v1")

        record = await until("the preview's dial to end", ended, 60)
        await centre.call("POST", "/v1/campaigns/e2e-preview/pause")
        print("preview", record)
        assert record["outcome"] == "connected" and record["agent_id"] == "agent1"
        # FreeSWITCH's word: the agent's leg (ccgw-callback) dialled the customer, who answered
        answers = [
            e
            for e in centre.observer.named("CHANNEL_ANSWER")
            if e.get("variable_ccgw_callback_leg")
        ]
        assert len(answers) == 1 and answers[0]["Caller-Destination-Number"] == PERSON
        assert record["talk_s"] >= 6.0  # the callee talks 8 s


async def test_a_preview_to_a_busy_line_is_recorded_busy(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    preview = FS_CAMPAIGN | {"id": "e2e-busy", "mode": "preview", "amd": {"enabled": False}}
    async with running(sandbox, tmp_path / "busy.db", "preview_busy") as centre:
        await configure(centre, preview)
        await set_agent(centre, 2, "paused")
        await import_list(centre, "busy", [("x1", BUSY, 100)], "e2e-busy")
        await set_agent(centre, 1, "available")
        await centre.call("POST", "/v1/campaigns/e2e-busy/start")

        def offered() -> str | None:
            dials = centre.controller.dispatcher.center.outbound.dials.values()
            return next((d.id for d in dials if d.stage is Stage.PREVIEW), None)

        dial_id = await until("a preview for agent1", offered, 20)
        accept = {"dial_id": dial_id, "action": "dial"}
        await centre.call("POST", "/v1/agents/agent1/preview", accept)

        async def ended() -> dict[str, Any] | None:
            return (await centre.dials("e2e-busy")).get("x1")

        record = await until("the preview's dial to end", ended, 40)
        await centre.call("POST", "/v1/campaigns/e2e-busy/pause")
        # FreeSWITCH's word: ccgw-callback's bridge failed with the callee's 486
        [failed] = centre.observer.named("CUSTOM", **{"Event-Subclass": "ccgw::callback"})
        print("preview to a busy line:", failed["ccgw_dial_status"], record["outcome"])
        assert failed["ccgw_dial_status"] == "USER_BUSY"
        assert record["outcome"] == "busy"


async def test_a_controller_restart_mid_campaign_neither_drops_nor_redials(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "restart.db"
    async with running(sandbox, db, "restart_first") as first:
        await configure(first)
        for k in (1, 2):
            await set_agent(first, k, "available")
        await import_list(first, "restart", [("t1", TALKS_LONG, 100), ("l1", ANSWERS_LATE, 90)])
        await first.call("POST", "/v1/campaigns/e2e-out/start")
        await until(
            "the first person with an agent", lambda: first.observer.named("CHANNEL_BRIDGE"), 20
        )
        seen_first = list(first.observer.events)

        # the picture the second controller's resync will read: one talking, one ringing
        # (`show channels` lags the events by up to a second: read until it has the bridge)
        async def picture() -> str | None:
            rows = await asyncio.to_thread(sandbox.api, "show channels as json")
            snapshot = translate.to_snapshot(rows)
            found = with_outbound(snapshot, rows, time.time()).outbound
            return rows if {c.stage for c in found} == {"agent", "ringing"} else None

        rows = await until("the talking and the ringing customer in the rows", picture, 5)
        if os.environ.get("CCGW_ESL_CAPTURE"):
            (Path(os.environ["CCGW_ESL_CAPTURE"]) / "outbound_channels.json").write_text(rows)
    # stopped dead: the calls stay in FreeSWITCH
    async with running(sandbox, db, "restart_second") as second:

        async def both_recorded() -> bool:
            return len(await second.dials()) >= 2

        await until("both dials to end", both_recorded, 60)
        found = await second.dials()
        events = seen_first + second.observer.events
    print("after the restart", found)
    assert {c: d["outcome"] for c, d in found.items()} == {"t1": "connected", "l1": "connected"}
    assert found["t1"]["talk_s"] > 10  # the talk went on across the restart
    answered = {
        e["Unique-ID"]
        for e in events
        if e.get("Event-Subclass") == "ccgw::outbound" and e.get("ccgw_step") == "answered"
    }
    assert answered == {found["t1"]["id"], found["l1"]["id"]}  # each person dialled once
    originated = [e for e in events if e.get("Job-Command") == "originate"]
    customers = {
        e["Job-Command-Arg"]
        for e in originated
        if e.get("Job-Command-Arg", "").startswith("{origination_uuid=ob-")
    }
    assert len(customers) == 2, customers  # nobody dialled twice
    # the talk adopted after the restart is agent1's or agent2's (the leg's dialled user)
    assert found["t1"]["agent_id"] in ("agent1", "agent2")
