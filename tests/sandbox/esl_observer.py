"""A raw Event Socket reader of the tests' own: what FreeSWITCH itself says happened.

Deliberately not the controller's client (only asyncio streams and `urllib.parse`), so the
real-FreeSWITCH tests do not grade the adapter with its own words. `frames` keeps every event
frame byte for byte, for the recorded transcripts under tests/pbx/freeswitch/recorded/.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse

from ccgateway.sandbox.freeswitch_config import ESL_PORT

# What the end-to-end tests look at: bridges, parks, playbacks, hang-ups, background jobs
# and the dialplan's own CUSTOM events (a bare CUSTOM delivers nothing: name the subclasses).
WATCHED = (
    "CHANNEL_CREATE CHANNEL_PARK CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE "
    "CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB "
    "CUSTOM ccgw::consent ccgw::recording_toggle ccgw::callback ccgw::feature"
)


class EslObserver:
    """Events FreeSWITCH sent on a connection of the test's own, decoded header by header
    (split the lines first, decode each value after), the inner body as `_body`."""

    def __init__(self, password: str, port: int = ESL_PORT, watched: str = WATCHED) -> None:
        self._password, self._port, self._watched = password, port, watched
        self.events: list[dict[str, str]] = []
        self.frames: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self._port), 5)
        await _message(reader)  # auth/request
        writer.write(f"auth {self._password}\n\n".encode())
        headers, _, _ = await _message(reader)
        assert headers.get("Reply-Text", "").startswith("+OK"), headers
        writer.write(f"event plain {self._watched}\n\n".encode())
        await _message(reader)
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                headers, body, raw = await _message(reader, timeout_s=None)
            except asyncio.IncompleteReadError:
                return  # FreeSWITCH went away (a test that kills it): what was seen stays

            if headers.get("Content-Type") != "text/event-plain":
                continue
            self.frames.append(raw)
            head, _, inner = body.partition("\n\n")
            event = {}
            for line in head.splitlines():
                key, sep, value = line.partition(": ")
                if sep:
                    event[key] = urllib.parse.unquote(value)
            event["_body"] = inner
            self.events.append(event)

    def named(self, name: str, **fields: str) -> list[dict[str, str]]:
        """Events of this Event-Name whose headers have these values."""
        return [
            e
            for e in self.events
            if e.get("Event-Name") == name and all(e.get(k) == v for k, v in fields.items())
        ]

    def seen(self, event: str, **fields: str) -> list[dict[str, str]]:
        """The harness's name for `named` (tests/e2e/harness.py, Centre.seen)."""
        return self.named(event, **fields)

    def first(self, name: str) -> dict[str, str] | None:
        found = self.named(name)
        return found[0] if found else None

    def bridges_of(self, uuid: str) -> list[dict[str, str]]:
        """CHANNEL_BRIDGE events with this channel on either side (one event per bridge)."""
        return [
            e
            for e in self.named("CHANNEL_BRIDGE")
            if uuid
            in (
                e.get("Unique-ID"),
                e.get("Other-Leg-Unique-ID"),
                e.get("Bridge-A-Unique-ID"),
                e.get("Bridge-B-Unique-ID"),
            )
        ]

    def bridged_channel_names(self, uuid: str) -> set[str]:
        """The names of the channels this one was bridged to (e.g. sofia/ccgw-sandbox/...
        @127.0.0.1:5202 for agent 2's phone)."""
        names = set()
        for e in self.bridges_of(uuid):
            sides = {
                e.get("Unique-ID", ""): e.get("Channel-Name", ""),
                e.get("Other-Leg-Unique-ID", ""): e.get("Other-Leg-Channel-Name", ""),
            }
            names |= {name for side, name in sides.items() if side != uuid and name}
        return names

    def hung_up(self, uuid: str) -> dict[str, str] | None:
        found = self.named("CHANNEL_HANGUP_COMPLETE", **{"Unique-ID": uuid})
        return found[0] if found else None

    def played(self, uuid: str) -> list[str]:
        """What playback/say/read applications ran on this channel, in order (their data)."""
        apps = ("playback", "say", "play_and_get_digits", "read")
        return [
            f"{e.get('Application')}:{e.get('Application-Data', '')}"
            for e in self.named("CHANNEL_EXECUTE", **{"Unique-ID": uuid})
            if e.get("Application") in apps
        ]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()


async def _message(
    reader: asyncio.StreamReader, timeout_s: float | None = 10.0
) -> tuple[dict[str, str], str, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\n\n"), timeout_s)
    headers = dict(line.split(": ", 1) for line in head.decode().splitlines() if ": " in line)
    length = int(headers.get("Content-Length", "0"))
    body = await reader.readexactly(length) if length else b""
    return headers, body.decode(), head + body
