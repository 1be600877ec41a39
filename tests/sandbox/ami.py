"""A raw AMI session over an asyncio TCP socket, for checking the sandbox itself.

Deliberately not the controller's AMI client: these tests say what Asterisk does, in its
own words, whatever our adapter makes of it. Only the framing is shared: the bytes go
through the package's sans-IO `AmiParser`, which frames on bytes and decodes whole messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

from ccgateway.pbx.asterisk.ami import AmiParser
from ccgateway.sandbox.asterisk_config import OBSERVER

Message = dict[str, str]


class AmiSession:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        on_event: Callable[[Message], None] | None = None,
    ) -> None:
        """`on_event` sees each event as it arrives, before it joins `events`."""
        self.events: list[Message] = []
        self._address = (host, port)
        self._on_event = on_event
        self._responses: dict[str, asyncio.Future[Message]] = {}
        self._ids = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def login(
        self, secret: str, username: str = OBSERVER, events: str | None = None
    ) -> Message:
        """Connect and log in (`events`: the Login's event classes, e.g. "call,user"; all
        that the user may read if None); returns Asterisk's answer to the Login."""
        reader, self._writer = await asyncio.wait_for(asyncio.open_connection(*self._address), 5)
        parser, early = AmiParser(), []
        async with asyncio.timeout(5):
            while parser.banner is None:  # AmiParser refuses a first line that is no banner
                data = await reader.read(4096)
                assert data, "AMI closed the connection before its banner"
                early += parser.feed(data)
        assert parser.banner.startswith("Asterisk Call Manager/"), parser.banner
        for message in early:
            self._take(message)
        self._task = asyncio.create_task(self._read(reader, parser))
        login = {"Action": "Login", "Username": username, "Secret": secret}
        return await self.send(login if events is None else {**login, "Events": events})

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

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        while data := await reader.read(65536):
            for message in parser.feed(data):
                self._take(message)

    def _take(self, message: Message) -> None:
        # OriginateResponse has a Response and our ActionID too, but it is an event.
        is_response = "Response" in message and "Event" not in message
        if is_response and message.get("ActionID") in self._responses:
            future = self._responses[message["ActionID"]]
            if not future.done():
                future.set_result(message)
            return
        if self._on_event is not None:
            self._on_event(message)
        self.events.append(message)
