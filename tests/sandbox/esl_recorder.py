"""A loopback proxy between the controller and a real FreeSWITCH's Event Socket that keeps the
whole conversation, both ways, one ESL message a record, in the transcripts' jsonl form
(`{"t", "conn", "dir", "raw"}`, as tests/fixtures/esl and tests/pbx/freeswitch/recorded):
what CI replays with tests/pbx/freeswitch/scripted.py. The password the controller logs in
with is written as `ClueCon` (FreeSWITCH's stock one), never as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from pathlib import Path

CONTENT_LENGTH = re.compile(rb"(?m)^Content-Length: (\d+)$")


class EslRecorder:
    def __init__(self, upstream_port: int, password: str) -> None:
        self._upstream, self._password = upstream_port, password
        self.records: list[dict[str, object]] = []
        self._started = time.monotonic()
        self._started_at = time.time()  # the same moment on the machine's wall clock
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections = 0

    async def start(self) -> int:
        """Listen on a free loopback port (returned) for the controller."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def mark(self) -> int:
        """Where the conversation is now (a test's window starts here)."""
        return len(self.records)

    def commands(self) -> list[tuple[float, str]]:
        """Each command the controller sent, by its first line, and when it passed (the
        machine's wall clock, to set beside a controller's log)."""
        return [
            (self._started_at + float(str(r["t"])), str(r["raw"]).split("\n", 1)[0])
            for r in self.records
            if r["dir"] == "C->S"
        ]

    def save(
        self, path: Path, since: int, conn: str = "ctl", without_owner_mark: bool = False
    ) -> None:
        """A transcript one scenario replays on its own: the connection's opening (the
        greeting, the login, the subscription and the first resync's answer, without the
        events of earlier calls) and every record of the window from `since`.
        `without_owner_mark`: leave out the owner mark's rounds (pbx/mark_keeper.py: its
        commands and FreeSWITCH's answers to them), for a scenario replayed by an adapter
        with no owner, which sends none; everything kept is as FreeSWITCH sent it."""
        records = [r for r in self.records if r["conn"] == conn]
        cut = sum(1 for r in self.records[:since] if r["conn"] == conn)
        if without_owner_mark:
            kept = _without_owner_mark(records)
            cut = sum(1 for i in kept if i < cut)
            records = [records[i] for i in kept]
        lines = [json.dumps(r) for r in [*_opening(records[:cut]), *records[cut:]]]
        path.write_text("\n".join(lines) + "\n")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        conn = "ctl" if self._connections == 1 else f"ctl{self._connections}"
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self._upstream), 5
        )
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, conn, "C->S")),
            asyncio.create_task(self._pump(up_reader, writer, conn, "S->C")),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            self._tasks.difference_update(pumps)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: str,
        direction: str,
    ) -> None:
        buffer = b""
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
            buffer += chunk
            messages, buffer = _split(buffer)
            for raw in messages:
                text = raw.decode()
                if direction == "C->S" and text.startswith("auth "):
                    text = text.replace(self._password, "ClueCon")
                elapsed = round(time.monotonic() - self._started, 4)
                self.records.append({"t": elapsed, "conn": conn, "dir": direction, "raw": text})


def _split(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole ESL messages (headers, a blank line, Content-Length bytes of body) and the rest."""
    messages = []
    while b"\n\n" in buffer:
        head, _, after = buffer.partition(b"\n\n")
        match = CONTENT_LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        if len(after) < length:
            break
        messages.append(head + b"\n\n" + after[:length])
        buffer = after[length:]
    return messages, buffer


OWNER_MARK = ("api global_getvar CCGW_OWNER", "api strepoch", "api global_setvar CCGW_OWNER=")


def _without_owner_mark(records: list[dict[str, object]]) -> list[int]:
    """The indexes of the records that are not an owner mark command or its reply. FreeSWITCH
    answers a connection's commands in the order they came, and the keeper's may be in
    flight with others: each reply goes to the oldest command still unanswered."""
    kept: list[int] = []
    pending: deque[bool] = deque()  # the unanswered commands: is each the mark's?
    for i, record in enumerate(records):
        raw = str(record["raw"])
        if record["dir"] == "C->S":
            pending.append(raw.startswith(OWNER_MARK))
            if pending[-1]:
                continue
        elif raw.startswith(REPLIES) and pending and pending.popleft():
            continue
        kept.append(i)
    return kept


REPLIES = ("Content-Type: api/response", "Content-Type: command/reply")


def _opening(records: list[dict[str, object]]) -> list[dict[str, object]]:
    """The login, the subscription and the first resync (`show channels`, then the phones:
    `list_users`, `sofia xmlstatus`, each profile's registrations, a `uuid_dump` per
    channel) and the server's replies to them, without any event."""
    out, commands = [], 0
    for record in records:
        if record["dir"] == "C->S":
            commands += 1
            if commands > 2 and not str(record["raw"]).startswith(RESYNC):
                break
        elif "Content-Type: text/event-plain" in str(record["raw"]):
            continue
        out.append(record)
    return out


# the resync's reads (the end marks', end_marks.py, and the core's uuid last)
RESYNC = (
    "api show channels",
    "api list_users",
    "api sofia xmlstatus",
    "api uuid_dump",
    "api hash_dump",
    "api global_getvar core_uuid",
)
