"""An AMI connection fit to run for months.

The wire is framed on bytes by the sans-IO `ami.AmiParser`, which hands each whole message to
panoramisk's parser. panoramisk's `Manager` is not used: a long-running controller cannot live with
what it does on its own (README.md, "Why our own AMI connection"): it re-sends unanswered
actions after a reconnect (an Originate would dial twice), never checks its pings (a
half-open link goes unnoticed), leaks a future per timed-out action, lets an exception in an
event handler close the socket, and writes header values with CR/LF unchecked (one value can
inject a second action).

This client instead:
- checks every header name and value for CR, LF and NUL and for AMI's 1024-byte line limit
  before anything is written (`InvalidWireValue`);
- gives every action a timeout and always removes it from the pending table;
- fails every pending action with `PbxUnavailable` when the link drops, and never re-sends;
- pings every `ping_interval_s` and declares the link dead when nothing at all has been
  received for `dead_after_s`;
- reconnects with capped, jittered back-off and calls `on_connected` (the resync) each time
  (the connection itself is `pbx/link.py`'s `LinkSupervisor`, shared with the ESL client);
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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ccgateway.pbx.asterisk.ami import AmiMessage, AmiParser, HeaderValue, encode_action
from ccgateway.pbx.asterisk.translate import unwanted
from ccgateway.pbx.link import LinkMeter, LinkSupervisor, fail_all
from ccgateway.pbx.wire import check_wire_value
from ccgateway.ports import InvalidWireValue, PbxRejected, PbxTimeout, PbxUnavailable

log = logging.getLogger(__name__)
# The event classes the controller reads (Login's Events mask): "call" carries Hangup,
# HangupRequest, OriginateResponse and DeviceStateChange, "user" the dialplan's UserEvents,
# "dialplan" Newexten (a caller taken out of our contexts) and HangupHandlerRun (every VarSet
# comes with it: manager.conf's filters, translate.manager_filters, keep those off the wire).
# Anything else (test events every second on a `read = all` user, CEL, security) stays off
# the wire. List actions' events (CoreShowChannel ...) are answers, not subject to the mask.
EVENTS = "call,user,dialplan"
# manager.conf `write` classes, any one of which lets Asterisk 22 take the action
# (main/manager.c, res/res_manager_devicestate.c). Login and Ping need none. The minimal set
# for the controller is call,originate,reporting.
WRITE_CLASSES = {
    "CoreShowChannels": "reporting (or system)",
    "DeviceStateList": "call or reporting",
    "Status": "call (or system, reporting)",
    "CoreStatus": "reporting (or system)",
    "CoreSettings": "reporting (or system)",
    "DBGetTree": "reporting (or system)",
    "Originate": "originate",
    "Redirect": "call",
    "Setvar": "call",
    "Getvar": "call or reporting",
    "Hangup": "call (or system)",
}


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[list[AmiMessage]]
    is_list: bool
    action: str
    items: list[AmiMessage] = field(default_factory=list)


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
        meter: LinkMeter | None = None,
    ) -> None:
        """`meter`: told each action's round trip (the controller's instruments)."""
        self._login = {
            "Username": check_wire_value("Username", username),
            "Secret": check_wire_value("Secret", secret),
        }
        self._on_event, self._on_connected = on_event, on_connected
        self.action_timeout_s = action_timeout_s
        self.dead_after_s = dead_after_s
        self._writer: asyncio.StreamWriter | None = None
        self._parser = AmiParser()
        self._greeting: asyncio.Future[str] | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._pings = itertools.count(1)
        self._meter = meter or LinkMeter()
        self.link = LinkSupervisor(
            f"AMI {host}:{port}",
            "Asterisk",
            (host, port),
            self,
            self._resync,
            on_lost,
            timeout_s=action_timeout_s,
            watch_every_s=ping_interval_s,
            max_backoff_s=max_backoff_s,
        )
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
        if writer is None or not (self.link.connected.is_set() or logging_in):
            raise PbxUnavailable(f"AMI is not connected; {headers.get('Action')} not sent")
        if not self.link.may_write():
            raise PbxUnavailable(
                f"this controller may not command; {headers.get('Action')} not sent"
            )
        if action_id in self._pending:
            raise InvalidWireValue(f"ActionID {action_id} is already in use")
        future: asyncio.Future[list[AmiMessage]] = asyncio.get_running_loop().create_future()
        name = str(headers.get("Action", ""))
        self._pending[action_id] = _Pending(future, is_list, name)
        sent_at = time.monotonic()
        try:
            writer.write(data)
            # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the answer when a
            # cancel comes as it arrives, and the cancel is lost (a stop then hangs; gh-86296)
            async with asyncio.timeout(timeout_s or self.action_timeout_s):
                answer = await future
        except PbxRejected:  # answered, with an error
            self._meter.answered(name, sent_at)
            raise
        except TimeoutError:
            self._meter.unanswered(name)
            raise PbxTimeout(
                f"no answer to {headers.get('Action')} within "
                f"{timeout_s or self.action_timeout_s} s"
            ) from None
        else:
            self._meter.answered(name, sent_at)
            return answer
        finally:
            self._pending.pop(action_id, None)

    async def run_forever(self) -> None:
        """Connect, serve, and reconnect with back-off until cancelled."""
        await self.link.run_forever()

    async def _resync(self) -> None:
        await self._on_connected()
        self.refused = None

    # --- the protocol, for the LinkSupervisor ----------------------------------------------

    def connection_made(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._parser = AmiParser(drop=unwanted)
        self._greeting = asyncio.get_running_loop().create_future()

    async def handshake(self) -> None:
        assert self._greeting is not None  # set by connection_made
        async with asyncio.timeout(self.action_timeout_s):  # not wait_for: see `send`
            await self._greeting
        await self.send({"Action": "Login", **self._login, "Events": EVENTS})

    def data_received(self, data: bytes) -> str | None:
        for message in self._parser.feed(data):
            self._route(message)
        greeting = self._greeting
        if self._parser.banner is not None and greeting is not None and not greeting.done():
            greeting.set_result(self._parser.banner)
        return None

    async def is_alive(self, silent_s: float) -> bool:
        """Ping every interval without waiting; a link silent for `dead_after_s` is dead.

        A live Asterisk answers a Ping in milliseconds, so silence means a dead or half-open
        link, noticed within `dead_after_s + ping_interval_s` (4.5 s by default).
        """
        if silent_s > self.dead_after_s:
            log.warning("AMI silent for %.1f s: closing the link", self.dead_after_s)
            return False
        if self._writer is not None and self.link.may_write():
            # Not in the pending table: its answer only refreshes the link's `last_received`.
            ping = {"Action": "Ping", "ActionID": f"ping-{next(self._pings)}"}
            self._writer.write(encode_action(ping))
        return True

    def connection_lost(self, reason: str) -> None:
        self._writer = None
        if self._greeting is not None:
            fail_all(
                [self._greeting], PbxUnavailable(f"AMI link lost before the banner ({reason})")
            )
        lost = PbxUnavailable(f"AMI link lost ({reason}); the action's outcome is unknown")
        fail_all((pending.future for pending in self._pending.values()), lost)
        self._pending.clear()

    # --- what comes in -----------------------------------------------------------------------

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

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
