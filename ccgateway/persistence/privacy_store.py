"""A person's data across every table (ports.PrivacyStore): found by a number or by a
custom field of their contacts, erased in one transaction, or exported; the objections
(the internal do-not-call list); and the audit log of who did what.

Erasure deletes the rows that are about the person alone (their contacts in every list,
callbacks, notes, tasks that mention them, recordings of their calls, their number on
do-not-call lists) and keeps
the records whose counts the law or the figures need (finished calls, dials, dispositions,
refusals) without the person: `ERASED` stands for the number and contact id, answers and
notes are emptied, the times and outcomes stay. The number stays suppressed, as its
pseudonym on the `forgotten` list. The database triggers (database.py) let the dialer's
append-only records change in exactly this way, once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import DeclarativeBase, Session

from ccgateway.domain.outbound.records import ERASED
from ccgateway.domain.privacy import FORGOTTEN_REGISTER, FieldKey
from ccgateway.persistence.outbound_codec import strings_from_json
from ccgateway.persistence.outbound_store import INTERNAL
from ccgateway.persistence.queue_log_tables import QueueLogRow
from ccgateway.persistence.record_guards import PERSONAL_COLUMNS
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import (
    AuditRow,
    CallbackRow,
    ContactListRow,
    ContactRow,
    DialRecordRow,
    DispositionRow,
    InteractionRow,
    NoteRow,
    RecordingRow,
    RefusalRow,
    SuppressionRow,
    TaskRow,
)
from ccgateway.persistence.webhook_tables import WebhookDeliveryRow
from ccgateway.ports import AuditEntry, Objection


class SqlPrivacyStore(SqlStore):
    def erase(self, number: str, pseudonym: str, at: float, actor: str) -> dict[str, int]:
        """Everything held about the number, with the audit entry, in one transaction: all
        of it or none."""
        with self._writing("an erasure") as session:
            erased = _erase_person(session, number, pseudonym, at)
            detail = json.dumps(erased, sort_keys=True)
            _audit(session, AuditEntry(at, actor, "erase", pseudonym, detail))
            return erased

    def erase_found(
        self, numbers: Mapping[str, str], key: str, subject: str, at: float, actor: str
    ) -> dict[str, dict[str, int]]:
        """Every number a contact's field led to (number -> its pseudonym) erased as
        `erase` does, all in one transaction with one audit entry under the field's
        pseudonym `subject`: what went, per number's pseudonym."""
        with self._writing("an erasure") as session:
            erased = {
                numbers[n]: _erase_person(session, n, numbers[n], at) for n in sorted(numbers)
            }
            detail = json.dumps({"found_by": key, "numbers": erased}, sort_keys=True)
            _audit(session, AuditEntry(at, actor, "erase", subject, detail))
            return erased

    def contacts_holding(self, key: FieldKey) -> list[tuple[str, str, str]]:
        """(campaign, contact id, number) of every contact whose custom field holds the
        key's value, in every list. The fields are JSON text: a LIKE on the value as JSON
        writes it narrows the rows down (a scan of the contacts: no index has the fields),
        and each is then decoded and matched exactly (`FieldKey.matches`)."""
        written = json.dumps(key.value, ensure_ascii=False)  # as outbound_codec writes it
        near = (
            ContactRow.fields.icontains(written, autoescape=True)
            if key.is_email
            else ContactRow.fields.contains(written, autoescape=True)
        )
        statement = (
            select(ContactRow.campaign_id, ContactRow.id, ContactRow.number, ContactRow.fields)
            .where(near)
            .order_by(ContactRow.campaign_id, ContactRow.id)
        )
        with self._sessions() as session:
            return [
                (campaign_id, contact_id, number)
                for campaign_id, contact_id, number, fields in session.execute(statement)
                if key.matches(strings_from_json(fields))
            ]

    def objections(self, limit: int, offset: int = 0, number: str | None = None) -> list[Objection]:
        """The internal do-not-call list (objections), newest first."""
        statement = select(SuppressionRow).where(SuppressionRow.register == INTERNAL)
        if number is not None:
            statement = statement.where(SuppressionRow.number == number)
        statement = statement.order_by(SuppressionRow.added_at.desc(), SuppressionRow.number).limit(
            limit
        )
        with self._sessions() as session:
            return [
                Objection(r.number, r.reason, r.added_at)
                for r in session.scalars(statement.offset(offset))
            ]

    def export(self, number: str) -> dict[str, list[dict[str, object]]]:
        """Every row held about the number, by kind, each as its columns (JSON columns as
        the text they are stored as)."""
        with self._sessions() as session:
            dial_ids = list(
                session.scalars(select(DialRecordRow.id).where(DialRecordRow.number == number))
            )
            found: dict[str, tuple[type[DeclarativeBase], ColumnElement[bool]]] = {
                "contacts": (ContactRow, ContactRow.number == number),
                "interactions": (InteractionRow, InteractionRow.caller_number == number),
                "dial_records": (DialRecordRow, DialRecordRow.number == number),
                "dispositions": (DispositionRow, DispositionRow.dial_id.in_(dial_ids)),
                "refusals": (RefusalRow, RefusalRow.number == number),
                "callbacks": (CallbackRow, CallbackRow.number == number),
                "notes": (NoteRow, _notes_of(number, dial_ids)),
                "tasks": (TaskRow, _tasks_mentioning(number)),
                "recordings": (RecordingRow, RecordingRow.caller_number == number),
                "webhook_deliveries": (WebhookDeliveryRow, _deliveries_of(number)),
                "queue_log": (QueueLogRow, _queue_log_of(number)),
                "suppressions": (SuppressionRow, SuppressionRow.number == number),
            }
            return {kind: _rows(session, table, where) for kind, (table, where) in found.items()}

    def recording_files(self, number: str) -> list[str]:
        statement = select(RecordingRow.file).where(RecordingRow.caller_number == number)
        with self._sessions() as session:
            return list(session.scalars(statement))

    def add_audit(self, entry: AuditEntry) -> None:
        with self._writing("an audit entry") as session:
            _audit(session, entry)

    def audit(self, limit: int, offset: int = 0) -> list[AuditEntry]:
        statement = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        with self._sessions() as session:
            return [
                AuditEntry(r.at, r.actor, r.action, r.subject, r.detail)
                for r in session.scalars(statement.offset(offset))
            ]


