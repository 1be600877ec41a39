"""A fake of the `Pbx` port: it records the commands it is given, and the test plays the PBX."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ccgateway.domain.commands import HangUp, Monitor, PbxCommand, RingAgent, SendToFallback
from ccgateway.domain.events import PbxEvent
from ccgateway.domain.floor import FEATURES

T = TypeVar("T")


class FakePbx:
    """A PBX that connects at once, never fails and never speaks first.

    The controller's code above the `Pbx` port runs for real: the test says what the PBX saw
    (`emit` a `CallWaiting`, an `AgentLegAnswered` ...) and reads what the centre asked of it
    (`commands`, `sent`, `wait_for`). It stands for our own port only: an end-to-end test
    runs on a real Asterisk or FreeSWITCH instead.

    `commands` keeps every command in order as `(kind, value)`: `("ring", RingAgent)`,
    `("hang_up", channel_id)`, `("fallback", call_id)`, `("monitor", Monitor)`, and
    `(class name, command)` for any other command.
    """

    def __init__(
        self,
        name: str = "asterisk",
        features: frozenset[str] = FEATURES,
        trunks: frozenset[str] = frozenset(),
    ) -> None:
        """`trunks`: the other PBXs it reaches over a trunk (ports.Trunked)."""
        self.name = name
        self.features = features  # all of them by default, as Asterisk has
        self.trunks = trunks
        self.commands: list[tuple[str, Any]] = []
        self.running = asyncio.Event()  # set once the dispatcher runs this PBX's link
        self._emit: Callable[[PbxEvent], None] | None = None
        self._arrived = asyncio.Event()

    async def run(self, emit: Callable[[PbxEvent], None]) -> None:
        """Hold the "link" until cancelled, as a real adapter's connection would."""
        self._emit = emit
        self.running.set()
        await asyncio.Event().wait()

    def reaches(self, pbx: str) -> bool:
        return pbx in self.trunks

    def emit(self, event: PbxEvent) -> None:
        """Hand `event` to the dispatcher, as the adapter does with what the PBX reports."""
        if self._emit is None:
            raise RuntimeError("the dispatcher is not running this PBX yet (await running)")
        self._emit(event)

    def rings(self) -> list[RingAgent]:
        """Every agent rung so far, in order."""
        return [c for kind, c in self.commands if kind == "ring"]

    def sent(self, kind: type[T]) -> list[T]:
        """Every command of `kind` received so far, in order."""
        return [c for _, c in self.commands if isinstance(c, kind)]

    async def wait_for(self, kind: type[T], count: int = 1, timeout_s: float = 5.0) -> list[T]:
        """The commands of `kind` received so far, once there are at least `count`.

        The dispatcher carries out each command as a task of its own, so a command is seen
        here a few loop turns after the event or request that caused it; this waits for it
        rather than guessing how many turns. Raises TimeoutError after `timeout_s`."""
        async with asyncio.timeout(timeout_s):
            while len(found := self.sent(kind)) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return found

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
        self._arrived.set()

    async def close(self) -> None:
        pass
