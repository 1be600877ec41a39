"""Recordings: start, pause and resume on a live call (its agent, a supervisor, an admin);
list, read and hear them (supervisors and admins; an agent its own calls' only where
`recordings.agents_hear_own` allows). Every playback or download is in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from ccgateway.api.auth import Permission, Principal
from ccgateway.api.deps import Caller, Limit, Offset, Service
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.routes.calls import agent_of
from ccgateway.api.routes.privacy import actor
from ccgateway.api.schemas import Input
from ccgateway.api.times import epoch_or_none, utc, utc_or_none
from ccgateway.domain.recorder import state
from ccgateway.ports import RecordingFacts, RecordingQuery
from ccgateway.services.recording_service import RecordingService

router = APIRouter(prefix="/v1", tags=["recordings"], route_class=GuardedRoute)


async def _recordings(request: Request) -> RecordingService:
    recordings: RecordingService = request.app.state.recordings
    return recordings


Recordings = Annotated[RecordingService, Depends(_recordings)]


class RecordingActionIn(Input):
    action: Literal["start", "pause", "resume"] = Field(
        description="start (a queue that records on demand), pause (say, for a card number: "
        "the file keeps silence for it), resume"
    )


class ActedOut(BaseModel):
    recording_id: str


class PauseOut(BaseModel):
    paused_at: datetime
    resumed_at: datetime | None


class RecordingOut(BaseModel):
    id: str
    call_id: str
    pbx: str
    queue_id: str | None
    agent_id: str | None
    campaign_id: str | None = Field(description="the campaign that placed the call, if one did")
    channel_id: str = Field(description="the agent leg recorded")
    caller_number: str
    started_at: datetime
    ended_at: datetime | None
    pauses: list[PauseOut]
    size: int | None = Field(description="the audio's bytes, once the PBX has closed the file")
    sha256: str | None = Field(description="of the audio (a sealed file's too, as played)")
    sealed: bool = Field(
        description="the file is kept encrypted at rest (recordings.key_file); played decrypted"
    )
    state: str = Field(description="recording, paused, ended, refused (by the caller), failed")
    consent: str = Field(
        description="the recording notice: heard, refused, unanswered, or empty (none played)"
    )
    failure: str = Field(description="why nothing was recorded (empty: it was)")

    @classmethod
    def of(cls, facts: RecordingFacts) -> RecordingOut:
        r = facts.recording
        return cls(
            id=r.id,
            call_id=r.call_id,
            pbx=r.pbx,
            queue_id=r.queue_id,
            agent_id=r.agent_id,
            campaign_id=r.campaign_id,
            channel_id=r.channel_id,
            caller_number=r.caller_number,
            started_at=utc(r.started_at),
            ended_at=utc_or_none(r.ended_at),
            pauses=[PauseOut(paused_at=utc(a), resumed_at=utc_or_none(b)) for a, b in r.pauses],
            size=facts.size,
            sha256=facts.sha256,
            sealed=facts.sealed,
            state=state(r),
            consent=r.consent.value,
            failure=r.failure,
        )


@router.post("/calls/{call_id}/recording")
async def recording_action(
    call_id: str,
    body: RecordingActionIn,
    service: Service,
    recordings: Recordings,
    caller: Caller,
) -> ActedOut:
    """Start, pause or resume the recording of a connected call: its own agent, a
    supervisor or an admin."""
    caller.require_agent(agent_of(service, call_id), change_state=True)
    return ActedOut(recording_id=await recordings.act(call_id, body.action))


@router.get("/recordings")
async def list_recordings(
    recordings: Recordings,
    caller: Caller,
    call_id: str | None = None,
    agent_id: str | None = None,
    since: Annotated[datetime | None, Query(description="started at or after")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[RecordingOut]:
    """Recordings, newest first."""
    agent_id = _whose(caller, recordings, agent_id)
    query = RecordingQuery(call_id, agent_id, epoch_or_none(since), limit, offset)
    return [RecordingOut.of(r) for r in await recordings.recordings(query)]


@router.get("/recordings/{recording_id}")
async def get_recording(recording_id: str, recordings: Recordings, caller: Caller) -> RecordingOut:
    found = await recordings.recording(recording_id)
    _may_hear(caller, recordings, found)
    return RecordingOut.of(found)


@router.get(
    "/recordings/{recording_id}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "the recording (WAV)"}},
)
async def recording_audio(recording_id: str, recordings: Recordings, caller: Caller) -> Response:
    """The recording as WAV; the audit log notes who fetched it, and when. A file sealed at
    rest is decrypted as it is sent (no ranges), once it has been found intact whole."""
    _may_hear(caller, recordings, await recordings.recording(recording_id))
    audio = await recordings.audio(recording_id, actor(caller))
    name = f"{recording_id}.wav"
    if audio.path is not None:
        return FileResponse(audio.path, media_type="audio/wav", filename=name)
    headers = {
        "content-length": str(audio.size),  # a stream cut short is seen as such
        "content-disposition": f'attachment; filename="{name}"',
    }
    return StreamingResponse(audio.read(), media_type="audio/wav", headers=headers)


def _whose(caller: Principal, recordings: RecordingService, asked: str | None) -> str | None:
    """The agent whose recordings the caller may list (None: anyone's)."""
    if caller.can(Permission.READ):
        return asked
    if caller.agent_id is None or not recordings.agents_hear_own:
        raise Forbidden("only supervisors and admins hear recordings here")
    if asked not in (None, caller.agent_id):
        raise Forbidden("an agent hears only its own calls' recordings")
    return caller.agent_id


def _may_hear(caller: Principal, recordings: RecordingService, found: RecordingFacts) -> None:
    if _whose(caller, recordings, found.recording.agent_id) != found.recording.agent_id:
        raise Forbidden("an agent hears only its own calls' recordings")
