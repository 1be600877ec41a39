"""What every PBX link shares: one supervised connection at a time (connect, greet and
authenticate, watch for silence, fail what was pending when it drops), reconnecting with
back-off, and the snapshot-first rule. The AMI and ESL clients add only their protocol
(`LinkProtocol`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ccgateway.domain.events import PbxConnectionLost, PbxEvent, PbxResynced
from ccgateway.ports import PbxError, PbxUnavailable

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


class RoundTrips(Protocol):
    """Told how long each action took to be answered (the controller's instruments,
    services/instruments.py); an adapter is built without one in tests."""

    def round_trip(self, pbx: str, action: str, seconds: float) -> None: ...

    def timed_out(self, pbx: str, action: str) -> None: ...


@dataclass(frozen=True, slots=True)
class LinkMeter:
    """A client's round trips, told to `sink` under its PBX's name; measures nothing
    without a sink. `action` is always a name from our code (an AMI action, an ESL
    command's first word), never a value."""

    pbx: str = ""
    sink: RoundTrips | None = None

    def answered(self, action: str, sent_at: float) -> None:
        """An answer (an error included) to what was sent at `sent_at` (time.monotonic)."""
        if self.sink is not None:
            self.sink.round_trip(self.pbx, action, time.monotonic() - sent_at)

    def unanswered(self, action: str) -> None:
        if self.sink is not None:
            self.sink.timed_out(self.pbx, action)


class LinkProtocol(Protocol):
    """What a PBX client tells the supervisor about its wire, for one connection at a time."""

    def connection_made(self, writer: asyncio.StreamWriter) -> None:
        """A new connection: start a fresh parser and write to `writer` from now on."""

    def data_received(self, data: bytes) -> str | None:
        """Bytes as they arrive; a reason to end the connection (a goodbye), or None."""

    async def handshake(self) -> None:
        """Greet, authenticate and subscribe; raise a PbxError when refused."""

    async def is_alive(self, silent_s: float) -> bool:
        """One watchdog round after `silent_s` seconds with nothing received: ping or probe;
        False declares the link dead."""

    def connection_lost(self, reason: str) -> None:
        """The connection is gone: forget the writer, fail every pending request (the
        greeting's too). Called as the link unwinds, and at once if it ends in the handshake."""


class LinkSupervisor:
    """Runs a `LinkProtocol` over TCP for the life of the controller: connects, lets the
    protocol greet and authenticate, calls `on_connected` (the resync), watches the link,
    and when it drops fails what was pending, calls `on_lost`, and reconnects with back-off.
    Nothing is ever re-sent."""

    def __init__(
        self,
        label: str,
        peer: str,
        address: tuple[str, int],
        protocol: LinkProtocol,
        on_connected: Callable[[], Awaitable[None]],
        on_lost: Callable[[str], None],
        *,
        timeout_s: float,
        watch_every_s: float,
        max_backoff_s: float,
    ) -> None:
        self.label, self._peer, self._address, self._protocol = label, peer, address, protocol
        self._on_connected, self._on_lost = on_connected, on_lost
        self.timeout_s = timeout_s
        self.watch_every_s = watch_every_s
        self.max_backoff_s = max_backoff_s
        self.connected = asyncio.Event()
        self.connections = 0
        self.last_received = 0.0
        # Asked before every write to the peer (the protocol's own writes included): a
        # controller whose lease is lost writes nothing at all (ports.Owner.may_command).
        self.may_write: Callable[[], bool] = lambda: True

    async def run_forever(self) -> None:
        """Connect, serve, and reconnect with back-off until cancelled."""
        await reconnect_forever(self._serve_one_connection, self.label, self.max_backoff_s)

    async def _serve_one_connection(self) -> None:
        async with asyncio.timeout(self.timeout_s):  # not wait_for: see AmiClient.send
            reader, writer = await asyncio.open_connection(*self._address)
        reason = "connection closed"
        try:
            self._protocol.connection_made(writer)
            self.last_received = time.monotonic()
            async with asyncio.TaskGroup() as tasks:
                reading = tasks.create_task(self._read(reader))
                await self._protocol.handshake()
                self.connected.set()
                self.connections += 1
                log.info("%s connected", self.label)
                watchdog = tasks.create_task(self._watch(writer))
                await self._on_connected()
                reason = await reading
                watchdog.cancel()
        finally:
            self.connected.clear()
            writer.close()
            self._protocol.connection_lost(reason)
            if self.connections:
                self._on_lost(reason)

    async def _read(self, reader: asyncio.StreamReader) -> str:
        reason = await self._receive(reader)
        if not self.connected.is_set():
            # a handshake waiting for an answer ends now, not at its timeout. Once connected,
            # what is pending fails only as the link unwinds, after `connected` is cleared.
            self._protocol.connection_lost(reason)
        return reason

    async def _receive(self, reader: asyncio.StreamReader) -> str:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return f"{self._peer} closed the connection"
            self.last_received = time.monotonic()
            goodbye = self._protocol.data_received(chunk)
            if goodbye is not None:
                return goodbye

    async def _watch(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(self.watch_every_s)
            if not await self._protocol.is_alive(time.monotonic() - self.last_received):
                writer.transport.abort()
                return


def fail_all(futures: Iterable[asyncio.Future[Any]], error: PbxUnavailable) -> None:
    """Fail every pending future with `error`, marked retrieved (no "never retrieved"
    warnings for a request whose waiter has already timed out)."""
    for future in futures:
        if not future.done():
            future.set_exception(error)
            with contextlib.suppress(BaseException):
                future.exception()


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
