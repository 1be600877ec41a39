"""A person's rights: erasure (art. 17), access (art. 15) and objection (art. 21), and the
audit log of all three.

Admins alone: an erasure cannot be undone, and an export is everything about a person.
A person is named by a number, a campaign's contact, or a custom field of their contacts
(an e-mail address, an external id), which leads to every number they were listed under.
Every erasure, export and objection is in the audit log, under a keyed hash of the number
(or of the field), never the number. An objection puts the number on the internal
do-not-call list (as `POST /v1/dnc` does); an export shows it under `objections`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ccgateway.api.auth import Principal
from ccgateway.api.deps import DataController, Limit, Offset
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import Input
from ccgateway.api.times import utc
from ccgateway.ports import AuditEntry, Objection
from ccgateway.services.privacy_service import Export, PrivacyService, Receipt, Subject

router = APIRouter(prefix="/v1/privacy", tags=["privacy"], route_class=GuardedRoute)


async def _privacy(request: Request) -> PrivacyService:
    privacy: PrivacyService = request.app.state.privacy
    return privacy


Privacy = Annotated[PrivacyService, Depends(_privacy)]
NUMBER = "the number as the PBX or the contact list gave it (e.g. +4930123456)"
EMAIL = "every contact whose `email` field holds this address (any case), in every list"
EXTERNAL_ID = "every contact whose `external_id` field holds this value, in every list"
FIELD = "with value: every contact whose custom field (a list's own column) holds the value"


def actor(caller: Principal) -> str:
    """Who asked, for the audit log: the person signed in, else the key (the configured
    admin key is `key:config`)."""
    return f"user:{caller.username}" if caller.username is not None else f"key:{caller.key_id}"


class SubjectIn(Input):
    number: str | None = Field(None, min_length=1, max_length=64, description=NUMBER)
    campaign_id: str | None = Field(None, min_length=1, max_length=64)
    contact_id: str | None = Field(
        None, min_length=1, max_length=64, description="with campaign_id: that contact's number"
    )
    email: str | None = Field(None, min_length=1, max_length=254, description=EMAIL)
    external_id: str | None = Field(None, min_length=1, max_length=500, description=EXTERNAL_ID)
    field: str | None = Field(None, min_length=1, max_length=40, description=FIELD)
    value: str | None = Field(None, min_length=1, max_length=500)

    def subject(self) -> Subject:
        return Subject(
            self.number,
            self.campaign_id,
            self.contact_id,
            self.email,
            self.external_id,
            self.field,
            self.value,
        )


class KeptOut(BaseModel):
    what: str
    form: str
    why: str


class LiveOut(BaseModel):
    contacts: int = Field(description="contacts taken out of running campaigns' queues")
    callbacks: int = Field(description="callbacks withdrawn or, under way, left unrecorded")
    calls: int = Field(description="live calls: they finish, and nothing of them is kept")
    dials: int = Field(description="dials live or awaiting a disposition, kept without them")
    tasks: int = Field(description="live tasks that mention the number: not stored again")
    events: int = Field(description="events taken out of the event stream's history")


class StoreOut(BaseModel):
    store: str
    action: str = Field(
        description="deleted, kept without the person, or replaced by the keyed hash"
    )
    rows: int = Field(description="rows (files, events) it was done to")
    what: str


class NumberErasedOut(BaseModel):
    subject: str = Field(description="the number's keyed hash (never the number)")
    erased: dict[str, int]


class ReceiptOut(BaseModel):
    subject: str = Field(
        description="the keyed hash the number is kept under (found by a field: of the field "
        "and its value)"
    )
    at: datetime
    at_epoch: float
    found_by: str = Field(description="number, contact, or field:<name> (email, external_id)")
    numbers: list[NumberErasedOut] = Field(
        description="each number erased, as its keyed hash, with its rows per store"
    )
    erased: dict[str, int] = Field(description="rows deleted or kept without the person")
    recording_files: int = Field(description="recordings' files deleted")
    stores: list[StoreOut] = Field(description="every store: what was done there, to how many")
    live: LiveOut
    kept: list[KeptOut]

    @classmethod
    def of(cls, r: Receipt) -> ReceiptOut:
        live = r.live
        return cls(
            subject=r.subject,
            at=utc(r.at),
            at_epoch=r.at,
            found_by=r.found_by,
            numbers=[NumberErasedOut(subject=s, erased=e) for s, e in r.numbers.items()],
            erased=r.erased,
            recording_files=r.files,
            stores=[
                StoreOut(store=e.store.name, action=e.store.action, rows=e.rows, what=e.store.what)
                for e in r.stores
            ],
            live=LiveOut(
                contacts=live.contacts,
                callbacks=len(live.callbacks),
                calls=len(live.calls),
                dials=len(live.dials),
                tasks=len(live.tasks),
                events=r.events,
            ),
            kept=[KeptOut(what=k.what, form=k.form, why=k.why) for k in r.kept],
        )


class ObjectionOut(BaseModel):
    number: str
    reason: str
    at: datetime
    at_epoch: float

    @classmethod
    def of(cls, o: Objection) -> ObjectionOut:
        return cls(number=o.number, reason=o.reason, at=utc(o.at), at_epoch=o.at)


class ObjectedOut(ObjectionOut):
    new: bool = Field(description="false: the number was listed already (reason and time kept)")


class RecordingListedOut(BaseModel):
    id: str
    call_id: str
    started_at: datetime
    ended_at: datetime | None
    audio: str = Field(description="where the audio is fetched (audited)")


class ExportOut(BaseModel):
    number: str | None = Field(description="the number asked about; null when found by a field")
    numbers: list[str] = Field(description="every number of the person's found")
    found_by: str = Field(description="number, contact, or field:<name> (email, external_id)")
    exported_at: datetime
    objections: list[ObjectionOut] = Field(
        description="the person's objections: their numbers on the internal do-not-call list"
    )
    recordings: list[RecordingListedOut] = Field(description="recordings of their calls")
    data: dict[str, list[dict[str, object]]] = Field(
        description="kind -> its rows, each with every column as stored"
    )

    @classmethod
    def of(cls, e: Export) -> ExportOut:
        recordings = [
            RecordingListedOut(
                id=str(r["id"]),
                call_id=str(r["call_id"]),
                started_at=utc(_epoch(r["started_at"])),
                ended_at=None if r["ended_at"] is None else utc(_epoch(r["ended_at"])),
                audio=f"/v1/recordings/{r['id']}/audio",
            )
            for r in e.data.get("recordings", [])
        ]
        return cls(
            number=e.number,
            numbers=list(e.numbers),
            found_by=e.found_by,
            exported_at=utc(e.at),
            objections=[ObjectionOut.of(o) for o in e.objections],
            recordings=recordings,
            data=e.data,
        )


def _epoch(value: object) -> float:
    assert isinstance(value, int | float), value
    return float(value)


class AuditOut(BaseModel):
    at: datetime
    at_epoch: float
    actor: str
    action: str
    subject: str
    detail: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditOut:
        return cls(
            at=utc(e.at),
            at_epoch=e.at,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            detail=e.detail,
        )


@router.post("/erasures")
async def erase(body: SubjectIn, privacy: Privacy, caller: DataController) -> ReceiptOut:
    """Erase everything held about a person (by number, a campaign's contact, or a custom
    field of their contacts: email, external_id, field with value, which erases every
    number found): their contacts in every list, callbacks, notes and tasks deleted;
    finished calls, dials, dispositions and refusals kept for the counts without them; the
    number kept only as a keyed hash, so that no campaign calls it again. A live call of
    theirs finishes and nothing of it is kept. All in one transaction; nothing if any
    number found is under a legal hold (409). The receipt says what went from each store,
    what was kept and why."""
    return ReceiptOut.of(await privacy.erase(body.subject(), actor(caller)))


@router.get("/export", response_model=None)
async def export(
    privacy: Privacy,
    caller: DataController,
    number: Annotated[str | None, Query(min_length=1, max_length=64, description=NUMBER)] = None,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    contact_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    email: Annotated[str | None, Query(min_length=1, max_length=254, description=EMAIL)] = None,
    external_id: Annotated[
        str | None, Query(min_length=1, max_length=500, description=EXTERNAL_ID)
    ] = None,
    field: Annotated[str | None, Query(min_length=1, max_length=40, description=FIELD)] = None,
    value: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    format: Literal["json", "csv"] = "json",
) -> ExportOut | Response:
    """Everything held about a person (access, GDPR art. 15), named as for an erasure:
    every row of every kind, each with all its columns; their objections and the list of
    their recordings. CSV: one line per value (kind, row, column, value)."""
    subject = Subject(number, campaign_id, contact_id, email, external_id, field, value)
    found = await privacy.export(subject, actor(caller))
    if format == "json":
        return ExportOut.of(found)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "row", "column", "value"])
    for kind, rows in found.data.items():
        for index, row in enumerate(rows, 1):
            for column, cell in row.items():
                writer.writerow([kind, index, column, _cell(cell)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="export.csv"'},
    )


class ObjectionIn(Input):
    number: str = Field(min_length=1, max_length=64, description="in E.164 form")
    reason: str | None = Field(
        None, min_length=1, max_length=200, description="default: objection (GDPR art. 21)"
    )


@router.post("/objections")
async def object_to_calls(
    body: ObjectionIn, privacy: Privacy, caller: DataController
) -> ObjectedOut:
    """A person objects (GDPR art. 21): their number on the internal do-not-call list, so
    no campaign calls it from now on, even those already running (the same list as `POST
    /v1/dnc`); in the audit log under the number's keyed hash. A number listed already
    keeps its first reason and time."""
    listed, new = await privacy.object(body.number, body.reason, actor(caller))
    return ObjectedOut(**ObjectionOut.of(listed).model_dump(), new=new)


@router.get("/objections")
async def objections(
    privacy: Privacy,
    _: DataController,
    limit: Limit = 100,
    offset: Offset = 0,
    number: Annotated[str | None, Query(min_length=1, max_length=64, description=NUMBER)] = None,
) -> list[ObjectionOut]:
    """The objections (the internal do-not-call list), newest first; `number` for one."""
    return [ObjectionOut.of(o) for o in await privacy.objections(limit, offset, number)]


@router.get("/audit")
async def audit(
    privacy: Privacy, _: DataController, limit: Limit = 100, offset: Offset = 0
) -> list[AuditOut]:
    """Who erased, exported or objected for whose data, newest first (subjects are keyed
    hashes)."""
    return [AuditOut.of(e) for e in await privacy.audit(limit, offset)]


# A spreadsheet would run "=...", "+...", "-...", "@..." from a stranger's name; numbers and
# phone numbers ("+49 30 1234", "-5") stay as they are (as the pages' CSV does, dom.js).
FORMULA = re.compile(r"^[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s()./-]+$")


def _cell(value: object) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    return "'" + text if FORMULA.match(text) and not PLAIN_NUMBER.match(text) else text
