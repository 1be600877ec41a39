"""A manual clock: a `Clock` whose time moves only when the test moves it."""

from __future__ import annotations

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z: a fixed day, so figures and hours repeat


class ManualClock:
    """Time as something a test jumps: a wrap-up, a queue's maximum wait or a callback due
    tomorrow is reached with `advance`, at once and the same way on every run.

    The dispatcher reads it for every event and request and when timers are due; after
    `advance`, anything that wakes the dispatcher (an event, a request) fires what is due.
    """

    def __init__(self, start: float = START) -> None:
        self._now = start

    def now(self) -> float:
        """Epoch seconds, as the `Clock` port promises."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (never back: the centre's timers assume it)."""
        if seconds < 0:
            raise ValueError(f"time does not go back ({seconds} s)")
        self._now += seconds
