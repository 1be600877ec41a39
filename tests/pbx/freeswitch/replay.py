"""A loopback Event Socket server that replays the server side of a real transcript.

On connect it sends what FreeSWITCH sent before the first command; then, for each command the
client sends, what FreeSWITCH sent after the corresponding recorded command. Only ids change:
the recorded Job-UUIDs become the client's, plus any mapping the test gives (a recorded
channel uuid -> the leg id the controller chose), with every Content-Length recomputed.
A read the adapter has added since a transcript was recorded (`SPLICED`) is answered with
what a real FreeSWITCH answered to it, without taking a recorded turn.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path


def _answer(transcript: Path, conn: str, command: str) -> list[str]:
    """What FreeSWITCH sent after `command` (the first time) in a transcript."""
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    records = [r for r in records if r["conn"] == conn]
    at = next(i for i, r in enumerate(records) if r["raw"] == command + "\n\n")
    replies = []
    for record in records[at + 1 :]:
        if record["dir"] == "C->S":
            break
        replies.append(record["raw"])
    return replies


# Reads the adapter has made since most transcripts were recorded, answered where a
# transcript has nothing of them as a real FreeSWITCH 1.10.12 answered them
# (recorded/end_marks_none.jsonl): the end marks' when it had none (`-ERR no reply`), and
# its core's uuid (a restart since the last connection, translate.core_restarted).
END_MARKS_READ, CORE_READ = "api hash_dump db ccgw_end", "api global_getvar core_uuid"
_NONE = Path(__file__).parent / "recorded" / "end_marks_none.jsonl"
SPLICED = {read: _answer(_NONE, "ctl3", read) for read in (END_MARKS_READ, CORE_READ)}


class ReplayServer:
    def __init__(
        self,
        transcript: Path,
        conn: str,
        ids: dict[str, str] | None = None,
        close_after: int | None = None,
    ) -> None:
        records = [json.loads(line) for line in transcript.read_text().splitlines()]
        records = [r for r in records if r["conn"] == conn]
        self.turns: list[tuple[str | None, list[str]]] = [(None, [])]
        for record in records:
            if record["dir"] == "C->S":
                self.turns.append((record["raw"], []))
            else:
                self.turns[-1][1].append(record["raw"])
        self.ids = dict(ids or {})
        self.close_after = close_after  # on the first connection, drop after this many commands
        self.received: list[str] = []
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._send(writer, self.turns[0][1])
        buffer = b""
        for number, (recorded, replies) in enumerate(self.turns[1:], start=1):
            while True:
                while b"\n\n" not in buffer:
                    chunk = await reader.read(65536)
                    if not chunk:
                        writer.close()
                        return
                    buffer += chunk
                command, _, buffer = buffer.partition(b"\n\n")
                text = command.decode()
                self.received.append(text)
                spliced = SPLICED.get(text)
                if spliced is None or (recorded or "").startswith(text + "\n"):
                    break
                self._send(writer, spliced)  # a read newer than the transcript
                await writer.drain()
            self._learn_job_uuid(recorded or "", text)
            if self.connections == 1 and self.close_after is not None and number > self.close_after:
                writer.transport.abort()
                return
            self._send(writer, replies)
            await writer.drain()
        await reader.read()  # the script is over: wait for the client to leave
        writer.close()

    def _learn_job_uuid(self, recorded: str, sent: str) -> None:
        old = re.search(r"Job-UUID: (\S+)", recorded)
        new = re.search(r"Job-UUID: (\S+)", sent)
        if old and new:
            self.ids[old.group(1)] = new.group(1)

    def _send(self, writer: asyncio.StreamWriter, raws: list[str]) -> None:
        for raw in raws:
            writer.write(self.substitute(raw).encode())

    def substitute(self, raw: str) -> str:
        head, sep, body = raw.partition("\n\n")
        if not sep or "Content-Length" not in head:
            return self._replace(raw)
        if "text/event-plain" in head:
            inner_head, inner_sep, inner_body = body.partition("\n\n")
            inner_body = self._replace(inner_body)
            inner_head = self._replace(inner_head)
            if inner_sep and "Content-Length: " in inner_head:
                inner_head = re.sub(
                    r"Content-Length: \d+",
                    f"Content-Length: {len(inner_body.encode())}",
                    inner_head,
                )
            body = inner_head + inner_sep + inner_body
        else:
            body = self._replace(body)
        head = re.sub(
            r"Content-Length: \d+", f"Content-Length: {len(body.encode())}", self._replace(head)
        )
        return head + sep + body

    def _replace(self, text: str) -> str:
        for old, new in self.ids.items():
            text = text.replace(old, new)
        return text
