"""Recordings sealed at rest with `ccgateway serve` as installed, over a real socket: the
recordings key is made on the first start (0600, 32 bytes in base64), and a sealed file is
played back as the audio it was, decrypted as it is sent."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx

from ccgateway.domain.recording import Recording
from ccgateway.persistence.database import open_database
from ccgateway.persistence.recording_store import RecordingFiles, SqlRecordingStore
from ccgateway.persistence.sealed_files import key_from_text
from tests.installed.conftest import ServedController

AUDIO = b"RIFF" + bytes(range(256)) * 1000


def test_a_sealed_recording_is_played_over_http(
    launch_controller: Callable[..., ServedController], tmp_path: Path
) -> None:
    folder, key_file = tmp_path / "monitor", tmp_path / "keys" / "recordings-key"
    folder.mkdir()
    served = launch_controller(f'[recordings]\ndirectory = "{folder}"\nkey_file = "{key_file}"\n')
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_from_text(key_file.read_text())
    assert "made a new recordings key" in served.log()

    served.stop()  # a recording the controller measured and sealed, as it would have
    engine = open_database(f"sqlite:///{served.database}")
    try:
        recording = Recording("r1", "c1", "asterisk", None, None, "+4930111", 1.0, "r1.wav", 9.0)
        SqlRecordingStore(engine).save(recording)
        (folder / "r1.wav").write_bytes(AUDIO)
        measured = RecordingFiles(folder, key).measure("r1", "r1.wav")
        assert measured == (len(AUDIO), hashlib.sha256(AUDIO).hexdigest())
        SqlRecordingStore(engine).set_file("r1", *measured)
    finally:
        engine.dispose()
    assert [p.name for p in folder.iterdir()] == ["r1.wav.enc"]

    served.start()
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        found = client.get("/v1/recordings/r1").json()
        assert (found["size"], found["sealed"]) == (len(AUDIO), True)
        heard = client.get("/v1/recordings/r1/audio")
        assert (heard.status_code, heard.content) == (200, AUDIO)
        assert heard.headers["content-type"] == "audio/wav"
