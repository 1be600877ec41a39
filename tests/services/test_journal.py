"""The writer's journal on its own: writes the database cannot take yet (DatabaseUnavailable,
as persistence/outage.py raises it) wait in order and are written once it can; past the
limit the newest are refused and counted; a write someone awaits is refused, or withdrawn
before it runs, rather than written after its caller was told it failed."""

from __future__ import annotations

import asyncio

import pytest

from ccgateway.ports import DatabaseUnavailable
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
