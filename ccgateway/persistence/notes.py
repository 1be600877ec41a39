"""Agents' notes on contacts (ports.NoteStore): written once, read by number, newest first."""

from __future__ import annotations

from sqlalchemy import select

from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import NoteRow
from ccgateway.ports import Note


class SqlNoteStore(SqlStore):
    def add(self, note: Note) -> None:
        with self._writing(f"note {note.id}") as session:
            session.add(
                NoteRow(
                    id=note.id,
                    at=note.at,
                    agent_id=note.agent_id,
                    author=note.author,
                    number=note.number,
                    call_id=note.call_id,
                    dial_id=note.dial_id,
                    text=note.text,
                )
            )

    def of_number(self, number: str, limit: int) -> list[Note]:
        """The number's notes, newest first."""
        statement = (
            select(NoteRow)
            .where(NoteRow.number == number)
            .order_by(NoteRow.at.desc(), NoteRow.id.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [
                Note(r.id, r.at, r.agent_id, r.author, r.number, r.call_id, r.dial_id, r.text)
                for r in session.scalars(statement)
            ]
