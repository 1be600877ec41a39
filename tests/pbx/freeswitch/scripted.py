"""An Event Socket server whose every message is taken from the real transcripts.

Each command the client sends is answered with the recorded answer (and the events that
followed it) of a recorded command of the same kind, chosen by the test; messages can also
be pushed at any time (a caller arriving or hanging up). Only ids are substituted.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from pathlib import Path

from tests.pbx.freeswitch.replay import SPLICED, ReplayServer

Turn = tuple[str, list[str]]  # the recorded command and what FreeSWITCH sent after it


def recorded_turns(transcript: Path, conn: str) -> list[Turn]:
    """turns[0] is what the server sent before the first command ("" as its command)."""
    turns: list[Turn] = [("", [])]
    for line in transcript.read_text().splitlines():
        record = json.loads(line)
        if record["conn"] != conn:
            continue
        if record["dir"] == "C->S":
            turns.append((record["raw"], []))
        else:
            turns[-1][1].append(record["raw"])
    return turns


IDLE = Path(__file__).parent / "recorded" / "devices_resync_voicemail_guard.jsonl"


def answer_idle_phones(server: ScriptedServer, times: int = 3) -> None:
    """Answer the resync's reading of the phones (list_users, sofia xmlstatus, each
    profile's registrations) as a real FreeSWITCH did with two phones registered (1001,
    1002) and 1003 off (recorded/devices_resync_voicemail_guard.jsonl), `times` over."""
    turns = recorded_turns(IDLE, "ctl")
    for prefix in ("api list_users", "api sofia xmlstatus profile", "api sofia xmlstatus"):
        recorded = next(t for t in turns if t[0].startswith(prefix))
        for _ in range(times):
            server.answer(prefix, recorded)


class ScriptedServer:
    def __init__(self, greeting: list[str], ids: dict[str, str] | None = None) -> None:
        self.greeting = greeting
        self.answers: dict[str, deque[Turn]] = {}
        self.received: list[str] = []
        self._subst = ReplayServer.__new__(ReplayServer)
        self._subst.ids = dict(ids or {})
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self.unanswered: list[str] = []

    @property
    def ids(self) -> dict[str, str]:
        return self._subst.ids

    def answer(self, prefix: str, turn: Turn) -> None:
        """Answer the next command starting with `prefix` with this recorded turn."""
        self.answers.setdefault(prefix, deque()).append(turn)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def push(self, raws: list[str]) -> None:
        assert self._writer is not None, "no client connected"
        for raw in raws:
            self._writer.write(self._subst.substitute(raw).encode())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.push(self.greeting)
        buffer = b""
        while True:
            while b"\n\n" not in buffer:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
            raw, _, buffer = buffer.partition(b"\n\n")
            command = raw.decode()
            self.received.append(command)
            prefix = max(
                (p for p in self.answers if command.startswith(p) and self.answers[p]),
                key=len,
                default=None,
            )
            if prefix is None:
                if command in SPLICED:  # a newer read, answered as FreeSWITCH did (replay.py)
                    self.push(SPLICED[command])
                    await writer.drain()
                    continue
                self.unanswered.append(command)
                continue
            recorded, replies = self.answers[prefix].popleft()
            for pattern in (r"Job-UUID: (\S+)", r"origination_uuid=([^,}\s]+)"):
                old, new = (re.search(pattern, text) for text in (recorded, command))
                if old and new:  # the recorded id becomes the one the client chose
                    self.ids[old.group(1)] = new.group(1)
            self.push(replies)
            await writer.drain()
