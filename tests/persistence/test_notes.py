"""Agents' notes and the contact history's reads by number (interactions, dials and their
dispositions, callbacks), on SQLite and on a real PostgreSQL server (the `url` fixture of
test_stores.py)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, inspect, text

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.errors import Conflict
from ccgateway.domain.outbound.records import DialRecord
from ccgateway.domain.records import Callback, CallbackState
from ccgateway.persistence import (
    SqlCallbackStore,
    SqlInteractionStore,
    SqlOutboundStore,
    open_database,
)
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.tables import SCHEMA_VERSION
from ccgateway.ports import InteractionQuery, Note
from ccgateway.services.history_service import check_note_text
from tests.persistence.before_alembic import as_before_alembic
from tests.persistence.test_outbound_store import dial, disposition
from tests.persistence.test_stores import engine, url, versions  # noqa: F401 (fixtures)

ANN = "+4930111"
BOB = "+4930222"

# Text a person may type, and a stranger may send: every one must read back as written.
HARD_TEXTS = [
    "called back, wants the blue one",
    "line one\nline two\n\tindented",
    "<img src=x onerror=alert(1)> \"quoted\" 'single' `back` \\ % _ ; -- DROP TABLE notes",
    "Grüße, 日本語, עברית, emoji 👩🏽‍💻 and a zero-width joiner\u200d here",
    "x" * 2000,
]


def note(n: int, number: str = ANN, at: float = 100.0, **changes: object) -> Note:
    base = Note(f"n{n}", at, "a1", "agent1", number, f"c{n}", None, f"note {n}")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_notes_read_back_exactly_newest_first_and_only_of_their_number(
    engine: Engine,  # noqa: F811
) -> None:
    store = SqlNoteStore(engine)
    written = [
        note(i, at=100.0 + i, text=check_note_text(t), dial_id="ob-1" if i % 2 else None)
        for i, t in enumerate(HARD_TEXTS)
    ]
    for item in written:
        store.add(item)
    store.add(note(9, BOB, agent_id=None, author="supervisor", call_id=None))
    assert store.of_number(ANN, 200) == written[::-1]
    assert store.of_number(ANN, 2) == written[::-1][:2]
    assert store.of_number(BOB, 200) == [
        note(9, BOB, agent_id=None, author="supervisor", call_id=None)
    ]
    assert store.of_number("+4930333", 200) == []
    with pytest.raises(Conflict):
        store.add(note(1))  # a note is written once


def test_notes_survive_a_reopen(url: str) -> None:  # noqa: F811
    first = open_database(url)
    SqlNoteStore(first).add(note(1, text=HARD_TEXTS[3]))
    first.dispose()
    again = open_database(url)
    assert SqlNoteStore(again).of_number(ANN, 10) == [note(1, text=HARD_TEXTS[3])]
    again.dispose()


def interaction(call: str, number: str, arrived: float, agent: str | None = "a1") -> Interaction:
    return Interaction(
        call, "german", agent, number, Outcome.ANSWERED, arrived, arrived + 3, arrived + 60, 3.0,
        57.0, 1,
    )  # fmt: skip


def test_interactions_by_caller_and_by_call(engine: Engine) -> None:  # noqa: F811
    store = SqlInteractionStore(engine)
    for record in (
        interaction("c1", ANN, 10.0),
        interaction("c2", BOB, 20.0),
        interaction("c3", ANN, 30.0, agent="a2"),
    ):
        store.add(record)
    newest = InteractionQuery(caller_number=ANN, newest_first=True)
    assert [i.call_id for i in store.query(newest)] == ["c3", "c1"]
    mine = InteractionQuery(caller_number=ANN, agent_id="a2")
    assert [i.call_id for i in store.query(mine)] == ["c3"]
    assert [i.caller_number for i in store.query(InteractionQuery(call_id="c2"))] == [BOB]


def test_dials_of_a_number_newest_first_with_their_dispositions(engine: Engine) -> None:  # noqa: F811
    store = SqlOutboundStore(engine)
    old, new = dial("ob-1", 10.0), dial("ob-2", 20.0, agent_id="bob")
    other: DialRecord = dial("ob-3", 30.0, number="+447946000002")
    for record in (old, new, other):
        store.add_dial(record)
    store.add_disposition(disposition("ob-1", 80.0))
    store.add_disposition(disposition("ob-1", 90.0, code="sale"))
    assert store.dials_of_number("+447946000001", 200) == [new, old]
    assert store.dials_of_number("+447946000001", 1) == [new]
    assert store.dials_of_number("+447946000001", 200, agent_id="ann") == [old]
    assert store.dials_of_number("+447946000001", 200, agent_id="cid") == []
    assert store.dial("ob-3") == other and store.dial("ob-9") is None
    found = store.dispositions_of(["ob-1", "ob-2", "ob-1"])
    assert [(d.dial_id, d.code) for d in found] == [("ob-1", "callback"), ("ob-1", "sale")]
    assert store.dispositions_of([]) == []


def test_callbacks_of_a_number_live_and_ended_newest_first(engine: Engine) -> None:  # noqa: F811
    store = SqlCallbackStore(engine)
    first = Callback("cb-1", "q", ANN, "Ann", 5, 10.0, 12.0, state=CallbackState.DONE)
    second = dataclasses.replace(first, id="cb-2", created_at=50.0, state=CallbackState.WAITING)
    for callback in (first, second, dataclasses.replace(first, id="cb-3", number=BOB)):
        store.save(callback)
    assert store.of_number(ANN, 200) == [second, first]
    assert store.of_number(ANN, 1) == [second]


def test_a_version_6_database_gets_the_notes_and_the_history_indexes(url: str) -> None:  # noqa: F811
    before = open_database(url)
    with before.begin() as connection:  # what version 6 had
        connection.execute(text("DROP TABLE notes"))
        connection.execute(text("DROP INDEX ix_interactions_caller_arrived"))
        connection.execute(text("DROP INDEX ix_callbacks_number"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (6)"))
        as_before_alembic(connection)  # before Alembic
    before.dispose()
    upgraded = open_database(url)
    assert versions(upgraded) == list(range(6, SCHEMA_VERSION + 1))
    schema = inspect(upgraded)
    assert "ix_interactions_caller_arrived" in {
        i["name"] for i in schema.get_indexes("interactions")
    }
    assert "ix_callbacks_number" in {i["name"] for i in schema.get_indexes("callbacks")}
    SqlNoteStore(upgraded).add(note(1))
    assert SqlNoteStore(upgraded).of_number(ANN, 10) == [note(1)]
    upgraded.dispose()
