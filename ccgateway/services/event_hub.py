"""A broadcast of state changes with sequence numbers, so a client can resume after a drop."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Published:
    seq: int
    at: float
    topic: str
    data: dict[str, object]


class EventHub:
    def __init__(self, history: int = 10_000, subscriber_buffer: int = 1_000) -> None:
        self._seq = 0
        self._history: deque[Published] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[Published | None]] = set()
        self._buffer = subscriber_buffer

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, at: float, topic: str, data: dict[str, object]) -> Published:
        self._seq += 1
        item = Published(self._seq, at, topic, data)
        self._history.append(item)
        for queue in list(self._subscribers):
            if queue.full():  # a reader that cannot keep up is cut off, not allowed to stall us
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)
            else:
                queue.put_nowait(item)
        return item

    def forget(self, text: str) -> int:
        """Events that carry `text` (an erased person's number) out of the history a
        client resumes from; how many. Events already handed to a subscriber are its."""
        kept = [p for p in self._history if text not in json.dumps(p.data, default=str)]
        removed = len(self._history) - len(kept)
        if removed:
            self._history = deque(kept, maxlen=self._history.maxlen)
        return removed

    async def subscribe(self, after_seq: int = 0) -> AsyncIterator[Published]:
        """Everything after `after_seq` still in history, then live events as they come.

        Ends when the subscriber falls too far behind; it can resume from its last seq.
        """
        queue: asyncio.Queue[Published | None] = asyncio.Queue(self._buffer)
        backlog = [p for p in self._history if p.seq > after_seq]
        self._subscribers.add(queue)
        try:
            for item in backlog:
                yield item
            last = backlog[-1].seq if backlog else after_seq
            while True:
                got = await queue.get()
                if got is None:
                    return
                if got.seq > last:
                    yield got
        finally:
            self._subscribers.discard(queue)
