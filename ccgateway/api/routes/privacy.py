"""A person's rights: erasure (art. 17) and access (art. 15), and the audit log of both.

Admins alone: an erasure cannot be undone, and an export is everything about a person.
Every erasure and export is in the audit log, under a keyed hash of the number, never the
number. An objection (art. 21) is the do-not-call list's (`POST /v1/dnc`); an export shows
it under `suppressions`.
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
from ccgateway.ports import AuditEntry
from ccgateway.services.privacy_service import PrivacyService, Receipt, Subject

router = APIRouter(prefix="/v1/privacy", tags=["privacy"], route_class=GuardedRoute)


def _privacy(request: Request) -> PrivacyService:
    privacy: PrivacyService = request.app.state.privacy
    return privacy


Privacy = Annotated[PrivacyService, Depends(_privacy)]
NUMBER = "the number as the PBX or the contact list gave it (e.g. +4930123456)"


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

    def subject(self) -> Subject:
        return Subject(self.number, self.campaign_id, self.contact_id)


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


class ReceiptOut(BaseModel):
    subject: str = Field(description="the keyed hash the number is kept under")
    at: datetime
    at_epoch: float
    erased: dict[str, int] = Field(description="rows deleted or kept without the person")
    recording_files: int = Field(description="recordings' files deleted")
    live: LiveOut
    kept: list[KeptOut]

    @classmethod
    def of(cls, r: Receipt) -> ReceiptOut:
        live = r.live
        return cls(
            subject=r.subject,
            at=utc(r.at),
            at_epoch=r.at,
            erased=r.erased,
            recording_files=r.files,
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


class ExportOut(BaseModel):
    number: str
    exported_at: datetime
    data: dict[str, list[dict[str, object]]] = Field(
        description="kind -> its rows, each with every column as stored"
    )


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
    """Erase everything held about a person (by number, or a campaign's contact): their
    contacts in every list, callbacks, notes and tasks deleted; finished calls, dials,
    dispositions and refusals kept for the counts without them; the number kept only as a
    keyed hash, so that no campaign calls it again. A live call of theirs finishes and
    nothing of it is kept. The receipt says what went, what was kept and why."""
    return ReceiptOut.of(await privacy.erase(body.subject(), actor(caller)))


@router.get("/export", response_model=None)
async def export(
    privacy: Privacy,
    caller: DataController,
    number: Annotated[str | None, Query(min_length=1, max_length=64, description=NUMBER)] = None,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    contact_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    format: Literal["json", "csv"] = "json",
) -> ExportOut | Response:
    """Everything held about a person (access, GDPR art. 15): every row of every kind, each
    with all its columns. CSV: one line per value (kind, row, column, value)."""
    subject = Subject(number, campaign_id, contact_id)
    found = await privacy.export(subject, actor(caller))
    if format == "json":
        return ExportOut(number=found.number, exported_at=utc(found.at), data=found.data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "row", "column", "value"])
    for kind, rows in found.data.items():
        for index, row in enumerate(rows, 1):
            for column, value in row.items():
                writer.writerow([kind, index, column, _cell(value)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="export.csv"'},
    )


@router.get("/audit")
async def audit(
    privacy: Privacy, _: DataController, limit: Limit = 100, offset: Offset = 0
) -> list[AuditOut]:
    """Who erased or exported whose data, newest first (subjects are keyed hashes)."""
    return [AuditOut.of(e) for e in await privacy.audit(limit, offset)]


# A spreadsheet would run "=...", "+...", "-...", "@..." from a stranger's name; numbers and
# phone numbers ("+49 30 1234", "-5") stay as they are (as the pages' CSV does, dom.js).
FORMULA = re.compile(r"^[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s()./-]+$")


def _cell(value: object) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    return "'" + text if FORMULA.match(text) and not PLAIN_NUMBER.match(text) else text
