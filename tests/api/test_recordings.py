"""Recordings through the API on the real controller with the fake PBX: a queue that always
records, a pause and a resume on the call, the record with its pauses and the file's size
and checksum, the audio with its audit entry, and who may do what."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ccgateway.domain.commands import (
    MuteRecording,
    PbxCommand,
    PlayConsent,
    RingAgent,
    StartRecording,
)
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    ChannelHungUp,
    PbxResynced,
    RecordingFailed,
)
from ccgateway.ports import PbxRejected
from ccgateway.settings import RecordingSettings
from ccgateway.testing import FakePbx, build_harness, hermetic_settings
from ccgateway.testing.harness import Harness
from tests.harness_api import request


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    settings = hermetic_settings()
    settings.recordings = RecordingSettings(directory=tmp_path, pbx_directory="/pbx/monitor")
    built = build_harness(settings)
    async with built.running():
        await built.emit(PbxResynced())
        queue = {
            "id": "german",
            "name": "German",
            "extension": "200",
            "requires": {"de": 5},
            "ring_timeout_s": 10,
            "wrapup_s": 5,
            "recording": {"mode": "always"},
        }
        for method, path, body in [
            ("POST", "/v1/skills", {"id": "de", "name": "German"}),
            ("POST", "/v1/queues", queue),
            *[("POST", "/v1/agents", {"id": f"a{k}", "name": f"A{k}", "device": f"PJSIP/a{k}",
                                      "skills": {"de": 8 - k}}) for k in (1, 2)],
            *[("POST", f"/v1/agents/a{k}/state", {"state": "available"}) for k in (1, 2)],
        ]:  # fmt: skip
            response = await call(built, method, path, body)
            assert response.status_code < 300, response.text
        yield built


call = request  # (harness, method, path, body=None, key=admin)


async def key_for(harness: Harness, agent_id: str) -> str:
    body = {"name": agent_id, "role": "agent", "agent_id": agent_id}
    response = await call(harness, "POST", "/v1/keys", body)
    return str(response.json()["key"])


async def test_a_recorded_call_with_a_pause_its_record_and_its_audio(
    harness: Harness, tmp_path: Path
) -> None:
    a1, a2 = await key_for(harness, "a1"), await key_for(harness, "a2")
    await harness.emit(CallWaiting("c1", "200", "+4930111", "Ann"))
    [ring] = harness.pbx.rings()
    assert ring.agent_id == "a1" and ring.record_file.endswith(".wav")  # the PBX records it
    await harness.emit(AgentLegAnswered(ring.leg_id))
    assert harness.pbx.sent(StartRecording) == []  # recording since the answer already
    [live] = (await call(harness, "GET", "/v1/recordings")).json()
    assert (live["ended_at"], f"{live['id']}.wav") == (None, ring.record_file)

    await harness.advance(10)
    pause = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "pause"}, a1)
    assert pause.json() == {"recording_id": live["id"]}
    seen = (await call(harness, "GET", "/v1/calls/c1", key=a1)).json()  # the agent's desktop
    assert seen["recording"] == {"id": live["id"], "state": "paused"}
    again = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "pause"}, a1)
    assert (again.status_code, again.json()["error_id"]) == (409, "conflict")
    other = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "resume"}, a2)
    assert other.status_code == 403  # not a2's call
    await harness.advance(4)
    assert (await call(harness, "POST", "/v1/calls/c1/recording", {"action": "resume"})).is_success
    muted = [(m.channel_id, m.muted) for m in await harness.pbx.wait_for(MuteRecording, 2)]
    assert muted == [(ring.leg_id, True), (ring.leg_id, False)]  # the agent's leg
    await harness.advance(6)
    # The PBX writes the file; the call ends and the controller measures it.
    audio = b"RIFF" + bytes(range(256)) * 40
    (tmp_path / ring.record_file).write_bytes(audio)
    await harness.emit(ChannelHungUp("c1"))

    [listed] = (await call(harness, "GET", "/v1/recordings")).json()
    assert (listed["call_id"], listed["agent_id"], listed["caller_number"]) == (
        "c1",
        "a1",
        "+4930111",
    )
    assert len(listed["pauses"]) == 1
    seconds = _seconds(listed["pauses"][0]["resumed_at"]) - _seconds(
        listed["pauses"][0]["paused_at"]
    )
    assert seconds == 4
    recording_id = listed["id"]
    facts = await _measured(harness, recording_id)
    assert (facts["size"], facts["sha256"]) == (len(audio), hashlib.sha256(audio).hexdigest())

    heard = await call(harness, "GET", f"/v1/recordings/{recording_id}/audio")
    assert (heard.status_code, heard.content) == (200, audio)
    assert heard.headers["content-type"] == "audio/wav"
    for key in (a1, a2):  # agents do not hear recordings unless the settings say so
        assert (await call(harness, "GET", "/v1/recordings", key=key)).status_code == 403
        response = await call(harness, "GET", f"/v1/recordings/{recording_id}/audio", key=key)
        assert response.status_code == 403
    audit = (await call(harness, "GET", "/v1/privacy/audit")).json()
    assert [(e["action"], e["subject"]) for e in audit] == [("playback", recording_id)]


async def test_a_queue_that_never_records_refuses_a_start(harness: Harness) -> None:
    patch = {"recording": {"mode": "never"}}
    assert (await call(harness, "PATCH", "/v1/queues/german", patch)).is_success
    await harness.emit(CallWaiting("c1", "200", "+4930111", "Ann"))
    [ring] = harness.pbx.rings()
    assert ring.record_file == ""
    await harness.emit(AgentLegAnswered(ring.leg_id))
    refused = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "start"})
    assert (refused.status_code, refused.json()["error_id"]) == (409, "conflict")
    paused = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "pause"})
    assert (paused.status_code, paused.json()["error_id"]) == (404, "not-found")
    sampled = {"recording": {"mode": "sampled", "share": 0}}
    bad = await call(harness, "PATCH", "/v1/queues/german", sampled)
    assert (bad.status_code, bad.json()["error_id"]) == (422, "invalid-value")
    on_demand = {"recording": {"mode": "on_demand"}}
    assert (await call(harness, "PATCH", "/v1/queues/german", on_demand)).is_success
    started = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "start"})
    assert started.is_success
    [start] = await harness.pbx.wait_for(StartRecording)
    assert (start.call_id, start.channel_id) == ("c1", ring.leg_id)
    # A PBX that refuses (an AMI user without the `system` class): the record says why.
    await harness.emit(RecordingFailed("c1", "MixMonitor: Permission denied"))
    [failed] = (await call(harness, "GET", "/v1/recordings")).json()
    assert (failed["failure"], failed["ended_at"] is not None) == (
        "MixMonitor: Permission denied",
        True,
    )
    again = await call(harness, "POST", "/v1/calls/c1/recording", {"action": "pause"})
    assert again.status_code == 404


def _seconds(moment: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(moment).timestamp()


async def _measured(harness: Harness, recording_id: str) -> dict[str, Any]:
    """The record once the controller has measured its file (2 s after the call's end)."""
    import asyncio

    for _ in range(100):
        found = (await call(harness, "GET", f"/v1/recordings/{recording_id}")).json()
        if found["size"] is not None:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError("the recording's file was never measured")


class _NoticeRefusingPbx(FakePbx):
    """A PBX that cannot play the notice (say, a sound it has no file for)."""

    async def execute(self, command: PbxCommand) -> None:
        if isinstance(command, PlayConsent):
            raise PbxRejected(f"no sound {command.notice!r}")
        await super().execute(command)


async def test_a_notice_the_pbx_cannot_play_lets_the_caller_in_at_once_unrecorded(
    tmp_path: Path,
) -> None:
    settings = hermetic_settings()
    settings.recordings = RecordingSettings(directory=tmp_path)
    pbx = _NoticeRefusingPbx()
    built = build_harness(settings, pbx=pbx)
    async with built.running():
        await built.emit(PbxResynced())
        policy = {"mode": "always", "notice": "no-such-sound", "refuse_key": "9"}
        queue = {"id": "q", "name": "Q", "extension": "200", "requires": {}, "recording": policy}
        for method, path, body in [
            ("POST", "/v1/queues", queue),
            ("POST", "/v1/agents", {"id": "a1", "name": "A1", "device": "PJSIP/a1"}),
            ("POST", "/v1/agents/a1/state", {"state": "available"}),
        ]:
            assert (await call(built, method, path, body)).is_success
        await built.emit(CallWaiting("c1", "200", "+4930111"))
        [ring] = await pbx.wait_for(RingAgent)  # no 60 s wait for a notice that never plays
        assert ring.record_file == ""
        await built.emit(AgentLegAnswered(ring.leg_id))
        [record] = (await call(built, "GET", "/v1/recordings")).json()
        assert (record["consent"], record["state"]) == ("unanswered", "failed")
