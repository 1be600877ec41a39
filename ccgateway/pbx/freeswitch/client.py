"""An Event Socket connection over asyncio (inbound mode: we connect to FreeSWITCH).

Why not greenswitch 0.0.19, the client the design names: it runs on gevent (it cannot share
an asyncio loop, and monkey-patching breaks asyncio and uvicorn), it URL-decodes a whole event
before splitting it into lines (a caller's display name can forge `Unique-ID`), its reader dies
on `event json` bodies while `connected` stays true, a pending `send()` blocks forever after a
disconnect, it has no reconnect, and it writes commands verbatim (`x\\n\\napi hupall` is two
commands). See ccgateway/pbx/freeswitch/README.md.

Replies (`command/reply`, `api/response`) come back in the order commands were sent, so they
are matched first in, first out. A `bgapi` carries a Job-UUID we chose; its result arrives
later as a BACKGROUND_JOB event, handed to `on_event` like any other. FreeSWITCH sends
HEARTBEAT every 20 s: a link silent for `dead_after_s` is probed with `api status` and dropped
if that goes unanswered. The connection itself (connect, reconnect, watchdog, failing what
was pending) is `pbx/link.py`'s `LinkSupervisor`, shared with the AMI client.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from ccgateway.pbx.freeswitch import esl
from ccgateway.pbx.link import LinkMeter, LinkSupervisor, fail_all
from ccgateway.ports import PbxRejected, PbxTimeout, PbxUnavailable

log = logging.getLogger(__name__)
EventHeaders = esl.EventHeaders


class EslClient:
    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        on_event: Callable[[EventHeaders], None],
        on_connected: Callable[[], Awaitable[None]],
        on_lost: Callable[[str], None],
        events: Iterable[str] = (),
        custom: Iterable[str] = (),
        command_timeout_s: float = 5.0,
        dead_after_s: float = 45.0,
        max_backoff_s: float = 10.0,
        meter: LinkMeter | None = None,
    ) -> None:
        """`meter`: told each command's round trip (the controller's instruments)."""
        self._auth = esl.auth(password)
        self._subscription = esl.subscribe(["HEARTBEAT", "BACKGROUND_JOB", *events], custom)
        self._on_event = on_event
        self.command_timeout_s = command_timeout_s
        self.dead_after_s = dead_after_s
        self._writer: asyncio.StreamWriter | None = None
        self._parser = esl.EslParser()
        self._greeting: asyncio.Future[esl.Frame] | None = None
        self._replies: deque[asyncio.Future[esl.Frame]] = deque()
        self._jobs: dict[str, asyncio.Future[str]] = {}  # Job-UUID -> its result, awaited
        self._meter = meter or LinkMeter()
        self.link = LinkSupervisor(
            f"ESL {host}:{port}",
            "FreeSWITCH",
            (host, port),
            self,
            on_connected,
            on_lost,
            timeout_s=command_timeout_s,
            watch_every_s=min(5.0, dead_after_s / 3),
            max_backoff_s=max_backoff_s,
        )

    # --- commands ------------------------------------------------------------------------

    async def api(self, *args: str, timeout_s: float | None = None) -> str:
        """A blocking `api` command's text. Keep it for quick commands: while it runs,
        FreeSWITCH holds back this connection's events."""
        frame = await self._command(esl.api(*args), args[0], timeout_s)
        return frame.body

    async def bgapi_start(self, *args: str, timeout_s: float | None = None) -> str:
        """Start a background command and return its Job-UUID once FreeSWITCH accepted it.

        The result comes later as a BACKGROUND_JOB event to `on_event`.
        """
        job = str(uuid.uuid4())
        reply = await self._command(esl.bgapi(job, *args), args[0], timeout_s)
        if not reply.reply_text.startswith("+OK"):
            raise PbxRejected(reply.reply_text or "bgapi refused")
        return job

    async def bgapi(self, *args: str, timeout_s: float | None = None) -> str:
        """A background command's result text (`+OK ...` or `-ERR ...`, from its
        BACKGROUND_JOB event), for quick commands whose answer matters: unlike `api`, the
        connection's events keep flowing meanwhile. `timeout_s` bounds the whole wait."""
        job = str(uuid.uuid4())
        result: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._jobs[job] = result  # before sending: the event may follow the reply at once
        try:
            reply = await self._command(esl.bgapi(job, *args), args[0], timeout_s)
            if not reply.reply_text.startswith("+OK"):
                raise PbxRejected(reply.reply_text or "bgapi refused")
            try:
                async with asyncio.timeout(timeout_s or self.command_timeout_s):
                    return await asyncio.shield(result)  # not wait_for: see `_command`
            except TimeoutError:
                raise PbxTimeout(f"no result of {args[0]} from FreeSWITCH in time") from None
        finally:
            self._jobs.pop(job, None)

    async def _command(
        self, data: bytes, name: str, timeout_s: float | None, allow_before_ready: bool = False
    ) -> esl.Frame:
        """Send `data` and await its reply; `name` (the command's word, from our code)
        labels its round trip."""
        writer = self._writer
        if writer is None or not (self.link.connected.is_set() or allow_before_ready):
            raise PbxUnavailable("the Event Socket is not connected; nothing was sent")
        if not self.link.may_write():
            raise PbxUnavailable(f"this controller may not command; {name} not sent")
        future: asyncio.Future[esl.Frame] = asyncio.get_running_loop().create_future()
        self._replies.append(future)
        sent_at = time.monotonic()
        writer.write(data)
        try:
            # shield: a timed-out reply still arrives later and must keep its place in line
            # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the reply when a
            # cancel comes as it arrives, and the cancel is lost (a stop then hangs; gh-86296)
            async with asyncio.timeout(timeout_s or self.command_timeout_s):
                reply = await asyncio.shield(future)
        except TimeoutError:
            self._meter.unanswered(name)
            raise PbxTimeout("no reply from FreeSWITCH in time") from None
        self._meter.answered(name, sent_at)
        return reply

    async def run_forever(self) -> None:
        """Connect, serve, and reconnect with back-off until cancelled."""
        await self.link.run_forever()

    # --- the protocol, for the LinkSupervisor ----------------------------------------------

    def connection_made(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._parser = esl.EslParser()
        self._greeting = asyncio.get_running_loop().create_future()

    async def handshake(self) -> None:
        assert self._greeting is not None  # set by connection_made
        async with asyncio.timeout(self.command_timeout_s):  # not wait_for: see `_command`
            hello = await self._greeting
        if hello.content_type != "auth/request":
            raise PbxRejected(f"not an Event Socket: {hello.content_type!r}")
        reply = await self._command(self._auth, "auth", None, allow_before_ready=True)
        if not reply.reply_text.startswith("+OK"):
            raise PbxRejected(f"Event Socket refused the password: {reply.reply_text}")
        reply = await self._command(self._subscription, "event", None, allow_before_ready=True)
        if not reply.reply_text.startswith("+OK"):
            raise PbxRejected(f"event subscription refused: {reply.reply_text}")

    def data_received(self, data: bytes) -> str | None:
        for frame in self._parser.feed(data):
            if self._greeting is not None and not self._greeting.done():
                self._greeting.set_result(frame)
            elif frame.content_type in ("command/reply", "api/response"):
                self._reply(frame)
            elif frame.content_type == "text/disconnect-notice":
                return "FreeSWITCH said goodbye"
            else:
                self._event(frame)
        return None

    async def is_alive(self, silent_s: float) -> bool:
        """A link silent for `dead_after_s` (HEARTBEAT comes every 20 s) is probed with
        `api status`; no answer means dead."""
        if silent_s < self.dead_after_s:
            return True
        try:
            await self._command(esl.api("status"), "status", self.command_timeout_s)
        except (PbxTimeout, PbxUnavailable):
            log.warning(
                "ESL silent for %.0f s and no answer to a probe: closing", self.dead_after_s
            )
            return False
        return True

    def connection_lost(self, reason: str) -> None:
        self._writer = None
        lost = PbxUnavailable(f"Event Socket lost ({reason}); the outcome is unknown")
        greeting = [] if self._greeting is None else [self._greeting]
        fail_all([*greeting, *self._replies, *self._jobs.values()], lost)
        self._replies.clear()

    # --- what comes in -----------------------------------------------------------------------

    def _reply(self, frame: esl.Frame) -> None:
        while self._replies:
            future = self._replies.popleft()
            if not future.done():
                future.set_result(frame)
                return

    def _event(self, frame: esl.Frame) -> None:
        try:
            event = esl.parse_event(frame)
            if event is None:
                return
            if event.get("Event-Name") == "BACKGROUND_JOB":
                waiting = self._jobs.get(event.get("Job-UUID", ""))
                if waiting is not None and not waiting.done():
                    waiting.set_result(event.get("_body", ""))
            if event.get("Event-Name") != "HEARTBEAT":
                self._on_event(event)
        except Exception:  # one bad event must never take the connection down
            log.exception("ESL event handling failed")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
