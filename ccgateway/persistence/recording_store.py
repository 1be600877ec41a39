"""Recordings' records (ports.RecordingStore), and their files in the recordings folder.

The PBX writes the files; this reads them (a checksum, a download), seals them at rest
where a key is set, and deletes them (an erasure, the purge). A file name comes only from a
record this store wrote (the recording id and `.wav`; sealed, `.wav.enc`), never from a
request, so no path is built from outside input.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from ccgateway.domain.recording import Consent, Recording
from ccgateway.persistence.sealed_files import Opener, SealBroken, Sealer, plain_size
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import RecordingRow
from ccgateway.ports import RecordingAudio, RecordingFacts, RecordingQuery, UnreadableRecording


class SqlRecordingStore(SqlStore):
    def save(self, recording: Recording) -> None:
        r = recording
        with self._writing(f"recording {r.id}") as session:
            row = session.get(RecordingRow, r.id) or RecordingRow(id=r.id)
            row.call_id, row.pbx, row.queue_id, row.agent_id = (
                r.call_id,
                r.pbx,
                r.queue_id,
                r.agent_id,
            )
            row.caller_number, row.started_at, row.ended_at = (
                r.caller_number,
                r.started_at,
                r.ended_at,
            )
            row.pauses, row.file = json.dumps([list(p) for p in r.pauses]), r.file
            row.channel_id, row.failure, row.consent = r.channel_id, r.failure, r.consent.value
            row.campaign_id = r.campaign_id
            session.add(row)

    def set_file(self, recording_id: str, size: int, sha256: str) -> None:
        with self._writing(f"recording {recording_id}") as session:
            row = session.get(RecordingRow, recording_id)
            if row is not None:
                row.size, row.sha256 = size, sha256

    def live(self) -> list[Recording]:
        """Recordings not ended (a restart finds them under way)."""
        statement = select(RecordingRow).where(RecordingRow.ended_at.is_(None))
        with self._sessions() as session:
            return [_recording(r) for r in session.scalars(statement)]

    def unmeasured(self, since: float) -> list[Recording]:
        statement = select(RecordingRow).where(
            RecordingRow.ended_at >= since,
            RecordingRow.sha256.is_(None),
            RecordingRow.failure == "",
        )
        with self._sessions() as session:
            return [_recording(r) for r in session.scalars(statement)]

    def get(self, recording_id: str) -> RecordingFacts | None:
        with self._sessions() as session:
            row = session.get(RecordingRow, recording_id)
            return _facts(row) if row is not None else None

    def query(self, query: RecordingQuery) -> list[RecordingFacts]:
        statement = select(RecordingRow)
        if query.call_id is not None:
            statement = statement.where(RecordingRow.call_id == query.call_id)
        if query.agent_id is not None:
            statement = statement.where(RecordingRow.agent_id == query.agent_id)
        if query.since is not None:
            statement = statement.where(RecordingRow.started_at >= query.since)
        statement = statement.order_by(RecordingRow.started_at.desc(), RecordingRow.id)
        with self._sessions() as session:
            rows = session.scalars(statement.limit(query.limit).offset(query.offset))
            return [_facts(r) for r in rows]


class RecordingFiles:
    """The recordings folder as the controller sees it (the PBX may see it elsewhere).

    With a key (settings.RecordingSettings.key_file), a closed file is sealed once measured:
    `<file>.enc` (sealed_files.py) is written beside it, made durable, and the PBX's plain
    file deleted. A file is sealed in the database writer's thread and deleted in another
    (an erasure, the purge): one at a time, so no sealed copy outlives its deletion."""

    def __init__(self, folder: Path, key: bytes | None = None) -> None:
        self.folder = folder
        self._key = key
        self._lock = threading.Lock()

    def path(self, file: str) -> Path:
        if "/" in file or file.startswith("."):
            raise ValueError(f"not a recording's file name: {file!r}")
        return self.folder / file

    def measure(self, recording_id: str, file: str) -> tuple[int, str] | None:
        """(size, SHA-256) of a closed file's audio, sealed first where a key is set; None
        if it is not there (yet), or still growing."""
        path = self.path(file)
        with self._lock:
            if not path.is_file() and _raw(path).is_file() and not _as_wave(_raw(path), path):
                return None  # the PBX is still writing the stereo audio
            if path.is_file():
                return _digest(path) if self._key is None else self._seal(recording_id, path)
            sealed = _sealed(path)
            if self._key is not None and sealed.is_file():  # sealed by an earlier try
                return _digest_audio(_open_chunks(self._key, recording_id, sealed))
            return None

    def is_sealed(self, file: str) -> bool:
        return _sealed(self.path(file)).is_file()

    def audio(self, recording_id: str, file: str) -> RecordingAudio | None:
        """The audio of the file, sealed or plain (sealed, if a crash left both)."""
        path = self.path(file)
        sealed = _sealed(path)
        if not sealed.is_file() or (self._key is None and path.is_file()):
            if not path.is_file():
                return None
            return RecordingAudio(path.stat().st_size, path, lambda: _read(path))
        if self._key is None:
            raise UnreadableRecording(f"{sealed.name} is sealed, and no recordings key is set")
        try:
            size = plain_size(sealed.stat().st_size)
        except SealBroken as exc:
            raise UnreadableRecording(f"{sealed.name}: {exc}") from exc
        key = self._key
        return RecordingAudio(size, None, lambda: _open_chunks(key, recording_id, sealed))

    def delete(self, files: list[str]) -> int:
        """How many of the files were there (plain or sealed) to delete."""
        removed = 0
        with self._lock:
            for file in files:
                path = self.path(file)
                found = [_unlink(p) for p in (path, _sealed(path), _partial(path), _raw(path))]
                removed += any(found)
        return removed

    def _seal(self, recording_id: str, path: Path) -> tuple[int, str] | None:
        assert self._key is not None
        before = path.stat()
        sealer = Sealer(self._key, recording_id)
        digest, size = hashlib.sha256(), 0
        partial = _partial(path)
        partial.unlink(missing_ok=True)  # a crash's leftover
        try:
            with path.open("rb") as plain, _created(partial) as out:
                out.write(sealer.header())
                while piece := plain.read(PIECE):
                    digest.update(piece)
                    size += len(piece)
                    out.write(sealer.feed(piece))
                out.write(sealer.finish())
                out.flush()
                os.fsync(out.fileno())
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                partial.unlink()  # the PBX (or a copy) is still writing it: measured later
                return None
            partial.replace(_sealed(path))
            _sync_folder(path.parent)  # the sealed file durable before the plain one goes
            path.unlink()
            _sync_folder(path.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()


PIECE = 1 << 20  # bytes read at a time
STEREO_RATE = 8000  # Asterisk's interleaved (MixMonitor D) audio of a narrowband call


def _raw(path: Path) -> Path:
    """Where Asterisk writes a stereo recording: raw, interleaved 16-bit samples."""
    return path.with_suffix(".raw")


def _as_wave(raw: Path, path: Path) -> bool:
    """The raw stereo audio made into the WAV the record names (the agent's side on the
    left, the caller's on the right), the raw file then deleted; False if it is still
    growing (the PBX has not closed it)."""
    before = raw.stat()
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        with raw.open("rb") as source, _created(partial) as out:
            with wave.open(out, "wb") as wav:
                wav.setnchannels(2)
                wav.setsampwidth(2)
                wav.setframerate(STEREO_RATE)
                left = b""
                while piece := source.read(PIECE):
                    piece = left + piece
                    whole = len(piece) - len(piece) % 4  # whole frames: 2 channels x 2 bytes
                    wav.writeframes(piece[:whole])
                    left = piece[whole:]
            out.flush()
            os.fsync(out.fileno())
        after = raw.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            partial.unlink()
            return False
        partial.replace(path)
        raw.unlink()
        _sync_folder(path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return True


def _sealed(path: Path) -> Path:
    return path.with_name(path.name + ".enc")


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".enc.part")


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _created(path: Path) -> BinaryIO:
    """A new file only the controller reads."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(PIECE):
            yield piece


def _open_chunks(key: bytes, recording_id: str, sealed: Path) -> Iterator[bytes]:
    """The audio of a sealed file, each chunk once authenticated."""
    opener = Opener(key, recording_id)
    try:
        with sealed.open("rb") as handle:
            while piece := handle.read(PIECE):
                if audio := opener.feed(piece):
                    yield audio
            if audio := opener.finish():
                yield audio
    except SealBroken as exc:
        raise UnreadableRecording(f"{sealed.name}: {exc}") from exc


def _digest(path: Path) -> tuple[int, str]:
    return _digest_audio(_read(path))


def _digest_audio(pieces: Iterator[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for piece in pieces:
        digest.update(piece)
        size += len(piece)
    return size, digest.hexdigest()


def _recording(r: RecordingRow) -> Recording:
    pauses = [(float(a), None if b is None else float(b)) for a, b in json.loads(r.pauses)]
    return Recording(
        r.id, r.call_id, r.pbx, r.queue_id, r.agent_id, r.caller_number, r.started_at, r.file,
        r.ended_at, pauses, r.channel_id, r.failure, Consent(r.consent or ""), r.campaign_id,
    )  # fmt: skip


def _facts(r: RecordingRow) -> RecordingFacts:
    return RecordingFacts(_recording(r), r.size, r.sha256)
