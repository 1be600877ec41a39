"""Recordings sealed at rest (recordings.key_file), through the API on the real controller
with the fake PBX: once the call is over the file on disk is no longer the WAV and its plain
copy is gone, the record keeps the audio's size and checksum and says the file is sealed,
playback answers the original bytes, a tampered file is refused whole (500, logged), and an
erasure deletes the sealed file."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.recording import Recording
from ccgateway.persistence.database import open_database
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.persistence.sealed_files import key_from_text, open_sealed, seal
from ccgateway.settings import RecordingSettings
from ccgateway.testing import ManualClock, build_harness, hermetic_settings
from ccgateway.testing.harness import ADMIN_KEY, Harness
from tests.harness_api import request as call

NUMBER = "+4930111"
AUDIO = b"RIFF" + bytes(range(256)) * 700  # over two 64 KiB chunks


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    settings = hermetic_settings()
    folder, key_file = tmp_path / "monitor", tmp_path / "keys" / "recordings-key"
    folder.mkdir()
    settings.recordings = RecordingSettings(directory=folder, key_file=key_file)
    built = build_harness(settings)
    async with built.running():
        await built.emit(PbxResynced())
        queue = {"id": "q", "name": "Q", "extension": "200", "recording": {"mode": "always"}}
        for method, path, body in [
            ("POST", "/v1/queues", queue),
            ("POST", "/v1/agents", {"id": "a1", "name": "A1", "device": "PJSIP/a1"}),
            ("POST", "/v1/agents/a1/state", {"state": "available"}),
        ]:
            response = await call(built, method, path, body)
            assert response.status_code < 300, response.text
        yield built


async def recorded_call(harness: Harness, folder: Path) -> dict[str, Any]:
    """A call the PBX records into `folder`, ended and measured: its record."""
    await harness.emit(CallWaiting("c1", "200", NUMBER, "Ann"))
    [ring] = harness.pbx.rings()
    await harness.emit(AgentLegAnswered(ring.leg_id))
    (folder / ring.record_file).write_bytes(AUDIO)
    await harness.emit(ChannelHungUp("c1"))
    [listed] = (await call(harness, "GET", "/v1/recordings")).json()
    for _ in range(100):  # measured (and sealed) 2 s after the call's end
        found = (await call(harness, "GET", f"/v1/recordings/{listed['id']}")).json()
        if found["size"] is not None:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError("the recording's file was never measured")


async def test_a_recording_is_sealed_on_disk_and_played_as_it_was_recorded(
    harness: Harness, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "recordings-key"
    assert key_file.stat().st_mode & 0o777 == 0o600  # made at the start
    found = await recorded_call(harness, tmp_path / "monitor")
    recording_id = found["id"]
    assert (found["size"], found["sha256"], found["sealed"]) == (
        len(AUDIO),
        hashlib.sha256(AUDIO).hexdigest(),
        True,
    )
    [on_disk] = (tmp_path / "monitor").iterdir()
    assert on_disk.name == f"{recording_id}.wav.enc"  # the plain file is gone
    sealed = on_disk.read_bytes()
    assert b"RIFF" not in sealed and bytes(range(256)) not in sealed
    key = key_from_text(key_file.read_text())
    assert open_sealed(key, recording_id, sealed) == AUDIO

    heard = await call(harness, "GET", f"/v1/recordings/{recording_id}/audio")
    assert (heard.status_code, heard.content) == (200, AUDIO)
    assert heard.headers["content-type"] == "audio/wav"
    assert heard.headers["content-length"] == str(len(AUDIO))
    assert f'filename="{recording_id}.wav"' in heard.headers["content-disposition"]
    audit = (await call(harness, "GET", "/v1/privacy/audit")).json()
    assert [(e["action"], e["subject"]) for e in audit] == [("playback", recording_id)]

    erased = await call(harness, "POST", "/v1/privacy/erasures", {"number": NUMBER})
    assert erased.status_code == 200, erased.text
    assert erased.json()["recording_files"] == 1
    assert list((tmp_path / "monitor").iterdir()) == []


async def test_a_tampered_file_is_refused_whole_and_logged(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    found = await recorded_call(harness, tmp_path / "monitor")
    sealed = tmp_path / "monitor" / f"{found['id']}.wav.enc"
    data = bytearray(sealed.read_bytes())
    data[-20] ^= 0x01  # in the last chunk: the first ones are intact
    sealed.write_bytes(bytes(data))
    transport = httpx.ASGITransport(app=harness.controller.api, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
        with caplog.at_level(logging.ERROR):
            heard = await client.get(
                f"/v1/recordings/{found['id']}/audio",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            )
    assert (heard.status_code, heard.json()["error_id"]) == (500, "internal")
    assert b"RIFF" not in heard.content  # not a byte of the audio
    assert f"recording {found['id']}: not played: its file is not what was sealed" in caplog.text
    audit = (await call(harness, "GET", "/v1/privacy/audit")).json()
    assert audit == []  # nothing was played

    # Another recording's sealed file put in this one's place is refused the same way.
    key = key_from_text((tmp_path / "keys" / "recordings-key").read_text())
    sealed.write_bytes(seal(key, "another-recording", AUDIO))
    async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
        heard = await client.get(
            f"/v1/recordings/{found['id']}/audio",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    assert heard.status_code == 500


async def test_a_file_left_unmeasured_by_a_restart_is_measured_and_sealed_at_the_start(
    tmp_path: Path,
) -> None:
    """The controller stopped between a call's end and the measuring of its file (2 s
    later): the next start measures and seals it."""
    settings = hermetic_settings()
    settings.database_url = f"sqlite:///{tmp_path}/ccgateway.db"
    folder, key_file = tmp_path / "monitor", tmp_path / "recordings-key"
    folder.mkdir()
    settings.recordings = RecordingSettings(directory=folder, key_file=key_file)
    engine = open_database(settings.database_url)
    store = SqlRecordingStore(engine)
    now = ManualClock().now()
    left = Recording(
        "rec-left", "c9", "asterisk", "q", "a1", NUMBER, now - 60, "rec-left.wav", now - 5
    )
    old = Recording(
        "rec-old",
        "c8",
        "asterisk",
        "q",
        "a1",
        NUMBER,
        now - 3 * 86400,
        "rec-old.wav",
        now - 2 * 86400,
    )
    for recording in (left, old):
        store.save(recording)
        (folder / recording.file).write_bytes(AUDIO)
    engine.dispose()
    built = build_harness(settings)
    async with built.running():
        for _ in range(100):
            found = (await call(built, "GET", "/v1/recordings/rec-left")).json()
            if found["size"] is not None:
                break
            await asyncio.sleep(0.05)
        assert (found["size"], found["sha256"], found["sealed"]) == (
            len(AUDIO),
            hashlib.sha256(AUDIO).hexdigest(),
            True,
        )
        assert (await call(built, "GET", "/v1/recordings/rec-old")).json()["size"] is None
    assert sorted(p.name for p in folder.iterdir()) == ["rec-left.wav.enc", "rec-old.wav"]
