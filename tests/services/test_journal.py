"""The writer's journal on its own: writes the database cannot take yet (DatabaseUnavailable,
as persistence/outage.py raises it) wait in order and are written once it can; past the
limit the newest are refused and counted; a write someone awaits is refused, or withdrawn
before it runs, rather than written after its caller was told it failed. Writes queued
together go to the thread as one batch: an outage in the middle of it resumes at the write
it met, nothing before it written again."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from contextlib import suppress
from functools import partial
from pathlib import Path

import pytest

from ccgateway.persistence.journal_file import MAGIC, JournalFile
from ccgateway.ports import DatabaseUnavailable, WriteFenced
from ccgateway.services import journal as journal_module
from ccgateway.services.journal import WriteJournal


class Database:
    """Something to write to that is away until `back` is set."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.back = False
        self.tries = 0

    def add(self, row: int) -> None:
        self.tries += 1
        if not self.back:
            raise DatabaseUnavailable("connection refused")
        self.rows.append(row)


class DatabaseGoingAway:
    """Something to write to that goes away as row `at` is written, until `back` is set."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.rows: list[int] = []
        self.back = False
        self.tries: Counter[int] = Counter()

    def add(self, row: int) -> None:
        self.tries[row] += 1
        if row >= self.at and not self.back:
            raise DatabaseUnavailable("server closed the connection unexpectedly")
        self.rows.append(row)


class Gate:
    """A first write that holds the writer's thread until `open` is called."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows
        self.entered = threading.Event()
        self._open = threading.Event()

    def write(self) -> None:
        self.entered.set()
        assert self._open.wait(5), "the gate was never opened"
        self.rows.append(0)

    def open(self) -> None:
        self._open.set()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "FIRST_RETRY_S", 0.01)
    monkeypatch.setattr(journal_module, "MAX_RETRY_S", 0.02)


async def until(condition: object) -> None:
    assert callable(condition)
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("not in time")


async def test_writes_wait_in_order_and_past_the_limit_the_newest_are_refused() -> None:
    database, journal = Database(), WriteJournal(limit=100)
    writer = asyncio.create_task(journal.run())
    try:
        assert journal.put(lambda: database.add(0))
        await until(lambda: not journal.available)
        accepted = [journal.put(lambda k=k: database.add(k)) for k in range(1, 151)]
        assert accepted == [True] * 100 + [False] * 50
        assert journal.refused == 50
        with pytest.raises(DatabaseUnavailable):
            await journal.drain()
        database.back = True
        await until(lambda: journal.available and journal.pending == 0)
        await journal.drain()
        assert database.rows == list(range(101))  # each once, in order
        assert database.tries > len(database.rows)  # the first was tried more than once
    finally:
        writer.cancel()


async def test_a_write_awaited_is_refused_while_the_database_is_away() -> None:
    database, journal = Database(), WriteJournal()
    writer = asyncio.create_task(journal.run())
    try:
        journal.put(lambda: database.add(1))
        await until(lambda: not journal.available)
        with pytest.raises(DatabaseUnavailable):
            await journal.call(lambda: database.add(2))
        database.back = True
        await journal_drained(journal)
        assert database.rows == [1]
    finally:
        writer.cancel()


async def test_a_write_awaited_is_withdrawn_when_an_outage_begins_before_its_turn() -> None:
    database, journal = Database(), WriteJournal()
    journal.put(lambda: database.add(1))  # the writer is not running yet: it waits
    waiting = asyncio.create_task(journal.call(lambda: database.add(2)))
    await asyncio.sleep(0)
    writer = asyncio.create_task(journal.run())
    try:
        with pytest.raises(DatabaseUnavailable):
            await waiting  # the first write met the outage before this one's turn
        database.back = True
        await journal_drained(journal)
        assert database.rows == [1]  # the withdrawn write never ran
        assert await journal.call(lambda: database.add(3)) is None
        assert database.rows == [1, 3]
    finally:
        writer.cancel()


