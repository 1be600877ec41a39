"""End to end: a queue that records, on the real sandbox Asterisk. A sipp customer speaks; the
agent's sipp phone answers; the controller starts MixMonitor, pauses it for a few seconds in
the middle of the speech and resumes it. The file Asterisk wrote is then measured with sox:
its length is the bridged time, the pause is silence, the speech around it is not; the
record has the pause with its times and the file's size and SHA-256.

The agent pauses and resumes from the phone (*0 during the call). A queue with a recording
notice: Asterisk's own events show the notice ending before the agent is even rung; a
caller who presses the refusal key is not recorded (no file, a record saying so). Then the
retention purge, on the files Asterisk wrote: a recording past its period goes (row and
file), a held one stays."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.settings import RecordingSettings
from tests.audio import longest, peak, run
from tests.e2e.harness import Centre, running_centre

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

PBX_FOLDER = "/var/spool/asterisk/monitor"  # Asterisk's own, inside the sandbox's root
STEP = 0.25  # seconds of the file sox measures at a time


NOTICE = "conf-now-recording"  # 2.3 s of Asterisk's core sounds


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("e2e-rec")) / "ccgateway.db"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(asterisk_sandbox: Any, db: Path) -> AsyncIterator[Centre]:
    folder = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/")
    recordings = RecordingSettings(directory=folder, pbx_directory=PBX_FOLDER)
    async with running_centre(asterisk_sandbox, db, recordings=recordings) as centre:
        await centre.call("POST", "/v1/skills", {"id": "en", "name": "English"})
        queue = {
            "id": "taped",
            "name": "Taped",
            "extension": "206",
            "requires": {"en": 1},
            "ring_timeout_s": 8,
            "wrapup_s": 1,
            "recording": {"mode": "always"},
        }
        await centre.call("POST", "/v1/queues", queue)
        policy = {"mode": "always", "notice": NOTICE, "refuse_key": "9"}
        noticed = queue | {"id": "noticed", "extension": "207", "recording": policy}
        await centre.call("POST", "/v1/queues", noticed)
        stereo = queue | {"id": "stereo", "extension": "208"}
        await centre.call(
            "POST", "/v1/queues", stereo | {"recording": {"mode": "always", "stereo": True}}
        )
        agent = {"id": "agent1", "name": "Agent 1", "device": "PJSIP/agent1", "skills": {"en": 5}}
        await centre.call("POST", "/v1/agents", agent)
        await centre.call("POST", "/v1/agents/agent1/state", {"state": "available"})
        yield centre


async def test_a_recording_with_a_pause_is_silent_for_the_pause(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    # The customer speaks from 1 s to 8 s after the PBX answers, and hangs up at 14 s.
    await centre.place("206", "+4930196001", hangup_after=14, speak_after=1)
    recording = await centre.until("a recording", lambda: _recordings(centre), 20)
    [live] = recording
    call_id = live["call_id"]
    await asyncio.sleep(2.0)
    await centre.call("POST", f"/v1/calls/{call_id}/recording", {"action": "pause"})
    await asyncio.sleep(3.0)
    await centre.call("POST", f"/v1/calls/{call_id}/recording", {"action": "resume"})

    done = await centre.until(
        "the recording measured", lambda: _measured(centre, "+4930196001"), 40
    )
    assert done["ended_at"] is not None and done["agent_id"] == "agent1"
    [pause] = done["pauses"]
    started = _at(done["started_at"])
    paused_from = _at(pause["paused_at"]) - started
    paused_to = _at(pause["resumed_at"]) - started
    assert 2.5 <= paused_to - paused_from <= 3.6

    path = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/") / f"{done['id']}.wav"
    audio = path.read_bytes()
    assert (done["size"], done["sha256"]) == (len(audio), hashlib.sha256(audio).hexdigest())
    # The sandbox's sipp phones send media only while the customer plays its 7 s of speech,
    # and MixMonitor writes as frames flow: the file is that long (a desk phone sends
    # frames all the time, so there it is the whole bridged time).
    length = float(run("soxi", "-D", str(path)))
    assert 6.0 <= length <= 8.0, length
    # Digital silence for the pause, in the middle of the speech: the longest run of silent
    # quarter seconds is the pause, and there is speech before and after it.
    peaks = [peak(path, i * STEP, STEP) for i in range(int(length / STEP))]
    run_from, run_len = longest(peaks, lambda p: p == 0.0)
    assert abs(run_len * STEP - (paused_to - paused_from)) <= 0.75, (run_len, peaks)
    assert max(peaks[:run_from]) > 0.01 and max(peaks[run_from + run_len :]) > 0.01, peaks

    # Played back through the API: the same bytes, and the audit log says who.
    heard = await centre.api.get(f"/v1/recordings/{done['id']}/audio")
    assert heard.status_code == 200 and heard.content == audio
    audit = await centre.call("GET", "/v1/privacy/audit")
    assert [(e["action"], e["subject"]) for e in audit][:1] == [("playback", done["id"])]


async def test_the_notice_ends_before_the_agent_is_rung(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    await _agent_free(centre)
    await centre.place("207", "+4930196002", hangup_after=12, speak_after=1)
    done = await centre.until(
        "the recording measured", lambda: _measured(centre, "+4930196002"), 45
    )
    call_id, leg = done["call_id"], done["channel_id"]
    assert (done["consent"], done["state"], done["queue_id"]) == ("heard", "ended", "noticed")
    events = centre.observer.events
    came = _first(events, Event="UserEvent", UserEvent="CCGWWaiting", Uniqueid=call_id)
    told = _first(events, Event="UserEvent", UserEvent="CCGWConsent", Uniqueid=call_id)
    rung = _first(events, Event="Newchannel", Uniqueid=leg)
    bridged = _first(events, Event="BridgeEnter", Uniqueid=leg)
    assert came < told < rung < bridged, (came, told, rung, bridged)
    assert events[told]["Refused"] == "0"
    # The notice (2.3 s) and the 2 s left for the key passed before the agent's phone rang.
    assert _at_received(events[told]) - _at_received(events[came]) >= 4.0
    path = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/") / f"{done['id']}.wav"
    assert path.stat().st_size == done["size"] > 0


async def test_a_caller_who_presses_the_refusal_key_is_not_recorded(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    await _agent_free(centre)
    await centre.place("207", "+4930196003", hangup_after=10, key="9")
    refused = await centre.until("the refusal on record", lambda: _refused(centre), 30)
    assert (refused["consent"], refused["size"], refused["pauses"]) == ("refused", None, [])
    assert refused["failure"] == "the caller refused to be recorded"
    told = centre.seen("UserEvent", UserEvent="CCGWConsent", Uniqueid=refused["call_id"])
    assert [e["Refused"] for e in told] == ["1"]
    assert centre.seen("BridgeEnter", Uniqueid=refused["channel_id"])  # the agent took it
    folder = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/")
    assert not (folder / f"{refused['id']}.wav").exists()
    answer = await centre.api.post(
        f"/v1/calls/{refused['call_id']}/recording", json={"action": "start"}
    )
    assert answer.status_code in (404, 409)  # refused while live; gone once ended


async def test_the_agent_pauses_and_resumes_from_the_phone_with_star_0(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    await _agent_free(centre)
    # The phone presses *0 3 s after the answer (pause) and again 3 s later (resume).
    await asyncio.to_thread(asterisk_sandbox.set_phone, 1, "keys")
    try:
        await centre.place("206", "+4930196004", hangup_after=12, speak_after=1)
        done = await centre.until(
            "the recording measured", lambda: _measured(centre, "+4930196004"), 45
        )
    finally:
        await asyncio.to_thread(asterisk_sandbox.set_phone, 1, "answer")
    assert done["caller_number"] == "+4930196004"
    [pause] = done["pauses"]
    started = _at(done["started_at"])
    assert 2.0 <= _at(pause["paused_at"]) - started <= 4.5, pause
    assert 2.0 <= _at(pause["resumed_at"]) - _at(pause["paused_at"]) <= 4.5, pause
    toggles = centre.seen("UserEvent", UserEvent="CCGWRecordingToggle", Uniqueid=done["channel_id"])
    assert len(toggles) == 2


async def test_a_stereo_recording_has_the_caller_on_one_channel_only(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    await _agent_free(centre)
    await centre.place("208", "+4930196005", hangup_after=12, speak_after=1)
    done = await centre.until(
        "the recording measured", lambda: _measured(centre, "+4930196005"), 45
    )
    assert done["queue_id"] == "stereo"
    folder = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/")
    path = folder / f"{done['id']}.wav"
    assert not (folder / f"{done['id']}.raw").exists()  # made into the WAV, then deleted
    assert run("soxi", "-c", str(path)).strip() == "2"
    length = float(run("soxi", "-D", str(path)))
    assert 6.0 <= length <= 8.0, length  # the 7 s the customer speaks, as for mono
    # The sipp customer speaks; the sipp agent sends no sound at all.
    agent, caller = peak(path, 0, length, channel=1), peak(path, 0, length, channel=2)
    assert caller > 0.01 and agent == 0.0, (agent, caller)
    assert path.stat().st_size == done["size"]


async def test_the_purge_deletes_a_recording_past_its_period_and_keeps_a_held_one(
    centre: Centre, asterisk_sandbox: Any, db: Path
) -> None:
    every = await _recordings(centre)
    found = [r for r in every if r["size"]]
    assert len(found) >= 2
    old, held = found[0], found[1]
    gone = [r for r in every if r["id"] != held["id"]]  # the refusal's record too
    folder = Path(asterisk_sandbox.root) / PBX_FOLDER.lstrip("/")
    assert (folder / f"{old['id']}.wav").exists() and (folder / f"{held['id']}.wav").exists()
    with sqlite3.connect(db) as conn:  # all made three days ago
        conn.execute("UPDATE recordings SET started_at = started_at - 3 * 86400")
    await centre.call("PUT", "/v1/retention", {"default": {"recordings": 1}})
    hold = {"kind": "recording", "value": held["id"], "reason": "a complaint"}
    await centre.call("POST", "/v1/retention/holds", hold)
    report = await centre.call("POST", "/v1/retention/purge")
    assert report["removed"]["recordings"] == len(gone)
    left = {r["id"] for r in await _recordings(centre)}
    assert held["id"] in left and not left & {r["id"] for r in gone}
    assert not (folder / f"{old['id']}.wav").exists()
    assert (folder / f"{held['id']}.wav").exists()


async def _agent_free(centre: Centre) -> None:
    await centre.until("the agent free", lambda: _state_is(centre, "available"), 20)


async def _state_is(centre: Centre, state: str) -> bool:
    return bool((await centre.agent(1))["state"] == state)


async def _recordings(centre: Centre) -> list[dict[str, Any]]:
    return list(await centre.call("GET", "/v1/recordings"))


async def _measured(centre: Centre, caller: str) -> dict[str, Any] | None:
    """The recording of this caller's call, once its file is measured."""
    found = [r for r in await _recordings(centre) if r["caller_number"] == caller]
    return found[0] if found and found[0]["sha256"] else None


async def _refused(centre: Centre) -> dict[str, Any] | None:
    found = [r for r in await _recordings(centre) if r["state"] == "refused"]
    return found[0] if found and found[0]["ended_at"] else None


def _at_received(event: dict[str, str]) -> float:
    return float(event["_received"])


def _first(events: list[dict[str, str]], **fields: str) -> int:
    for i, event in enumerate(events):
        if all(event.get(k) == v for k, v in fields.items()):
            return i
    raise AssertionError(f"Asterisk sent no {fields}")


def _at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()
