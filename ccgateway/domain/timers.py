"""Deadlines of the centre (wrap-ups ending, offers timing out, callbacks falling due, ...).

Each timer has a kind and a key (an agent, a call); setting it again moves it and
cancelling drops it, so at most one deadline per (kind, key) is ever in force. A handler
still checks the state it acts on when its timer fires: a timer is a reminder, not the truth.
"""

from __future__ import annotations

import heapq
from enum import StrEnum


class TimerKind(StrEnum):
    """What a deadline is for; the centre hands a due timer to the part that set it."""

    WRAPUP = "wrapup"
    RESUME = "resume"
    OFFER = "offer"
    MAXWAIT = "maxwait"
    ANNOUNCE = "announce"
    CONSENT = "consent"
    CALLBACK_DUE = "callback-due"
    CALLBACK_RING = "callback-ring"
    TASK_OFFER = "task-offer"
    CONSULT = "consult"
    OB_DIAL = "ob-dial"
    OB_PREVIEW = "ob-preview"
    OB_PACE = "ob-pace"


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, TimerKind, str]] = []
        self._when: dict[tuple[TimerKind, str], float] = {}

    def set(self, kind: TimerKind, key: str, when: float) -> None:
        self._when[(kind, key)] = when
        heapq.heappush(self._heap, (when, kind, key))

    def cancel(self, kind: TimerKind, key: str) -> None:
        self._when.pop((kind, key), None)

    def get(self, kind: TimerKind, key: str) -> float | None:
        return self._when.get((kind, key))

    def next(self) -> float | None:
        """The earliest deadline in force; stale heap entries are dropped on the way."""
        while self._heap:
            when, kind, key = self._heap[0]
            if self._when.get((kind, key)) == when:
                return when
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: float) -> tuple[TimerKind, str] | None:
        """The earliest (kind, key) whose deadline is at or before `now`, taken out; None
        when nothing is due. One at a time: handling one may set another that is due too."""
        when = self.next()
        if when is None or when > now:
            return None
        _, kind, key = heapq.heappop(self._heap)
        del self._when[(kind, key)]
        return kind, key
