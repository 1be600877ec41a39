"""Fakes of our own ports (Pbx, Clock) for service and API tests; never used end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ccgateway.domain.commands import Monitor, RingAgent
from ccgateway.domain.events import PbxEvent
from ccgateway.ports import DialplanTarget


class FakePbx:
    """Records the commands it gets; the test plays the PBX by emitting events."""

    def __init__(self, name: str = "asterisk") -> None:
        self.name = name
        self.commands: list[tuple[str, Any]] = []
        self._emit: Callable[[PbxEvent], None] | None = None
        self.running = asyncio.Event()

    async def run(self, emit: Callable[[PbxEvent], None]) -> None:
        self._emit = emit
        self.running.set()
        await asyncio.Event().wait()

    def emit(self, event: PbxEvent) -> None:
        assert self._emit is not None, "the dispatcher is not running"
        self._emit(event)

    def rings(self) -> list[RingAgent]:
        return [c for kind, c in self.commands if kind == "ring"]

    async def ring_agent(self, command: RingAgent) -> None:
        self.commands.append(("ring", command))

    async def hang_up(self, channel_id: str, reason: str = "") -> None:
        self.commands.append(("hang_up", channel_id))

    async def send_to_fallback(self, channel_id: str, reason: str) -> None:
        self.commands.append(("fallback", channel_id))

    async def redirect(self, channel_id: str, target: DialplanTarget) -> None:
        self.commands.append(("redirect", (channel_id, target)))

    async def play(self, channel_id: str, sound: str) -> None:
        self.commands.append(("play", (channel_id, sound)))

    async def hold(self, channel_id: str, music_class: str | None) -> None:
        self.commands.append(("hold", (channel_id, music_class)))

    async def record(self, channel_id: str, path: str) -> None:
        self.commands.append(("record", (channel_id, path)))

    async def monitor(self, command: Monitor) -> None:
        self.commands.append(("monitor", command))

    async def close(self) -> None:
        pass


class ManualClock:
    """Time that moves only when the test says so: hours of waiting cost nothing."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:  # 2023-11-14T22:13:20Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "time does not go back"
        self._now += seconds
