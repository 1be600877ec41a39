"""A minimal, independent AMI reader for tests: what Asterisk itself says it bridged.

Deliberately not the controller's AMI client, so end-to-end tests do not grade the adapter
with its own words.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict


class AmiObserver:
    def __init__(
        self, secret: str, host: str = "127.0.0.1", port: int = 5038, username: str = "ccgateway"
    ) -> None:
        self._address = (host, port)
        self._login = (username, secret)
        self._task: asyncio.Task[None] | None = None
        self.events: list[dict[str, str]] = []
        self._bridges: dict[str, set[tuple[str, str]]] = defaultdict(set)

    async def start(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*self._address), 5)
        await reader.readline()  # banner
        user, secret = self._login
        writer.write(
            f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
            "Events: call,user\r\n\r\n".encode()
        )
        await writer.drain()
        reply = await asyncio.wait_for(_read_message(reader), 5)
        assert reply.get("Response") == "Success", reply
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            message = await _read_message(reader)
            if not message:
                return
            message["_received"] = f"{time.time():.6f}"  # when it reached us (not Asterisk's)
            self.events.append(message)
            if message.get("Event") == "BridgeEnter":
                self._bridges[message["BridgeUniqueid"]].add(
                    (message["Uniqueid"], message["Channel"])
                )

    def bridged_pairs(self) -> dict[str, set[str]]:
        """Caller (trunk channel) uniqueid -> the agent devices it shared a bridge with."""
        pairs: dict[str, set[str]] = defaultdict(set)
        for members in self._bridges.values():
            agents = {
                name.rsplit("-", 1)[0] for _, name in members if name.startswith("PJSIP/agent")
            }
            for uniqueid, name in members:
                if name.startswith("PJSIP/trunk") and agents:
                    pairs[uniqueid] |= agents
        return dict(pairs)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.close()


async def _read_message(reader: asyncio.StreamReader) -> dict[str, str]:
    message: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            return message
        text = line.decode(errors="replace").rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, _, value = text.partition(":")
        message[key.strip()] = value.strip()
