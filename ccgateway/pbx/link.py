"""What every PBX link shares: reconnecting with back-off, and the snapshot-first rule."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from ccgateway.domain.events import PbxConnectionLost, PbxEvent, PbxResynced
from ccgateway.ports import PbxError

log = logging.getLogger(__name__)


async def reconnect_forever(
    serve_once: Callable[[], Awaitable[None]], label: str, max_backoff_s: float
) -> None:
    """Serve connection after connection until cancelled, pausing with capped, jittered
    back-off after a failure; even a bug in a resync must not end the link for good."""
    failures = 0
    while True:
        try:
            await serve_once()
            failures = 0
        except Exception as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # A TaskGroup that was unwinding a failure when the cancel came raises the
                # failure, not the cancel: the cancel must still end the link.
                raise asyncio.CancelledError from exc
            leaves = exc.exceptions if isinstance(exc, ExceptionGroup) else (exc,)
            if all(isinstance(e, OSError | PbxError) for e in leaves):
                log.warning("%s: %s", label, "; ".join(map(str, leaves)))
            else:
                log.exception("%s failed", label)
            failures += 1
        delay = min(max_backoff_s, 0.25 * 2 ** min(failures, 6))
        await asyncio.sleep(delay * (0.75 + random.random() / 2))


class EventGate:
    """Hands a PBX's domain events to the core, snapshot first.

    While a resync is being taken, events are held back and delivered after the snapshot, so
    the core never applies something that happened during the resync to a picture that does
    not yet contain it (duplicates are harmless: the core ignores a call it already has).
    """

    def __init__(self) -> None:
        self.emit: Callable[[PbxEvent], None] = lambda event: None
        self._held: list[PbxEvent] | None = None

    def deliver(self, event: PbxEvent) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self.emit(event)

    async def resync(self, take_snapshot: Callable[[], Awaitable[PbxResynced]]) -> None:
        self._held = []
        try:
            self.emit(await take_snapshot())
            for event in self._held:
                self.emit(event)
        finally:
            self._held = None

    def lost(self, reason: str) -> None:
        self._held = None
        self.emit(PbxConnectionLost(reason))
