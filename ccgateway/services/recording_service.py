"""Recordings for people: start, pause and resume on a live call; list, read and hear the
recorded ones. Every playback or download is written to the audit log (who, when, which)
before the file is handed out; a file sealed at rest is decrypted as it is sent. Who may do
what is the API's rule (api/routes/recordings.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import NotFound
from ccgateway.ports import (
    AuditEntry,
    Clock,
    PrivacyStore,
    RecordingAudio,
    RecordingFacts,
    RecordingFileStore,
    RecordingQuery,
    RecordingStore,
    UnreadableRecording,
)
from ccgateway.services.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class RecordingService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: RecordingStore,
        files: RecordingFileStore,
        audit: PrivacyStore,
        clock: Clock,
        *,
        agents_hear_own: bool = False,
    ) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._files = files
        self._audit = audit
        self._clock = clock
        self.agents_hear_own = agents_hear_own

    async def act(self, call_id: str, action: str) -> str:
        """Start, pause or resume the recording of a connected call; the recording's id."""

        async def op(center: Center, now: float) -> tuple[str, list[Command]]:
            out = center.recording_action(call_id, action, now)
            return center.recorder.live[call_id].id, out

        return await self._dispatcher.perform(op)

    async def recordings(self, query: RecordingQuery) -> list[RecordingFacts]:
        await self._dispatcher.drain_writes()  # a recording just saved is in it
        return await asyncio.to_thread(
            lambda: [self._with_seal(f) for f in self._store.query(query)]
        )

    async def recording(self, recording_id: str) -> RecordingFacts:
        await self._dispatcher.drain_writes()
        found = await asyncio.to_thread(self._store.get, recording_id)
        if found is None:
            raise NotFound(f"no recording {recording_id!r}")
        return await asyncio.to_thread(self._with_seal, found)

    async def audio(self, recording_id: str, actor: str) -> RecordingAudio:
        """The recording's audio, once the audit log says who asked for it. A sealed file is
        authenticated whole first (UnreadableRecording, logged, if it is not what was
        sealed), so a broken one is refused before any byte of it is sent."""
        found = await self.recording(recording_id)
        try:
            audio = await asyncio.to_thread(self._files.audio, recording_id, found.recording.file)
            if audio is not None and audio.path is None:
                await asyncio.to_thread(_read_through, audio)
        except UnreadableRecording as exc:
            log.error(
                "recording %s: not played: its file is not what was sealed: %s", recording_id, exc
            )
            raise
        if audio is None:
            raise NotFound(f"recording {recording_id} has no file (yet) in the recordings folder")
        entry = AuditEntry(self._clock.now(), actor, "playback", recording_id)
        await self._dispatcher.write(lambda: self._audit.add_audit(entry))
        return audio

    def _with_seal(self, facts: RecordingFacts) -> RecordingFacts:
        sealed = facts.size is not None and self._files.is_sealed(facts.recording.file)
        return replace(facts, sealed=sealed)


def _read_through(audio: RecordingAudio) -> None:
    for _ in audio.read():
        pass
