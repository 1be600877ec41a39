"""End to end: a queue that records, on the real sandbox Asterisk. A sipp customer speaks; the
agent's sipp phone answers; the controller starts MixMonitor, pauses it for a few seconds in
the middle of the speech and resumes it. The file Asterisk wrote is then measured with sox:
its length is the bridged time, the pause is silence, the speech around it is not; the
record has the pause with its times and the file's size and SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.settings import RecordingSettings
from tests.e2e.harness import Centre, running_centre

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

PBX_FOLDER = "/var/spool/asterisk/monitor"  # Asterisk's own, inside the sandbox's root
STEP = 0.25  # seconds of the file sox measures at a time


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("e2e-rec")) / "ccgateway.db"
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

    done = await centre.until("the recording measured", lambda: _measured(centre), 40)
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
    length = float(_run("soxi", "-D", str(path)))
    assert 6.0 <= length <= 8.0, length
    # Digital silence for the pause, in the middle of the speech: the longest run of silent
    # quarter seconds is the pause, and there is speech before and after it.
    peaks = [_peak(path, i * STEP, STEP) for i in range(int(length / STEP))]
    run_from, run_len = _longest(peaks, lambda p: p == 0.0)
    assert abs(run_len * STEP - (paused_to - paused_from)) <= 0.75, (run_len, peaks)
    assert max(peaks[:run_from]) > 0.01 and max(peaks[run_from + run_len :]) > 0.01, peaks

    # Played back through the API: the same bytes, and the audit log says who.
    heard = await centre.api.get(f"/v1/recordings/{done['id']}/audio")
    assert heard.status_code == 200 and heard.content == audio
    audit = await centre.call("GET", "/v1/privacy/audit")
    assert [(e["action"], e["subject"]) for e in audit][:1] == [("playback", done["id"])]


async def _recordings(centre: Centre) -> list[dict[str, Any]]:
    return list(await centre.call("GET", "/v1/recordings"))


async def _measured(centre: Centre) -> dict[str, Any] | None:
    found = await _recordings(centre)
    return found[0] if found and found[0]["sha256"] else None


def _at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout + done.stderr


def _peak(path: Path, start: float, seconds: float) -> float:
    """The largest sample (0-1) in that stretch of the file."""
    report = _run("sox", str(path), "-n", "trim", f"{start:.2f}", f"{seconds:.2f}", "stat")
    for line in report.splitlines():
        if line.startswith("Maximum amplitude"):
            return float(line.split(":")[1])
    raise AssertionError(f"sox gave no amplitude: {report}")


def _longest(values: list[float], chosen: Callable[[float], bool]) -> tuple[int, int]:
    """(start, length) of the longest run of chosen values."""
    best, start = (0, 0), None
    for i, value in enumerate([*values, None]):
        if value is not None and chosen(value):
            start = i if start is None else start
        elif start is not None:
            best = max(best, (start, i - start), key=lambda run: run[1])
            start = None
    return best
