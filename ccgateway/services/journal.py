"""The database writer's queue, which is also the journal while the database is away.

The centre's writes (records, presence, callbacks, a dial's progress ...) leave in the
order the core made them, one at a time, in a thread. The writer takes every write queued
(up to `BATCH`) into one hop to that thread rather than a hop per write, each write still
its own transaction. When the database cannot be reached (PostgreSQL restarting or
failing over to a promoted replica) the write at the head is tried again with back-off
and everything behind it waits in order: routing goes on, since no routing step waits for
the database. The journal is in memory and bounded: past `limit` writes the newest are
refused, counted and logged, so that an outage the operators do not end cannot exhaust
the controller's memory (README, "When PostgreSQL is away").

With a journal file (`JournalSpill`: persistence/journal_file.py) a write given as a value
(`put(..., durable=)`) is also kept on disk from the moment an outage begins (those queued
then, and every one queued until the database is back), and marked written once the
database takes it; a controller stopped or killed meanwhile writes them at its next start.
The file is appended to on the loop's thread (a process's crash loses nothing written to it)
and flushed to the disk at every retry (a machine's crash loses at most the writes since).

A pair's controller (`keep_unwritten`) keeps its durable writes' values the same way, in
memory: a write the fence refuses (WriteFenced: the lease was lost) is kept like one that
met an outage, and what is still unwritten when the controller learns it lost the lease is
left for the next active (`unwritten`; services/handover.py).

Writes someone awaits (`call`: an API request, a purge batch) are not journaled: during an
outage they fail at once with DatabaseUnavailable (503), as do reads that must first see
every write made before them (`drain`: the history), rather than hang or read a history
with holes in it.

A batch that meets an outage at its k-th write keeps its place: the writes before it are
written and done (never run again), the k-th is tried again, and the rest of the batch
and everything queued behind it wait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ccgateway.ports import DatabaseUnavailable, JournalSpill

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 0.25
MAX_RETRY_S = 5.0
DEFAULT_LIMIT = 100_000
BATCH = 200  # writes taken into one thread hop: a bound on the hop's time, not on the queue


class WriteJournal:
    """One writer, in order; a write that meets an outage is kept and tried again."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        spill: JournalSpill | None = None,
        *,
        keep_unwritten: bool = False,
    ) -> None:
        self._limit = limit
        self._spill = spill
        self._keeps = spill is not None or keep_unwritten  # the durable writes' values
        self._durable: deque[_Kept] = deque()  # durable writes queued, not yet written
        self._seq = 0  # the last write kept in the file
        self._kept = 0  # writes in the file not yet written
        self._spilled = False  # the file holds something since it was last cleared
        self._queue: asyncio.Queue[Callable[[], object]] = asyncio.Queue()
        self._down = asyncio.Event()  # set while the database is away
        self._down_since: float | None = None
        self._batch: _Batch | None = None  # the writes the writer took, until all are done
        self.refused = 0  # writes refused since the start, the journal being full

    @property
    def pending(self) -> int:
        """Writes queued and not yet started (the metrics' writer queue)."""
        batch = self._batch
        return self._queue.qsize() + (0 if batch is None else batch.unstarted)

    @property
    def available(self) -> bool:
        """False from the write that met an outage until the database took it."""
        return not self._down.is_set()

    def put(self, write: Callable[[], object], durable: object | None = None) -> bool:
        """Queue one of the centre's writes; never blocks. Past the limit it is refused
        (False). `durable`: the write as a value the journal file can keep."""
        if self.pending >= self._limit:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.error(
                    "the database journal is full (%d writes): %d writes refused so far",
                    self._limit,
                    self.refused,
                )
            return False
        if durable is not None and self._keeps:
            kept = _Kept(write, durable, time.monotonic())
            self._durable.append(kept)
            if self._down.is_set() and self._spill is not None:
                self._keep(kept)
            write = kept
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

    def unwritten(self, until: float = float("inf")) -> list[object]:
        """The values of the durable writes queued up to `until` (monotonic) and not yet
        written, in their order (kept only with a spill or `keep_unwritten`)."""
        return [kept.value for kept in self._durable if kept.at <= until]

    async def drain(self) -> None:
        """Wait until every write queued so far is done; DatabaseUnavailable if the
        database is away meanwhile (what was queued stays queued)."""
        self._refuse_while_down()
        joined = asyncio.ensure_future(self._queue.join())
        if not await self._until_done_or_down(joined):
            joined.cancel()
            raise DatabaseUnavailable("the database became unavailable; try again shortly")

    async def run(self) -> None:
        """The writer: forever, the writes queued so far in order, each until the database
        takes it."""
        while True:
            writes = [await self._queue.get()]
            while len(writes) < BATCH and not self._queue.empty():
                writes.append(self._queue.get_nowait())
            batch = self._batch = _Batch(writes)
            try:
                await self._until_written(batch)
            finally:
                # A cancelled writer (the controller stopping) leaves the rest of its batch
                # unwritten, as it leaves the queue: the thread ends the write it is in and
                # starts no other.
                batch.stopped = True
                self._batch = None

    async def _until_written(self, batch: _Batch) -> None:
        """Every write of `batch` in order, in as few thread hops as outages allow."""
        done = 0  # the writes of the batch written (or failed for good), in order
        retrying = False
        delay = FIRST_RETRY_S
        while done < len(batch.writes):
            start = done
            # The write that met an outage is tried alone: once it is taken, the database is
            # known back (calls and drains accepted again) before the rest is written.
            end = start + 1 if retrying else len(batch.writes)
            done, outage = await asyncio.to_thread(_write, batch, start, end)
            for _ in range(done - start):
                self._queue.task_done()
            if done > start:
                self._came_back()
                delay = FIRST_RETRY_S
                await self._written(batch.writes[start:done])
            retrying = outage is not None
            if outage is not None:  # persistence/outage.py says which
                self._went_down(outage)
                await self._sync()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._down.set()
            log.warning(
                "the database is unavailable (%s): routing goes on, %d writes kept in order",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                self.pending + 1,
            )
            for kept in self._durable if self._spill is not None else ():
                if kept.seq is None:  # the write that met it included
                    self._keep(kept)

    def _keep(self, kept: _Kept) -> None:
        """On the loop's thread: the write appended to the file (where that fails it stays
        in memory only, and the log says so)."""
        assert self._spill is not None
        try:
            self._spill.keep(self._seq + 1, kept.value)
        except Exception:
            log.exception("a write could not be kept in the journal file: it is in memory only")
            return
        self._seq += 1
        kept.seq = self._seq
        self._kept += 1
        self._spilled = True

    async def _written(self, writes: Sequence[Callable[[], object]]) -> None:
        """The writes the database took (or refused for good): marked in the file, which is
        emptied once it holds none still to write."""
        last = None
        for write in writes:
            if isinstance(write, _Kept):
                self._durable.popleft()
                if write.seq is not None:
                    last = write.seq
                    self._kept -= 1
        if last is None or self._spill is None:
            return
        try:
            if self._kept:
                self._spill.written(last)
            elif self._spilled:
                await asyncio.to_thread(self._spill.clear)
                self._spilled = False
        except OSError:
            log.exception("the journal file could not be marked: its writes may be written twice")

    async def _sync(self) -> None:
        if self._spill is not None and self._spilled:
            try:
                await asyncio.to_thread(self._spill.sync)
            except OSError:
                log.exception("the journal file could not be flushed to the disk")

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.warning(
                "the database is back after %.1f s: %d writes still to write",
                time.monotonic() - self._down_since,
                self.pending,
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


class _Kept:
    """A durable write: run by the writer as any, and `seq` once it is in the file."""

    __slots__ = ("at", "seq", "value", "write")

    def __init__(self, write: Callable[[], object], value: object, at: float) -> None:
        self.write = write
        self.value = value
        self.at = at  # when it was queued (monotonic)
        self.seq: int | None = None

    def __call__(self) -> object:
        return self.write()


class _Batch:
    """Writes the writer took together: written in order in the thread, which counts down
    those not yet started (read by `pending`); `stopped` once the writer no longer waits."""

    __slots__ = ("stopped", "unstarted", "writes")

    def __init__(self, writes: list[Callable[[], object]]) -> None:
        self.writes = writes
        self.unstarted = len(writes)
        self.stopped = False


def _write(batch: _Batch, start: int, end: int) -> tuple[int, DatabaseUnavailable | None]:
    """In the writer's thread: the batch's writes `start` to `end` in order, until one meets
    an outage; how many of the batch are done then, and the outage."""
    for k in range(start, end):
        if batch.stopped:
            return k, None
        batch.unstarted = len(batch.writes) - k - 1
        try:
            batch.writes[k]()
        except DatabaseUnavailable as exc:
            return k, exc  # the k-th is tried again, nothing before it
        except Exception:  # a lost record is logged loudly; the centre keeps running
            log.exception("a database write failed")
    return end, None


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