async def journal_drained(journal: WriteJournal) -> None:
    await until(lambda: journal.available and journal.pending == 0)
    await journal.drain()


@pytest.mark.parametrize("batch", [journal_module.BATCH, 4])
async def test_an_outage_in_the_middle_of_a_batch_resumes_at_the_write_it_met(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "BATCH", batch)  # 4: the outage in the second batch
    database, journal = DatabaseGoingAway(at=5), WriteJournal()
    for k in range(10):  # queued before the writer runs: taken together
        journal.put(lambda k=k: database.add(k))
    writer = asyncio.create_task(journal.run())
    try:
        await until(lambda: not journal.available)
        assert database.rows == [0, 1, 2, 3, 4]
        assert journal.pending == 4  # the 6th is being tried; the other 4 wait behind it
        journal.put(lambda: database.add(10))
        await until(lambda: database.tries[5] >= 3)
        assert database.rows == [0, 1, 2, 3, 4]  # nothing behind the 6th went ahead of it
        database.back = True
        await journal_drained(journal)
        assert database.rows == list(range(11))  # each once, in order
        assert {k: n for k, n in database.tries.items() if n > 1} == {5: database.tries[5]}
    finally:
        writer.cancel()


async def test_a_call_and_a_failing_write_in_a_batch_keep_their_place(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows: list[int] = []
    journal = WriteJournal()

    def wrong() -> None:
        raise ValueError("a constraint")

    def counted() -> int:
        rows.append(2)
        return len(rows)

    journal.put(lambda: rows.append(0))
    journal.put(wrong)
    called = asyncio.create_task(journal.call(counted))
    await asyncio.sleep(0)  # the call is queued
    journal.put(lambda: rows.append(3))
    writer = asyncio.create_task(journal.run())
    try:
        with caplog.at_level(logging.ERROR, logger=journal_module.__name__):
            assert await called == 2  # after the first, the failed one skipped
            await journal_drained(journal)
        assert rows == [0, 2, 3]
        assert "a database write failed" in caplog.text
    finally:
        writer.cancel()


async def test_writes_taken_into_a_batch_count_as_pending_and_against_the_limit() -> None:
    rows: list[int] = []
    gate, journal = Gate(rows), WriteJournal(limit=10)
    journal.put(gate.write)
    for k in range(1, 10):
        journal.put(lambda k=k: rows.append(k))
    writer = asyncio.create_task(journal.run())
    try:
        await until(gate.entered.is_set)
        assert journal.pending == 9  # taken with the first, not started
        assert journal.put(lambda: rows.append(10))
        assert not journal.put(lambda: rows.append(11))
        assert journal.refused == 1
        gate.open()
        await journal_drained(journal)
        assert rows == list(range(11))
    finally:
        gate.open()
        writer.cancel()


async def test_a_cancelled_writer_starts_no_other_write_of_its_batch() -> None:
    rows: list[int] = []
    gate, journal = Gate(rows), WriteJournal()
    journal.put(gate.write)
    for k in range(1, 5):
        journal.put(lambda k=k: rows.append(k))
    writer = asyncio.create_task(journal.run())
    await until(gate.entered.is_set)
    writer.cancel()  # the controller stopping
    with suppress(asyncio.CancelledError):
        await writer
    gate.open()
    await until(lambda: rows == [0])  # the write in the thread ends
    await asyncio.sleep(0.05)
    assert rows == [0]


# --- the journal file ------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [journal_module.BATCH, 3])
async def test_from_an_outage_on_the_writes_waiting_are_kept_in_the_file_until_written(
    batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Those queued when the outage began (the one that met it included) and those queued
    until the database is back are in the file, in order; a write given as no value (a
    dial waiting for its writes) and those written before the outage are not. The file is
    emptied once all are written; a later outage keeps only its own."""
    monkeypatch.setattr(journal_module, "BATCH", batch)
    path = tmp_path / "journal"
    database, journal = DatabaseGoingAway(at=2), WriteJournal(spill=JournalFile(path))
    for k in range(5):
        journal.put(partial(database.add, k), durable=k)
    journal.put(partial(database.add, 100))  # not a value: in memory only
    writer = asyncio.create_task(journal.run())
    try:
        await until(lambda: not journal.available)
        assert database.rows == [0, 1]
        assert JournalFile(path).kept() == [2, 3, 4]  # what a controller started now writes
        journal.put(partial(database.add, 5), durable=5)
        assert JournalFile(path).kept() == [2, 3, 4, 5]
        await until(lambda: database.tries[2] >= 3)
        database.back = True
        await journal_drained(journal)
        assert database.rows == [0, 1, 2, 3, 4, 100, 5]
        await until(lambda: path.read_bytes() == MAGIC)
        database.back, database.at = False, 6  # a second outage, at write 6
        journal.put(partial(database.add, 6), durable=6)
        await until(lambda: not journal.available)
        assert JournalFile(path).kept() == [6]
    finally:
        writer.cancel()
        with suppress(asyncio.CancelledError):
            await writer
    # The controller is gone before the database came back: its writes are in the file.
    assert JournalFile(path).kept() == [6]


async def test_writes_the_database_took_are_marked_so_a_crash_then_replays_only_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal"
    database, journal = DatabaseGoingAway(at=1), WriteJournal(spill=JournalFile(path))
    gate = Gate(database.rows)
    journal.put(partial(database.add, 1), durable=1)
    journal.put(gate.write)  # holds the writer once the database is back and 1 is written
    journal.put(partial(database.add, 2), durable=2)
    journal.put(partial(database.add, 3), durable=3)
    writer = asyncio.create_task(journal.run())
    try:
        await until(lambda: not journal.available)
        assert JournalFile(path).kept() == [1, 2, 3]
        database.back = True
        assert await asyncio.to_thread(gate.entered.wait, 5)
        assert database.rows == [1]
        # A crash now: a controller started after it writes 2 and 3, not 1 again.
        assert JournalFile(path).kept() == [2, 3]
        gate.open()
        await journal_drained(journal)
        assert database.rows == [1, 0, 2, 3]
        await until(lambda: path.read_bytes() == MAGIC)
    finally:
        gate.open()
        writer.cancel()
        with suppress(asyncio.CancelledError):
            await writer


async def test_writes_the_fence_refuses_are_kept_and_told_as_unwritten_up_to_a_moment() -> None:
    """A pair's journal (`keep_unwritten`): a write refused because the lease was lost
    (WriteFenced) is kept, in order, as one that met an outage; `unwritten` gives the values
    of the durable writes not yet written that were queued up to a given moment."""
    journal = WriteJournal(keep_unwritten=True)
    rows: list[int] = []
    fenced = False

    def add(row: int) -> None:
        if fenced:
            raise WriteFenced("the lease is no longer a's at epoch 1")
        rows.append(row)

    writer = asyncio.create_task(journal.run())
    try:
        journal.put(partial(add, 0), durable="zero")
        await until(lambda: rows == [0])
        assert journal.unwritten() == []  # written: nothing kept
        fenced = True
        journal.put(partial(add, 1), durable="one")
        await until(lambda: not journal.available)
        journal.put(lambda: add(99))  # not a durable write: no value to leave
        journal.put(partial(add, 2), durable="two")
        moment = time.monotonic()
        await asyncio.sleep(0.01)
        journal.put(partial(add, 3), durable="three")
        assert journal.unwritten() == ["one", "two", "three"]
        assert journal.unwritten(until=moment) == ["one", "two"]
        await asyncio.sleep(0.05)  # tried again meanwhile, still refused, still kept
        assert rows == [0] and journal.unwritten() == ["one", "two", "three"]
    finally:
        writer.cancel()


async def test_a_single_controller_s_journal_keeps_no_values_without_a_file() -> None:
    journal = WriteJournal()
    journal.put(lambda: None, durable="a record")
    assert journal.unwritten() == []
