"""The queue_log feed: the centre's commands as app_queue's queue_log, in a file and/or a
table, for reporting tools built for Asterisk's queues (domain/queue_log.py: the format).

The feed is a `CommandTap`: in the dispatcher's turn it only translates and appends to a
bounded buffer in memory. Its job (`run`, one of the controller's jobs) takes the buffer
every `interval_s` and hands it to each sink off the event loop (the file in a thread of
its own, the table through the dispatcher's one writer), so a slow disk or database never
holds up routing. A sink that fails keeps its lines (up to the buffer's bound) for the
next round; lines over the bound are dropped and counted, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from ccgateway.domain.commands import Command
from ccgateway.domain.queue_log import QueueLog, QueueLogLine

log = logging.getLogger(__name__)

BUFFER_LINES = 100_000
FINAL_FLUSH_S = 3.0


class QueueLogSink(Protocol):
    """Where lines go: a file (persistence/queue_log_file.py), a table
    (persistence/queue_log_tables.py). `write` blocks; it is run off the event loop."""

    def write(self, lines: Sequence[QueueLogLine]) -> None: ...


# How a sink's blocking write is run: in a thread of its own, or in the database writer's.
Runner = Callable[[Callable[[], None]], Awaitable[None]]


async def in_thread(write: Callable[[], None]) -> None:
    await asyncio.to_thread(write)


class QueueLogFeed:
    """The tap and its job. `sinks` pairs each sink with how its writes are run."""

    def __init__(
        self,
        translator: QueueLog,
        sinks: Sequence[tuple[QueueLogSink, Runner]],
        *,
        interval_s: float = 0.5,
        limit: int = BUFFER_LINES,
    ) -> None:
        self.translator = translator
        self._sinks = [(sink, runner, deque[QueueLogLine]()) for sink, runner in sinks]
        self._interval_s = interval_s
        self._limit = limit
        self.dropped = 0
        self._failing: dict[int, str] = {}  # sink -> its last error, while failing
        self._ready = asyncio.Event()

    def start(self, now: float) -> None:
        """QUEUESTART, as Asterisk writes when its queue log opens."""
        self._add(self.translator.start(now))

    def observe(self, command: Command, now: float) -> None:
        """In the dispatcher's turn: translate and buffer, nothing more."""
        lines = self.translator.observe(command, now)
        if lines:
            self._add(lines)

    def _add(self, lines: Sequence[QueueLogLine]) -> None:
        for _, _, pending in self._sinks:
            room = self._limit - len(pending)
            if room < len(lines):
                self.dropped += len(lines) - max(room, 0)
            pending.extend(lines[: max(room, 0)])
        self._ready.set()

    async def run(self) -> None:
        """The job: hand what the buffer holds to the sinks, every `interval_s`, until
        cancelled; then what is left, for a few seconds at most (the database writer may be
        stopping too)."""
        try:
            while True:
                await self._ready.wait()
                await self.flush()
                await asyncio.sleep(self._interval_s)
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.flush()), FINAL_FLUSH_S)

    async def flush(self) -> None:
        """Write every line buffered so far (callers held past their arrival included)."""
        if held := self.translator.settle():
            self._add(held)
        self._ready.clear()
        if self.dropped:
            log.warning("queue_log: %d lines dropped (the buffer was full)", self.dropped)
            self.dropped = 0
        for index, (sink, runner, pending) in enumerate(self._sinks):
            if pending:
                await self._write(index, sink, runner, pending)

    async def _write(
        self, index: int, sink: QueueLogSink, runner: Runner, pending: deque[QueueLogLine]
    ) -> None:
        lines = list(pending)
        pending.clear()
        try:
            await runner(functools.partial(sink.write, lines))
        except Exception as exc:
            # Said once per kind of failure, not every round; the lines wait for the next.
            if self._failing.get(index) != str(exc):
                log.error("queue_log: writing to %s failed, lines kept: %s", sink, exc)
            self._failing[index] = str(exc)
            kept = lines[: max(self._limit - len(pending), 0)]
            self.dropped += len(lines) - len(kept)
            pending.extendleft(reversed(kept))
            self._ready.set()
        else:
            if self._failing.pop(index, None) is not None:
                log.info("queue_log: writing to %s works again", sink)
