"""A contact's history (the agent desktop's screen pop) and agents' notes.

Admins and supervisors read any number's history; an agent only that of a number it is
being offered or talking to now, or has served before, and notes only its own calls and
dials. For an agent, a contact or call that does not exist is refused like another agent's
(403), so the answer says nothing about other people's contacts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from ccgateway.api.auth import Permission, Principal
from ccgateway.api.deps import Caller
from ccgateway.api.dialer_record_schemas import DialRecordOut, DispositionRecordOut
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import Input, InteractionOut
from ccgateway.api.times import utc
from ccgateway.api.work_schemas import CallbackOut
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.ports import Note
from ccgateway.services.history_service import ContactHistory, DialHistory, HistoryService

router = APIRouter(prefix="/v1", tags=["history"], route_class=GuardedRoute)


async def _history(request: Request) -> HistoryService:
    history: HistoryService = request.app.state.history
    return history


History = Annotated[HistoryService, Depends(_history)]


# --- bodies ----------------------------------------------------------------------------------


class NoteIn(Input):
    text: str = Field(min_length=1, max_length=2000, description="newlines and tabs allowed")
    call_id: str | None = Field(None, min_length=1, max_length=150)
    dial_id: str | None = Field(None, min_length=1, max_length=150)
    number: str | None = Field(
        None, min_length=1, max_length=32, description="without a call or dial (not agents)"
    )


class NoteOut(BaseModel):
    id: str
    at: datetime
    at_epoch: float
    agent_id: str | None = Field(description="the agent who wrote it; null: a supervisor")
    author: str | None = Field(description="the person signed in, else the agent")
    number: str
    call_id: str | None
    dial_id: str | None
    text: str

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(
            id=n.id,
            at=utc(n.at),
            at_epoch=n.at,
            agent_id=n.agent_id,
            author=n.author,
            number=n.number,
            call_id=n.call_id,
            dial_id=n.dial_id,
            text=n.text,
        )


class DialHistoryOut(DialRecordOut):
    disposition: DispositionRecordOut | None = Field(
        description="what the agent recorded: code, script answers, note"
    )

    @classmethod
    def of_history(cls, d: DialHistory) -> DialHistoryOut:
        disposition = DispositionRecordOut.of(d.disposition) if d.disposition else None
        return cls(**DialRecordOut.of(d.record).model_dump(), disposition=disposition)


class HistoryOut(BaseModel):
    number: str
    interactions: list[InteractionOut]
    dials: list[DialHistoryOut]
    callbacks: list[CallbackOut]
    notes: list[NoteOut]

    @classmethod
    def of(cls, h: ContactHistory) -> HistoryOut:
        return cls(
            number=h.number,
            interactions=[InteractionOut.of(i) for i in h.interactions],
            dials=[DialHistoryOut.of_history(d) for d in h.dials],
            callbacks=[CallbackOut.of(c) for c in h.callbacks],
            notes=[NoteOut.of(n) for n in h.notes],
        )


# --- routes ----------------------------------------------------------------------------------


@router.get("/history")
async def contact_history(
    history: History,
    caller: Caller,
    number: Annotated[
        str | None, Query(max_length=32, description="digits, perhaps a leading +")
    ] = None,
    contact_id: Annotated[
        str | None, Query(max_length=129, description="<campaign_id>:<contact_id>")
    ] = None,
) -> HistoryOut:
    """Everything about one caller or contact, newest first, at most 200 of each: finished
    calls (any queue or campaign, their agents and outcomes), dials with their disposition
    (code, script answers, note), callbacks live and done, and agents' notes."""
    agent_id = _agent_only(caller)
    if (number is None) == (contact_id is None):
        raise InvalidValue("give either number or contact_id")
    try:
        if contact_id is not None:
            campaign_id, _, contact = contact_id.partition(":")
            if not campaign_id or not contact:
                raise InvalidValue("contact_id is <campaign_id>:<contact_id>")
            number = await history.contact_number(campaign_id, contact)
    except NotFound as exc:
        if agent_id is not None:
            raise Forbidden("this agent has not served that contact") from exc
        raise
    assert number is not None
    if agent_id is not None and not await history.has_served(agent_id, number):
        raise Forbidden("an agent sees the history only of numbers it serves or has served")
    return HistoryOut.of(await history.history(number))


@router.post("/notes", status_code=status.HTTP_201_CREATED)
async def add_note(body: NoteIn, history: History, caller: Caller) -> NoteOut:
    """A note on a call, a dial (the number is theirs) or, for supervisors, a number: it
    shows in that number's history. An agent notes only its own calls and dials."""
    agent_id = _agent_only(caller)
    try:
        subject = await history.note_subject(body.call_id, body.dial_id, body.number)
    except NotFound as exc:
        if agent_id is not None:
            raise Forbidden("an agent notes only its own calls and dials") from exc
        raise
    if agent_id is not None and agent_id not in subject.agents:
        raise Forbidden("an agent notes only its own calls and dials")
    author = caller.username or caller.agent_id
    note = await history.add_note(subject, body.text, caller.agent_id, author)
    return NoteOut.of(note)


def _agent_only(caller: Principal) -> str | None:
    """None for a principal who reads everything; the agent, for one who acts only for its
    own agent; anyone else (a wallboard) is refused."""
    if caller.can(Permission.READ):
        return None
    if caller.can(Permission.OWN_AGENT) and caller.agent_id is not None:
        return caller.agent_id
    raise Forbidden(f"the {caller.role.value} role may not read contacts' history")