def _erase_person(session: Session, number: str, pseudonym: str, at: float) -> dict[str, int]:
    """One number's rows gone or kept without them, in the caller's transaction."""
    dial_ids = list(session.scalars(select(DialRecordRow.id).where(DialRecordRow.number == number)))
    return {
        "contacts": _delete_contacts(session, number),
        "callbacks": _delete(session, CallbackRow, CallbackRow.number == number),
        "notes": _delete(session, NoteRow, _notes_of(number, dial_ids)),
        "tasks": _delete(session, TaskRow, _tasks_mentioning(number)),
        "interactions": _erase_interactions(session, number),
        "dial_records": _erase(session, DialRecordRow, DialRecordRow.number == number, at),
        "dispositions": _erase(session, DispositionRow, DispositionRow.dial_id.in_(dial_ids), at),
        "refusals": _erase(session, RefusalRow, RefusalRow.number == number, at),
        "recordings": _delete(session, RecordingRow, RecordingRow.caller_number == number),
        "webhook_deliveries": _delete(session, WebhookDeliveryRow, _deliveries_of(number)),
        "queue_log": _blank_queue_log(session, number),
        "suppressions": _suppress_as(session, number, pseudonym, at),
    }


def _deliveries_of(number: str) -> ColumnElement[bool]:
    """Webhook deliveries whose body (JSON) names the number as a value of its own."""
    return WebhookDeliveryRow.body.contains(json.dumps(number), autoescape=True)


