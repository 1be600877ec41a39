"""A minimal, independent AMI reader for tests: what Asterisk itself says it bridged.

Deliberately not the controller's AMI client, so end-to-end tests do not grade the adapter
with its own words: a raw `tests.sandbox.ami.AmiSession` (only the framing, the package's
sans-IO `AmiParser`, is shared).
"""

from __future__ import annotations

import time
from collections import defaultdict

from ccgateway.sandbox.asterisk_config import OBSERVER
from tests.sandbox.ami import AmiSession, Message


class AmiObserver:
    def __init__(
        self, secret: str, host: str = "127.0.0.1", port: int = 5038, username: str = OBSERVER
    ) -> None:
        self._login = (username, secret)
        self._session = AmiSession(host, port, on_event=self._seen)
        self.events: list[Message] = self._session.events
        self._bridges: dict[str, set[tuple[str, str]]] = defaultdict(set)

    async def start(self) -> None:
        user, secret = self._login
        reply = await self._session.login(secret, user, events="call,user")
        assert reply.get("Response") == "Success", reply

    def _seen(self, message: Message) -> None:
        message["_received"] = f"{time.time():.6f}"  # when it reached us (not Asterisk's)
        if message.get("Event") == "BridgeEnter":
            self._bridges[message["BridgeUniqueid"]].add((message["Uniqueid"], message["Channel"]))

    def seen(self, event: str, **fields: str) -> list[Message]:
        """AMI events Asterisk sent of this name and with these fields (its own word)."""
        return [
            e
            for e in self.events
            if e.get("Event") == event and all(e.get(k) == v for k, v in fields.items())
        ]

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
        await self._session.close()
