"""An AMI connection fit to run for months.

panoramisk 1.4 parses AMI messages well, so its `Message` parser is used here; its `Manager`
is not, because a long-running controller cannot live with what it does on its own
(shared/notes/asterisk.md): it re-sends unanswered actions after a reconnect (an Originate
would dial twice), never checks its pings (a half-open link goes unnoticed), leaks a future
per timed-out action, lets an exception in an event handler close the socket, and writes
header values with CR/LF unchecked (one value can inject a second action).

This client instead:
- checks every header name and value for CR, LF and NUL and for AMI's 1024-byte line limit
  before anything is written (`InvalidWireValue`);
- gives every action a timeout and always removes it from the pending table;
- fails every pending action with `PbxUnavailable` when the link drops, and never re-sends;
- pings every `ping_interval_s` and declares the link dead when nothing at all has been
  received for `dead_after_s`;
- reconnects with capped, jittered back-off and calls `on_connected` (the resync) each time;
- contains every failure of an event handler;
- asks at login only for the event classes the controller uses (`EVENTS`), and names the
  action in every refusal: a "Permission denied" is logged with the manager.conf classes
  that would allow it, and kept in `refused` until a connection resyncs cleanly.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from panoramisk.message import Message

from ccgateway.pbx.link import reconnect_forever
from ccgateway.pbx.wire import check_wire_value
from ccgateway.ports import InvalidWireValue, PbxRejected, PbxTimeout, PbxUnavailable

log = logging.getLogger(__name__)
AmiMessage = dict[str, str]
HeaderValue = str | Sequence[str]
MAX_LINE = 1024
EOL = "\r\n"
# The event classes the controller reads (Login's Events mask): "call" carries Hangup,
# HangupRequest, OriginateResponse and DeviceStateChange, "user" the dialplan's UserEvents.
# Anything else (test events every second on a `read = all` user, CEL, security) stays off
# the wire. List actions' events (CoreShowChannel ...) are answers, not subject to the mask.
EVENTS = "call,user"
# manager.conf `write` classes, any one of which lets Asterisk 22 take the action
# (main/manager.c, res/res_manager_devicestate.c, apps/app_mixmonitor.c). Login and Ping
# need none. The minimal set for the controller is call,originate,reporting.
WRITE_CLASSES = {
    "CoreShowChannels": "reporting (or system)",
    "DeviceStateList": "call or reporting",
    "Originate": "originate",
    "Redirect": "call",
    "Setvar": "call",
    "Hangup": "call (or system)",
    "MixMonitor": "system",
}


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[list[AmiMessage]]
    is_list: bool
    action: str
    items: list[AmiMessage] = field(default_factory=list)


def encode_action(action: Mapping[str, HeaderValue]) -> bytes:
    """One AMI action as bytes, after checking every header (pure, for tests too)."""
    lines = []
    for name, value in action.items():
        check_wire_value("header name", name)
        if ":" in name or not name:
            raise InvalidWireValue(f"header name {name!r} is not a valid AMI header name")
        for item in [value] if isinstance(value, str) else value:
            check_wire_value(name, item)
            line = f"{name}: {item}"
            if len(line.encode()) + 2 > MAX_LINE:
                raise InvalidWireValue(f"{name}: the line is longer than AMI's {MAX_LINE} bytes")
            lines.append(line)
    return (EOL.join(lines) + EOL + EOL).encode()


def parse_message(block: str) -> AmiMessage | None:
    """One AMI message block (without the blank line) as a plain dict; None if not one."""
    message = Message.from_line(block.strip())
    if message is None:
        return None
    flat: AmiMessage = {}
    for key, value in message.items():
        flat[key] = value[0] if isinstance(value, list) else str(value)
    if message.content:
        flat["Output"] = message.content
    return flat


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        on_event: Callable[[AmiMessage], None],
        on_connected: Callable[[], Awaitable[None]],
        on_lost: Callable[[str], None],
        action_timeout_s: float = 5.0,
        ping_interval_s: float = 1.0,
        dead_after_s: float = 3.5,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._address = (host, port)
        self._login = {
            "Username": check_wire_value("Username", username),
            "Secret": check_wire_value("Secret", secret),
        }
        self._on_event, self._on_connected, self._on_lost = on_event, on_connected, on_lost
        self.action_timeout_s = action_timeout_s
        self.ping_interval_s = ping_interval_s
        self.dead_after_s = dead_after_s
        self.max_backoff_s = max_backoff_s
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._last_received = 0.0
        self.connected = asyncio.Event()
        self.connections = 0
        # The last action Asterisk refused with "Permission denied", as a sentence for
        # health; cleared when a connection's resync succeeds.
        self.refused: str | None = None

    # --- actions -------------------------------------------------------------------------

    async def send(
        self,
        action: Mapping[str, HeaderValue],
        *,
        is_list: bool = False,
        timeout_s: float | None = None,
    ) -> list[AmiMessage]:
        """Send one action; the response (and, for list actions, its events until Complete).

        Raises InvalidWireValue before sending, PbxUnavailable when not connected or when the
        link drops before the answer, PbxTimeout when no answer comes in time, and
        PbxRejected when Asterisk answers with an error.
        """
        headers = dict(action)
        action_id = str(headers.get("ActionID") or f"ccgw-{next(self._ids)}")
        headers["ActionID"] = action_id
        data = encode_action(headers)
        writer = self._writer
        logging_in = headers.get("Action") == "Login"
        if writer is None or not (self.connected.is_set() or logging_in):
            raise PbxUnavailable(f"AMI is not connected; {headers.get('Action')} not sent")
        if action_id in self._pending:
            raise InvalidWireValue(f"ActionID {action_id} is already in use")
        future: asyncio.Future[list[AmiMessage]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(future, is_list, str(headers.get("Action", "")))
        try:
            writer.write(data)
            return await asyncio.wait_for(future, timeout_s or self.action_timeout_s)
        except TimeoutError:
            raise PbxTimeout(
                f"no answer to {headers.get('Action')} within "
                f"{timeout_s or self.action_timeout_s} s"
            ) from None
        finally:
            self._pending.pop(action_id, None)

    # --- the connection ------------------------------------------------------------------

    async def run_forever(self) -> None:
        """Connect, serve, and reconnect with back-off until cancelled."""
        label = "AMI {}:{}".format(*self._address)
        await reconnect_forever(self._serve_one_connection, label, self.max_backoff_s)

    async def _serve_one_connection(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*self._address), self.action_timeout_s
        )
        reason = "connection closed"
        try:
            banner = await asyncio.wait_for(reader.readline(), self.action_timeout_s)
            if not banner.startswith(b"Asterisk Call Manager"):
                raise PbxRejected(f"not an AMI server: {banner[:60]!r}")
            self._writer = writer
            self._last_received = time.monotonic()
            async with asyncio.TaskGroup() as tasks:
                reading = tasks.create_task(self._read(reader))
                await self.send({"Action": "Login", **self._login, "Events": EVENTS})
                self.connected.set()
                self.connections += 1
                log.info("AMI connected to %s:%s", *self._address)
                watchdog = tasks.create_task(self._watchdog(writer))
                await self._on_connected()
                self.refused = None
                reason = await reading
                watchdog.cancel()
        finally:
            self.connected.clear()
            self._writer = None
            writer.close()
            self._fail_pending(reason)
            if self.connections:
                self._on_lost(reason)

    async def _read(self, reader: asyncio.StreamReader) -> str:
        buffer = ""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return "Asterisk closed the connection"
            self._last_received = time.monotonic()
            buffer += chunk.decode("utf-8", errors="replace")
            *blocks, buffer = buffer.split(EOL + EOL)
            for block in blocks:
                message = parse_message(block)
                if message is not None:
                    self._route(message)

    def _route(self, message: AmiMessage) -> None:
        pending = self._pending.get(message.get("ActionID", ""))
        if pending is not None and not pending.future.done():
            if "Response" in message:
                if message["Response"] in ("Error", "Failure"):
                    pending.future.set_exception(self._refusal(pending.action, message))
                    return
                pending.items.append(message)
                if not pending.is_list:
                    pending.future.set_result(pending.items)
                return
            pending.items.append(message)
            if message.get("EventList") == "Complete" or message.get("Event", "").endswith(
                "Complete"
            ):
                pending.future.set_result(pending.items)
            return
        if "Event" in message:
            try:
                self._on_event(message)
            except Exception:  # one bad event must never take the connection down
                log.exception("AMI event handler failed on %s", message.get("Event"))

    def _refusal(self, action: str, message: AmiMessage) -> PbxRejected:
        """The error for a refused action, named; a missing permission is logged as such."""
        text = message.get("Message", "error")
        if text.strip().lower() == "permission denied":
            needs = WRITE_CLASSES.get(action, "a class it lacks")
            self.refused = (
                f"Asterisk refuses the AMI action {action} to user {self._login['Username']}: "
                f"Permission denied (manager.conf: write needs {needs})"
            )
            log.error("%s", self.refused)
        return PbxRejected(f"{action}: {text}" if action else text)

    async def _watchdog(self, writer: asyncio.StreamWriter) -> None:
        """Ping every interval without waiting; a link silent for `dead_after_s` is dead.

        A live Asterisk answers a Ping in milliseconds, so silence means a dead or half-open
        link, noticed within `dead_after_s + ping_interval_s` (4.5 s by default).
        """
        pings = itertools.count(1)
        while True:
            await asyncio.sleep(self.ping_interval_s)
            if time.monotonic() - self._last_received > self.dead_after_s:
                log.warning("AMI silent for %.1f s: closing the link", self.dead_after_s)
                writer.transport.abort()
                return
            # Not in the pending table: its answer only refreshes `_last_received`.
            writer.write(encode_action({"Action": "Ping", "ActionID": f"ping-{next(pings)}"}))

    def _fail_pending(self, reason: str) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(
                    PbxUnavailable(f"AMI link lost ({reason}); the action's outcome is unknown")
                )
        self._pending.clear()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
