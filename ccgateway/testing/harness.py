"""A real controller on the test doubles: what an integration test starts from."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from pydantic import SecretStr

from ccgateway.api.sessions import Passwords
from ccgateway.app import Controller, build_controller
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.events import PbxEvent
from ccgateway.settings import Settings
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.pbx import FakePbx

ADMIN_KEY = "test-admin-key-0123456789"  # the harness's admin key unless its settings say


def hermetic_settings(database_url: str = "sqlite://", admin_key: str = ADMIN_KEY) -> Settings:
    """Settings for a test: a scratch SQLite database by default and `admin_key`, everything else
    at its default. Neither the environment (CCGW_*) nor a settings file is read, so a test
    behaves the same on a developer's machine as in CI."""
    return Settings.model_construct(database_url=database_url, admin_key=SecretStr(admin_key))


def counting_ids(prefix: str = "ccgw-leg-") -> Callable[[], str]:
    """Leg ids `ccgw-leg-1`, `ccgw-leg-2` ...: the same on every run, so a test can name them
    (the controller's own are random). The `ccgw-` mark is what the adapters recognise."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


def quick_passwords() -> Passwords:
    """argon2id at the smallest cost: a login takes a millisecond instead of half a second.
    For tests only: such hashes are cheap to crack."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass(frozen=True)
class Harness:
    """A controller built by the real composition root (`build_controller`: stores, centre,
    dispatcher, services, API), with a `FakePbx` as its only PBX and a `ManualClock`."""

    controller: Controller
    pbx: FakePbx
    clock: ManualClock

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        """Run the dispatcher (and with it the fake PBX's link) for the `async with` block;
        then wait for the pending writes, stop it and close the database (so once a harness).
        A dispatcher that fails to start raises its error here rather than hanging the test."""
        dispatcher = self.controller.dispatcher
        task = asyncio.create_task(dispatcher.run(), name="dispatcher")
        try:
            await self._started(task)
            yield self
            await dispatcher.drain_writes()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.controller.engine.dispose()

    async def _started(self, dispatcher: asyncio.Task[None], timeout_s: float = 10.0) -> None:
        linked = asyncio.create_task(self.pbx.running.wait())
        try:
            done, _ = await asyncio.wait(
                {dispatcher, linked}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            linked.cancel()
        if dispatcher in done:
            dispatcher.result()  # its failure, raised here
            raise RuntimeError("the dispatcher stopped before the PBX link started")
        if not self.pbx.running.is_set():
            raise TimeoutError(f"the dispatcher did not start the PBX link in {timeout_s} s")

    async def settle(self) -> None:
        """Until the dispatcher has taken everything emitted so far, fired what is due at the
        clock's now, carried out its commands and written its records."""

        async def nothing(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, []

        dispatcher = self.controller.dispatcher
        await dispatcher.perform(nothing)  # wakes the dispatcher: it fires what is due
        for _ in range(3):  # the PBX commands run as tasks of their own
            await asyncio.sleep(0)
        await dispatcher.drain_writes()

    async def emit(self, *events: PbxEvent) -> None:
        """What the PBX reports, in order, and `settle`: the dispatcher takes each event at
        the clock's present time, not at a later `advance`."""
        for event in events:
            self.pbx.emit(event)
        await self.settle()

    async def advance(self, seconds: float) -> None:
        """Move the clock on and let the dispatcher act on what fell due."""
        self.clock.advance(seconds)
        await self.settle()


def build_harness(
    settings: Settings | None = None,
    *,
    clock: ManualClock | None = None,
    pbx: FakePbx | None = None,
    new_id: Callable[[], str] | None = None,
) -> Harness:
    """A controller on `settings` (default: `hermetic_settings()`, a scratch database)
    with the doubles in place of the PBX and the clock, counting leg ids and quick password
    hashing; not yet running (`async with harness.running():`)."""
    clock = clock or ManualClock()
    pbx = pbx or FakePbx()
    controller = build_controller(
        settings or hermetic_settings(),
        [pbx],
        clock=clock,
        new_id=new_id or counting_ids(),
        passwords=quick_passwords(),
    )
    return Harness(controller, pbx, clock)
