"""Fakes of our own ports (Pbx, Clock) for service and API tests; never used end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ccgateway.domain.commands import HangUp, Monitor, PbxCommand, RingAgent, SendToFallback
from ccgateway.domain.events import PbxEvent
from ccgateway.domain.floor import FEATURES

T = TypeVar("T")


class FakePbx:
    """Records the commands it gets; the test plays the PBX by emitting events."""

    features = FEATURES

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

    def sent(self, kind: type[T]) -> list[T]:
        return [c for _, c in self.commands if isinstance(c, kind)]

    async def execute(self, command: PbxCommand) -> None:
        match command:
            case RingAgent():
                self.commands.append(("ring", command))
            case HangUp(channel_id=channel_id):
                self.commands.append(("hang_up", channel_id))
            case SendToFallback(call_id=call_id):
                self.commands.append(("fallback", call_id))
            case Monitor():
                self.commands.append(("monitor", command))
            case _:
                self.commands.append((type(command).__name__, command))

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
