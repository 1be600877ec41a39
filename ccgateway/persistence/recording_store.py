"""Recordings' records (ports.RecordingStore), and their files in the recordings folder.

The PBX writes the files; this reads them (a checksum, a download) and deletes them (an
erasure, the purge). A file name comes only from a record this store wrote (the recording
id and `.wav`), never from a request, so no path is built from outside input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from ccgateway.domain.recording import Recording
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import RecordingRow
from ccgateway.ports import RecordingFacts, RecordingQuery


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
            row.channel_id, row.failure = r.channel_id, r.failure
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
    """The recordings folder as the controller sees it (the PBX may see it elsewhere)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, file: str) -> Path:
        if "/" in file or file.startswith("."):
            raise ValueError(f"not a recording's file name: {file!r}")
        return self.folder / file

    def measure(self, file: str) -> tuple[int, str] | None:
        """(size, SHA-256) of a closed file; None if it is not there (yet)."""
        path = self.path(file)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return path.stat().st_size, digest.hexdigest()

    def delete(self, files: list[str]) -> int:
        removed = 0
        for file in files:
            try:
                self.path(file).unlink()
                removed += 1
            except FileNotFoundError:
                pass
        return removed


def _recording(r: RecordingRow) -> Recording:
    pauses = [(float(a), None if b is None else float(b)) for a, b in json.loads(r.pauses)]
    return Recording(
        r.id, r.call_id, r.pbx, r.queue_id, r.agent_id, r.caller_number, r.started_at, r.file,
        r.ended_at, pauses, r.channel_id, r.failure,
    )  # fmt: skip


def _facts(r: RecordingRow) -> RecordingFacts:
    return RecordingFacts(_recording(r), r.size, r.sha256)
