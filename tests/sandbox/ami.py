"""A raw AMI session over an asyncio TCP socket, for checking the sandbox itself.

Deliberately not the controller's AMI client: these tests say what Asterisk does, in its
own words, whatever our adapter makes of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

Message = dict[str, str]


class AmiSession:
    def __init__(self) -> None:
        self.events: list[Message] = []
        self._responses: dict[str, asyncio.Future[Message]] = {}
        self._ids = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def login(self, secret: str, username: str = "ccgateway") -> Message:
        """Connect to 127.0.0.1:5038 and log in; returns Asterisk's answer to the Login."""
        reader, self._writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 5038), 5)
        banner = await asyncio.wait_for(reader.readline(), 5)
        assert banner.startswith(b"Asterisk Call Manager/"), banner
        self._task = asyncio.create_task(self._read(reader))
        return await self.send({"Action": "Login", "Username": username, "Secret": secret})

    async def send(self, action: Message, timeout_s: float = 5.0) -> Message:
        """Send one action and wait for its response (matched by our ActionID)."""
        assert self._writer is not None
        action_id = f"sandbox-test-{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._responses[action_id] = future
        text = "".join(f"{k}: {v}\r\n" for k, v in {**action, "ActionID": action_id}.items())
        self._writer.write(text.encode() + b"\r\n")
        await self._writer.drain()
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._responses.pop(action_id, None)

    async def wait_for(self, match: Callable[[Message], bool], timeout_s: float = 10.0) -> Message:
        """The first event (already seen or still to come) that `match`es."""
        async with asyncio.timeout(timeout_s):
            while True:
                for event in self.events:
                    if match(event):
                        return event
                await asyncio.sleep(0.05)

    def seen(self, match: Callable[[Message], bool]) -> list[Message]:
        return [event for event in self.events if match(event)]

    async def list_action(self, action: Message, complete: str) -> list[Message]:
        """Run a list action (e.g. CoreShowChannels) and return the events of its list."""
        response = await self.send(action)
        assert response.get("Response") == "Success", response
        action_id = response["ActionID"]
        await self.wait_for(lambda e: e.get("Event") == complete and e.get("ActionID") == action_id)
        return [
            e for e in self.events if e.get("ActionID") == action_id and e.get("Event") != complete
        ]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        message: Message = {}
        while line := await reader.readline():
            text = line.decode(errors="replace").rstrip("\r\n")
            if text:
                key, _, value = text.partition(":")
                message[key.strip()] = value.strip()
                continue
            # OriginateResponse has a Response and our ActionID too, but it is an event.
            is_response = "Response" in message and "Event" not in message
            if is_response and message.get("ActionID") in self._responses:
                future = self._responses[message["ActionID"]]
                if not future.done():
                    future.set_result(message)
            elif message:
                self.events.append(message)
            message = {}
