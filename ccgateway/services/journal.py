"""The database writer's queue, which is also the journal while the database is away.

The centre's writes (records, presence, callbacks, a dial's progress ...) leave in the
order the core made them, one at a time, in a thread. When the database cannot be reached
(PostgreSQL restarting or failing over to a promoted replica) the write at the head is
tried again with back-off and everything behind it waits in order: routing goes on, since
no routing step waits for the database. The journal is in memory and bounded: past
`limit` writes the newest are refused, counted and logged, so that an outage the
operators do not end cannot exhaust the controller's memory (README, "When PostgreSQL is
away"). A controller stopped during an outage loses what its journal held.

Writes someone awaits (`call`: an API request, a purge batch) are not journaled: during an
outage they fail at once with DatabaseUnavailable (503), as do reads that must first see
every write made before them (`drain`: the history), rather than hang or read a history
with holes in it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ccgateway.ports import DatabaseUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 0.25
MAX_RETRY_S = 5.0
DEFAULT_LIMIT = 100_000


class WriteJournal:
    """One writer, in order; a write that meets an outage is kept and tried again."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._queue: asyncio.Queue[Callable[[], object]] = asyncio.Queue()
        self._down = asyncio.Event()  # set while the database is away
        self._down_since: float | None = None
        self.refused = 0  # writes refused since the start, the journal being full

    @property
    def pending(self) -> int:
        """Writes queued and not yet started (the metrics' writer queue)."""
        return self._queue.qsize()

    @property
    def available(self) -> bool:
        """False from the write that met an outage until the database took it."""
        return not self._down.is_set()

    def put(self, write: Callable[[], object]) -> bool:
        """Queue one of the centre's writes; never blocks. Past the limit it is refused
        (False)."""
        if self._queue.qsize() >= self._limit:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.error(
                    "the database journal is full (%d writes): %d writes refused so far",
                    self._limit,
                    self.refused,
                )
            return False
        self._queue.put_nowait(write)
        return True

    async def call(self, write: Callable[[], T]) -> T:
        """Run `write` after every write queued before it and return its result (or raise
        its error); refused with DatabaseUnavailable while the database is away, and
        withdrawn (never run) if an outage begins while it waits its turn."""
        self._refuse_while_down()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        turn = _Turn()

        def run() -> None:
            if not turn.take():
                return  # its caller was told it was not written
            try:
                result = write()
            except Exception as exc:  # the caller's to handle, not the writer's to retry
                loop.call_soon_threadsafe(_fail, done, exc)
            else:
                loop.call_soon_threadsafe(_succeed, done, result)

        self._queue.put_nowait(run)
        if not await self._until_done_or_down(done) and turn.withdraw():
            raise DatabaseUnavailable("the database became unavailable; try again shortly")
        return await done

    async def drain(self) -> None:
        """Wait until every write queued so far is done; DatabaseUnavailable if the
        database is away meanwhile (what was queued stays queued)."""
        self._refuse_while_down()
        joined = asyncio.ensure_future(self._queue.join())
        if not await self._until_done_or_down(joined):
            joined.cancel()
            raise DatabaseUnavailable("the database became unavailable; try again shortly")

    async def run(self) -> None:
        """The writer: forever, one write at a time, each until the database takes it."""
        while True:
            write = await self._queue.get()
            try:
                await self._until_written(write)
            finally:
                self._queue.task_done()

    async def _until_written(self, write: Callable[[], object]) -> None:
        delay = FIRST_RETRY_S
        while True:
            try:
                await asyncio.to_thread(write)
            except DatabaseUnavailable as exc:  # persistence/outage.py says which
                self._went_down(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)
            except Exception:  # a lost record is logged loudly; the centre keeps running
                log.exception("a database write failed")
                break
            else:
                break
        self._came_back()

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._down.set()
            log.warning(
                "the database is unavailable (%s): routing goes on, %d writes kept in order",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                self._queue.qsize() + 1,
            )

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.warning(
                "the database is back after %.1f s: %d writes still to write",
                time.monotonic() - self._down_since,
                self._queue.qsize(),
            )
            self._down_since = None
            self._down.clear()

    def _refuse_while_down(self) -> None:
        if self._down.is_set():
            raise DatabaseUnavailable("the database is unavailable; try again shortly")

    async def _until_done_or_down(self, done: asyncio.Future[Any]) -> bool:
        """Whether `done` finished before an outage began."""
        if not done.done():
            down = asyncio.ensure_future(self._down.wait())
            try:
                await asyncio.wait({done, down}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                down.cancel()
        return done.done()


class _Turn:
    """A write someone awaits: run by the writer, or withdrawn by its caller, not both."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "queued"

    def take(self) -> bool:
        with self._lock:
            if self._state == "queued":
                self._state = "taken"
            return self._state == "taken"

    def withdraw(self) -> bool:
        with self._lock:
            if self._state == "queued":
                self._state = "withdrawn"
            return self._state == "withdrawn"


def _succeed(done: asyncio.Future[T], result: T) -> None:
    if not done.cancelled():
        done.set_result(result)


def _fail(done: asyncio.Future[Any], error: Exception) -> None:
    if not done.cancelled():
        done.set_exception(error)
