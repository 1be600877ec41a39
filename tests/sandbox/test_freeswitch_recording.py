"""Recordings on a real FreeSWITCH 1.10.12: a sipp customer routed by the controller to a
sipp agent phone on a queue that always records. The agent leg records itself from its
answer (`execute_on_answer=record_session:...`, only while bridged); the WAV FreeSWITCH wrote
is measured with sox: its length is the bridged time, and a pause through the API
(`uuid_record ... mask`) is silence in the middle of the customer's speech. A queue with a
recording notice: FreeSWITCH's own events show the notice (ccgw-consent) and its CUSTOM
ccgw::consent before the agent's leg is even created; a caller who presses the refusal key is
not recorded. A start on demand through the API, and one FreeSWITCH refuses (`-ERR`). The
agent's phone pressing `*0` twice (SIP INFO) pauses and resumes the recording: one pause.

FreeSWITCH is in no package registry this project reaches: these tests skip when no binary
is found ($CCGW_FREESWITCH_BIN, else `freeswitch` on PATH; see
tests/sandbox/test_freeswitch_sandbox.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from ccgateway.app import Controller, build_controller
from ccgateway.domain.commands import StartRecording
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import PbxRejected
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.lock import asterisk_lock
from ccgateway.settings import Settings
from tests.audio import longest, peak, run
from tests.sandbox import esl_observer
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS
from tests.sandbox.test_freeswitch_sandbox import until

ADMIN = "fs-recording-admin-key-0123"
NOTICE = "conf-now-recording"  # sounds.py: conference/conf-being_recorded.wav
STEP = 0.25  # seconds of the file sox measures at a time
WATCHED = (
    "CHANNEL_CREATE CHANNEL_PARK CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE "
    "CHANNEL_HANGUP_COMPLETE "
    "BACKGROUND_JOB CUSTOM ccgw::consent ccgw::recording_toggle"
)


pytestmark = [
    *MARKS,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("sox") is None, reason="sox measures the recordings"),
]


@dataclass
class Centre:
    controller: Controller
    api: httpx.AsyncClient
    observer: EslObserver
    folder: Path  # where FreeSWITCH writes recordings (and the controller reads them)
    pbx: FreeSwitchPbx

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.api.request(method, path, json=body)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-recording"))
        try:
            # agent 2's phone presses *0 (its agent is logged in only for that test): no
            # phone is restarted mid-module
            sandbox.up(agents=2, phones={2: "keys"}, binary=BINARY)
            yield sandbox
        finally:
            sandbox.down()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    folder = sandbox.state_dir / "recordings"
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('fs-rec-db')}/ccgateway.db",
        admin_key=ADMIN,
        asterisk={"enabled": False},
        freeswitch={"enabled": True, "port": ESL_PORT, "password_file": sandbox.password_file},
        recordings={"directory": folder},
    )
    # The adapter as configured_pbxes builds it, with the recordings folder FreeSWITCH sees
    # (the same host here: settings.recordings.directory).
    pbx = FreeSwitchPbx(port=ESL_PORT, password=sandbox.esl_password(), recordings=str(folder))
    controller = build_controller(settings, [pbx])
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    centre = Centre(controller, api, observer, folder, pbx)
    try:
        await until("the FreeSWITCH link", lambda: _ready(api))
        await centre.call("POST", "/v1/skills", {"id": "en", "name": "English"})
        queue = {
            "id": "taped", "name": "Taped", "extension": "310", "requires": {"en": 1},
            "ring_timeout_s": 8, "wrapup_s": 1, "pbx": "freeswitch",
            "recording": {"mode": "always"},
        }  # fmt: skip
        await centre.call("POST", "/v1/queues", queue)
        policy = {"mode": "always", "notice": NOTICE, "refuse_key": "9"}
        noticed = queue | {"id": "noticed", "extension": "311", "recording": policy}
        await centre.call("POST", "/v1/queues", noticed)
        asked = queue | {"id": "asked", "extension": "312", "recording": {"mode": "on_demand"}}
        await centre.call("POST", "/v1/queues", asked)
        both = {"mode": "always", "stereo": True}
        await centre.call(
            "POST", "/v1/queues", queue | {"id": "stereo", "extension": "313", "recording": both}
        )
        agent = {"id": "agent1", "name": "Agent 1", "device": "user/1001",
                 "skills": {"en": 5}, "pbx": "freeswitch"}  # fmt: skip
        await centre.call("POST", "/v1/agents", agent)
        await centre.call("POST", "/v1/agents/agent1/state", {"state": "available"})
        yield centre
    finally:
        if os.environ.get("CCGW_ESL_CAPTURE"):  # how tests/pbx/freeswitch/recorded/ got them
            observer.save(Path(os.environ["CCGW_ESL_CAPTURE"]))
        await api.aclose()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
        await observer.stop()
        controller.engine.dispose()


async def test_a_recording_with_a_pause_is_silent_for_the_pause(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    # The customer speaks (7 s) from 1 s after the answer and hangs up at 14 s.
    await asyncio.to_thread(
        sandbox.call, "310", hangup_after=14, caller="+4930197001", speak_after=1
    )
    [live] = await until("a recording", lambda: _recordings(centre), 20)
    call_id, leg = live["call_id"], live["channel_id"]
    await until("the bridge", lambda: centre.observer.first("CHANNEL_BRIDGE"))
    await asyncio.sleep(2.0)
    await centre.call("POST", f"/v1/calls/{call_id}/recording", {"action": "pause"})
    await asyncio.sleep(3.0)
    await centre.call("POST", f"/v1/calls/{call_id}/recording", {"action": "resume"})

    done = await until("the recording measured", lambda: _measured(centre), 40)
    assert done["ended_at"] is not None and done["agent_id"] == "agent1"
    [pause] = done["pauses"]
    paused = _at(pause["resumed_at"]) - _at(pause["paused_at"])
    assert 2.5 <= paused <= 3.6

    # FreeSWITCH's own word: the leg ran record_session on its answer, into our file, and
    # answered both uuid_record commands with +OK.
    path = centre.folder / f"{done['id']}.wav"
    [record] = centre.observer.named("CHANNEL_EXECUTE", Application="record_session")
    assert (record["Unique-ID"], record["Application-Data"]) == (leg, str(path))
    jobs = centre.observer.named("BACKGROUND_JOB", **{"Job-Command": "uuid_record"})
    assert [(e["Job-Command-Arg"], e["_body"].strip()) for e in jobs] == [
        (f"{leg} mask {path}", "+OK Success"),
        (f"{leg} unmask {path}", "+OK Success"),
    ]

    audio = path.read_bytes()
    assert (done["size"], done["sha256"]) == (len(audio), hashlib.sha256(audio).hexdigest())
    bridged = _bridged_s(centre.observer, leg)
    length = float(run("soxi", "-D", str(path)))
    print(f"recording {path.name}: {length:.2f} s of {bridged:.2f} s bridged, pause {paused:.2f}")
    # record_session writes every frame the leg reads while bridged (silence included): the
    # file is the bridged time, give or take the media's start.
    assert bridged - 1.5 <= length <= bridged + 0.5, (length, bridged)
    # Digital silence for the pause, inside the speech: the longest silent run is the pause,
    # with speech before and after it.
    peaks = [peak(path, i * STEP, STEP) for i in range(int(length / STEP))]
    run_from, run_len = longest(peaks, lambda p: p == 0.0)
    print(f"silent from {run_from * STEP:.2f} s for {run_len * STEP:.2f} s; peaks {peaks}")
    assert abs(run_len * STEP - paused) <= 0.75, (run_len, peaks)
    assert max(peaks[:run_from]) > 0.01 and max(peaks[run_from + run_len :]) > 0.01, peaks


async def test_a_stereo_recording_has_the_caller_on_one_channel_only(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await _agent_free(centre)
    await asyncio.to_thread(
        sandbox.call, "313", hangup_after=10, caller="+4930197009", speak_after=1
    )
    done = await until("the recording measured", lambda: _measured(centre, "stereo"), 40)
    path = centre.folder / f"{done['id']}.wav"
    assert run("soxi", "-c", str(path)).strip() == "2"
    length = float(run("soxi", "-D", str(path)))
    # The sipp customer speaks; the sipp agent sends no sound at all (FreeSWITCH fills its
    # side with comfort silence a bit above zero): the agent left, the caller right.
    agent, caller = peak(path, 0, length, channel=1), peak(path, 0, length, channel=2)
    print(f"stereo {path.name}: {length:.2f} s, peaks left {agent}, right {caller}")
    assert abs(agent) < 0.001 and caller > 0.01, (agent, caller)


async def test_the_notice_ends_before_the_agent_is_rung(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await _agent_free(centre)
    start = len(centre.observer.events)
    await asyncio.to_thread(
        sandbox.call, "311", hangup_after=14, caller="+4930197002", speak_after=1
    )
    done = await until("the recording measured", lambda: _measured(centre, "noticed"), 45)
    call_id, leg = done["call_id"], done["channel_id"]
    assert (done["consent"], done["state"]) == ("heard", "ended"), done
    events = centre.observer.events[start:]
    heard = _index(events, Event_Name="CUSTOM", Unique_ID=call_id)
    notice = _index(events, Event_Name="CHANNEL_EXECUTE", Unique_ID=call_id,
                    Application="play_and_get_digits")  # fmt: skip
    parked = [
        i
        for i, e in enumerate(events)
        if e.get("Event-Name") == "CHANNEL_PARK" and e.get("Unique-ID") == call_id
    ]
    created = _index(events, Event_Name="CHANNEL_CREATE", Unique_ID=leg)
    assert parked[0] < notice < heard < parked[1] < created, (parked, notice, heard, created)
    assert events[heard]["Event-Subclass"] == "ccgw::consent" and events[heard]["Refused"] == "0"
    assert events[parked[1]]["Caller-Context"] == "ccgw-inbound"
    waited = _seconds(events[notice], events[created])
    print(f"the notice and the 2 s for the key took {waited:.2f} s before the agent was rung")
    assert waited >= 3.0
    assert (centre.folder / f"{done['id']}.wav").stat().st_size == done["size"] > 0


async def test_a_caller_who_presses_the_refusal_key_is_not_recorded(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await _agent_free(centre)
    start = len(centre.observer.events)
    await asyncio.to_thread(sandbox.call, "311", hangup_after=10, caller="+4930197003", key="9")
    refused = await until("the refusal on record", lambda: _refused(centre), 30)
    assert (refused["consent"], refused["size"], refused["pauses"]) == ("refused", None, [])
    events = centre.observer.events[start:]
    told = [e for e in events if e.get("Event-Subclass") == "ccgw::consent"]
    assert [(e["Unique-ID"], e["Refused"]) for e in told] == [(refused["call_id"], "1")]
    # the agent takes the call all the same, and nothing records it
    await until(
        "the bridge",
        lambda: [e for e in centre.observer.events[start:] if e["Event-Name"] == "CHANNEL_BRIDGE"],
    )
    events = centre.observer.events[start:]
    assert not [e for e in events if e.get("Application") == "record_session"]
    assert not (centre.folder / f"{refused['id']}.wav").exists()


async def test_a_recording_started_on_demand(centre: Centre, sandbox: FreeSwitchSandbox) -> None:
    await _agent_free(centre)
    await asyncio.to_thread(
        sandbox.call, "312", hangup_after=10, caller="+4930197004", speak_after=1
    )
    call_id = await until("the call connected", lambda: _connected(centre, "+4930197004"), 20)
    await asyncio.sleep(1.0)
    await centre.call("POST", f"/v1/calls/{call_id}/recording", {"action": "start"})
    done = await until("the recording measured", lambda: _measured(centre, "asked"), 40)
    assert done["call_id"] == call_id and not done["failure"], done
    length = float(run("soxi", "-D", str(centre.folder / f"{done['id']}.wav")))
    leg = done["channel_id"]
    [job] = [
        e
        for e in centre.observer.named("BACKGROUND_JOB", **{"Job-Command": "uuid_record"})
        if e["Job-Command-Arg"].startswith(f"{leg} start ")
    ]
    [unbridged] = [e for e in centre.observer.named("CHANNEL_UNBRIDGE") if leg in e.values()]
    recorded = _seconds(job, unbridged)
    print(f"on demand: {length:.2f} s for {recorded:.2f} s from the start to the unbridge")
    # only while bridged (RECORD_BRIDGE_REQ): not the leg's time after the caller left
    assert recorded - 1.0 <= length <= recorded + 0.3, (length, recorded)


async def test_a_start_freeswitch_refuses_is_rejected_with_its_answer(centre: Centre) -> None:
    """The dispatcher makes RecordingFailed of it (as of Asterisk's refused MixMonitor)."""
    missing = StartRecording("rec-x", "call-x", "ccgw-0000000000000000000000nosuch",
                             "rec-x.wav", "freeswitch")  # fmt: skip
    with pytest.raises(PbxRejected, match="Cannot locate session"):
        await centre.pbx.execute(missing)

    def answers() -> list[dict[str, str]]:
        jobs = centre.observer.named("BACKGROUND_JOB", **{"Job-Command": "uuid_record"})
        return [e for e in jobs if "nosuch" in e["Job-Command-Arg"]]

    refused = await until("FreeSWITCH's answer", answers)
    assert refused[0]["_body"].strip() == "-ERR Cannot locate session!"


async def test_the_agent_s_star_0_pauses_and_resumes_the_recording(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    """The agent leg's bind_meta_app (from its answer) fires CUSTOM ccgw::recording_toggle
    on the leg for each *0; the controller masks, then unmasks, the leg's recording."""
    await _agent_free(centre)
    # agent 2's phone (agent_keys.xml): answers, *0 3 s after the answer, *0 again 3 s later,
    # each key a SIP INFO; agent 1 paused meanwhile
    agent = {"id": "agent2", "name": "Agent 2", "device": "user/1002",
             "skills": {"en": 5}, "pbx": "freeswitch"}  # fmt: skip
    await centre.call("POST", "/v1/agents", agent)
    await centre.call("POST", "/v1/agents/agent1/state", {"state": "paused", "reason": "keys"})
    await centre.call("POST", "/v1/agents/agent2/state", {"state": "available"})
    try:
        start = len(centre.observer.events)
        number = "+4930197005"
        await asyncio.to_thread(sandbox.call, "310", hangup_after=12, caller=number, speak_after=1)
        call_id = await until("the call connected", lambda: _connected(centre, number), 20)
        done = await until("the recording measured", lambda: _measured_call(centre, call_id), 40)
    finally:
        out = {"state": "logged_out", "after_call": True}  # now, or once its call is over
        await centre.call("POST", "/v1/agents/agent2/state", out)
        await centre.call("POST", "/v1/agents/agent1/state", {"state": "available"})
    assert done["agent_id"] == "agent2"
    leg = done["channel_id"]
    centre.observer.apart.add(leg)
    [pause] = done["pauses"]
    paused = _at(pause["resumed_at"]) - _at(pause["paused_at"])
    events = centre.observer.events[start:]
    toggles = [e for e in events if e.get("Event-Subclass") == "ccgw::recording_toggle"]
    [answered] = [
        e for e in events if e.get("Event-Name") == "CHANNEL_EXECUTE"
        and e.get("Unique-ID") == leg and e.get("Application") == "bind_meta_app"
    ]  # fmt: skip
    print(
        f"*0 at {[round(_seconds(answered, e), 2) for e in toggles]} s after the binding; "
        f"paused {paused:.2f} s"
    )
    # FreeSWITCH's own word: the binding as sent, and both keys fired on the agent's leg
    assert answered["Application-Data"] == (
        "0 a s event::Event-Name=CUSTOM,Event-Subclass=ccgw::recording_toggle"
    )
    assert [(e["Event-Name"], e["Unique-ID"]) for e in toggles] == [("CUSTOM", leg)] * 2
    path = centre.folder / f"{done['id']}.wav"
    jobs = [
        (e["Job-Command-Arg"], e["_body"].strip())
        for e in events
        if e.get("Event-Name") == "BACKGROUND_JOB" and e.get("Job-Command") == "uuid_record"
    ]
    assert jobs == [(f"{leg} mask {path}", "+OK Success"), (f"{leg} unmask {path}", "+OK Success")]
    assert 2.5 <= paused <= 3.6, paused
    assert 2.5 <= _seconds(toggles[0], toggles[1]) <= 3.6
    # the pause is digital silence inside the customer's speech (from 1 s for 7 s)
    length = float(run("soxi", "-D", str(path)))
    peaks = [peak(path, i * STEP, STEP) for i in range(int(length / STEP))]
    run_from, run_len = longest(peaks, lambda p: p == 0.0)
    print(f"{path.name}: {length:.2f} s, silent {run_len * STEP:.2f} s from {run_from * STEP} s")
    assert abs(run_len * STEP - paused) <= 0.75, (run_len, peaks)
    assert max(peaks[:run_from]) > 0.01 and max(peaks[run_from + run_len :]) > 0.01, peaks


# --- helpers -------------------------------------------------------------------------------


async def _ready(api: httpx.AsyncClient) -> bool:
    response = await api.get("/v1/health")
    return response.status_code == 200 and bool(response.json().get("pbx_ready"))


async def _agent_free(centre: Centre) -> None:
    async def free() -> bool:
        return bool((await centre.call("GET", "/v1/agents/agent1"))["state"] == "available")

    await until("the agent free", free, 30)


async def _recordings(centre: Centre) -> list[dict[str, Any]]:
    return list(await centre.call("GET", "/v1/recordings"))


async def _measured(centre: Centre, queue: str = "taped") -> dict[str, Any] | None:
    found = [r for r in await _recordings(centre) if r["queue_id"] == queue]
    return found[0] if found and found[0]["sha256"] else None


async def _measured_call(centre: Centre, call_id: str) -> dict[str, Any] | None:
    found = [r for r in await _recordings(centre) if r["call_id"] == call_id]
    return found[0] if found and found[0]["sha256"] else None


async def _refused(centre: Centre) -> dict[str, Any] | None:
    found = [r for r in await _recordings(centre) if r["state"] == "refused"]
    return found[0] if found and found[0]["ended_at"] else None


async def _connected(centre: Centre, number: str) -> str | None:
    for call in await centre.call("GET", "/v1/calls"):
        if call.get("caller_number") == number and call.get("state") == "connected":
            return str(call["call_id"])
    return None


def _index(events: list[dict[str, str]], **fields: str) -> int:
    wanted = {k.replace("_", "-"): v for k, v in fields.items()}
    for i, event in enumerate(events):
        if all(event.get(k) == v for k, v in wanted.items()):
            return i
    raise AssertionError(f"FreeSWITCH sent no {wanted}")


def _seconds(first: dict[str, str], then: dict[str, str]) -> float:
    return (int(then["Event-Date-Timestamp"]) - int(first["Event-Date-Timestamp"])) / 1e6


def _bridged_s(observer: EslObserver, leg: str) -> float:
    [bridge] = [e for e in observer.named("CHANNEL_BRIDGE") if leg in e.values()]
    [ended] = [e for e in observer.named("CHANNEL_HANGUP_COMPLETE") if e["Unique-ID"] == leg]
    return _seconds(bridge, ended)


def _at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


class EslObserver(esl_observer.EslObserver):
    """The shared raw observer (tests/sandbox/esl_observer.py) with what this module keeps
    for the recorded transcripts."""

    def __init__(self, password: str, port: int = ESL_PORT, watched: str = WATCHED) -> None:
        super().__init__(password, port, watched)
        self.apart: set[str] = set()  # legs whose frames `save` keeps in a file of their own

    def save(self, path: Path) -> None:
        """The frames the adapter's tests replay: uuid_record's answers, the consent events
        and the caller's parks around them, byte for byte; those of the legs `apart` (the
        *0 test's) in `recording_key.esl` beside it: the key's binding on the answer, its
        CUSTOM events and uuid_record's answers."""
        pairs = list(zip(self.frames, self.events, strict=True))
        kept = [
            raw
            for raw, e in pairs
            if not self._is_apart(e)
            and (
                e.get("Job-Command") == "uuid_record"
                or e.get("Event-Subclass") == "ccgw::consent"
                or e.get("Event-Name") == "CHANNEL_PARK"
            )
        ]
        path.write_bytes(b"".join(kept))
        key = [
            raw
            for raw, e in pairs
            if self._is_apart(e)
            and (
                e.get("Job-Command") == "uuid_record"
                or e.get("Event-Subclass") == "ccgw::recording_toggle"
                or e.get("Application") == "bind_meta_app"
            )
        ]
        if key:
            path.with_name("recording_key.esl").write_bytes(b"".join(key))

    def _is_apart(self, event: dict[str, str]) -> bool:
        job_leg = event.get("Job-Command-Arg", "").split(" ")[0]
        return event.get("Unique-ID") in self.apart or job_leg in self.apart