def _queue_log_of(number: str) -> ColumnElement[bool]:
    """The queue_log's lines that carry the number: ENTERQUEUE's caller id (data2)."""
    return QueueLogRow.data2 == number


def _blank_queue_log(session: Session, number: str) -> int:
    """The caller's number and name (ENTERQUEUE's data2 and data4) blanked: the lines stay,
    so the reporting tools that read the table count the same calls."""
    statement = update(QueueLogRow).where(_queue_log_of(number)).values(data2="", data4="")
    return _count(session.execute(statement))


def _audit(session: Session, entry: AuditEntry) -> None:
    session.add(
        AuditRow(
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=entry.detail,
        )
    )


def _notes_of(number: str, dial_ids: Sequence[str]) -> ColumnElement[bool]:
    return or_(NoteRow.number == number, NoteRow.dial_id.in_(dial_ids))


def _tasks_mentioning(number: str) -> ColumnElement[bool]:
    """Tasks have no number of their own: the ones whose title or data carry it."""
    return or_(
        TaskRow.title.contains(number, autoescape=True),
        TaskRow.data.contains(number, autoescape=True),
    )


def _delete(session: Session, table: type[DeclarativeBase], where: ColumnElement[bool]) -> int:
    return _count(session.execute(delete(table).where(where)))


# What stands in an append-only record for each of its personal columns after an erasure.
_ERASED_VALUES = {"number": ERASED, "contact_id": ERASED, "detail": "", "answers": "{}", "note": ""}


def _erase(
    session: Session,
    table: type[DialRecordRow | DispositionRow | RefusalRow],
    where: ColumnElement[bool],
    at: float,
) -> int:
    """A record kept without the person, once (a record erased before is left alone): its
    personal columns, the only ones the database lets an erasure change."""
    values: dict[str, object] = {
        c: _ERASED_VALUES[c] for c in PERSONAL_COLUMNS[table.__tablename__]
    }
    values["erased_at"] = at
    statement = update(table).where(where, table.erased_at.is_(None)).values(values)
    return _count(session.execute(statement))


def _delete_contacts(session: Session, number: str) -> int:
    """The number's contacts out of every list, the lists' counts with them."""
    per_list = session.execute(
        select(ContactRow.campaign_id, ContactRow.list_id, func.count())
        .where(ContactRow.number == number)
        .group_by(ContactRow.campaign_id, ContactRow.list_id)
    ).all()
    for campaign_id, list_id, count in per_list:
        session.execute(
            update(ContactListRow)
            .where(ContactListRow.campaign_id == campaign_id, ContactListRow.id == list_id)
            .values(contacts=ContactListRow.contacts - count)
        )
    return _delete(session, ContactRow, ContactRow.number == number)


def _erase_interactions(session: Session, number: str) -> int:
    """Finished calls kept for the figures, without the caller (and without a detail
    that names the number)."""
    mine = InteractionRow.caller_number == number
    session.execute(
        update(InteractionRow)
        .where(mine, InteractionRow.detail.contains(number, autoescape=True))
        .values(detail="")
    )
    return _count(session.execute(update(InteractionRow).where(mine).values(caller_number=ERASED)))


def _suppress_as(session: Session, number: str, pseudonym: str, at: float) -> int:
    """The number off every do-not-call list, its pseudonym on the forgotten one: it is
    suppressed everywhere, and read nowhere. How many listings of the number went."""
    removed = _delete(session, SuppressionRow, SuppressionRow.number == number)
    known = session.get(SuppressionRow, (FORGOTTEN_REGISTER, pseudonym))
    if known is None:
        session.add(
            SuppressionRow(
                register=FORGOTTEN_REGISTER, number=pseudonym, reason="erasure", added_at=at
            )
        )
    return removed


def _rows(
    session: Session, table: type[DeclarativeBase], where: ColumnElement[bool]
) -> list[dict[str, object]]:
    columns = list(table.__table__.columns)
    return [
        {c.name: getattr(row, c.key) for c in columns}
        for row in session.scalars(select(table).where(where))
    ]


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
