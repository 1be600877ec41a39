"""The real stack for service and API tests: SQLite stores on a file, the real Center,
Dispatcher (running as a task), CenterService and API; only the PBX and the clock are fakes
of our own ports."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import Engine

from ccgateway.api.application import create_api
from ccgateway.api.sessions import Passwords, SessionManager
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.persistence import (
    SqlCallbackStore,
    SqlConfigStore,
    SqlInteractionStore,
    SqlKeyStore,
    SqlTaskStore,
    open_database,
)
from ccgateway.persistence.accounts import SqlSessionStore, SqlUserStore
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.ports import ConfigStore
from ccgateway.services.center_service import CenterService, load_center
from ccgateway.services.dialer_service import DialerService, load_outbound
from ccgateway.services.dispatcher import Dispatcher
from ccgateway.services.event_hub import EventHub
from ccgateway.services.history_service import HistoryService
from ccgateway.services.work_service import WorkService
from ccgateway.testing import FakePbx, ManualClock

ADMIN = "test-admin-key-0123456789"
T = TypeVar("T")


@dataclass
class Stack:
    engine: Engine
    config: ConfigStore
    interactions: SqlInteractionStore
    keys: SqlKeyStore
    clock: ManualClock
    pbx: FakePbx
    center: Center
    hub: EventHub
    dispatcher: Dispatcher
    service: CenterService
    api: FastAPI
    outbound: SqlOutboundStore
    dialer: DialerService
    task: asyncio.Task[None] | None = None
    client: httpx.AsyncClient | None = None

    # --- life ------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        db: Path,
        clock: ManualClock | None = None,
        config: Callable[[SqlConfigStore], ConfigStore] = lambda store: store,
        interactions: Callable[[Engine], SqlInteractionStore] = SqlInteractionStore,
        outbound: Callable[[Engine], SqlOutboundStore] = SqlOutboundStore,
    ) -> Stack:
        """Wire everything by hand, as the composition root does, on the SQLite file `db`;
        `config`, `interactions` and `outbound` make the stores (a test may slow one down
        or count what it is asked)."""
        clock = clock or ManualClock()
        engine = open_database(f"sqlite:///{db}")
        sql_config = SqlConfigStore(engine, now=clock.now)
        store = config(sql_config)
        interaction_store = interactions(engine)
        keys = SqlKeyStore(engine, now=clock.now)
        numbers = itertools.count(1)
        center = Center(new_leg_id=lambda: f"ccgw-leg-{next(numbers)}")
        load_center(center, store, clock.now())
        outbound_store = outbound(engine)
        load_outbound(center, outbound_store, clock.now())
        hub = EventHub()
        pbx = FakePbx()
        callbacks, tasks = SqlCallbackStore(engine), SqlTaskStore(engine)
        dispatcher = Dispatcher(
            center,
            pbx,
            store,
            interaction_store,
            clock,
            hub,
            callbacks=callbacks,
            tasks=tasks,
            outbound=outbound_store,
        )
        service = CenterService(dispatcher, store, interaction_store, clock)
        work = WorkService(dispatcher, callbacks, tasks)
        dialer = DialerService(dispatcher, outbound_store, clock)
        # People's sessions on the same clock, so a test can let one go idle; argon2id with
        # a small cost (the controller's is 64 MiB and 3 passes: half a second a login here).
        cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        sessions = SessionManager(
            SqlUserStore(engine), SqlSessionStore(engine), now=clock.now, passwords=cheap
        )
        notes = SqlNoteStore(engine, now=clock.now)
        history = HistoryService(
            dispatcher, interaction_store, outbound_store, callbacks, notes, clock
        )
        api = create_api(service, keys, ADMIN, hub, work, dialer, sessions, history=history)
        return cls(
            engine,
            store,
            interaction_store,
            keys,
            clock,
            pbx,
            center,
            hub,
            dispatcher,
            service,
            api,
            outbound_store,
            dialer,
        )

    @classmethod
    async def start(
        cls,
        db: Path,
        clock: ManualClock | None = None,
        config: Callable[[SqlConfigStore], ConfigStore] = lambda store: store,
        interactions: Callable[[Engine], SqlInteractionStore] = SqlInteractionStore,
        outbound: Callable[[Engine], SqlOutboundStore] = SqlOutboundStore,
    ) -> Stack:
        stack = cls.build(db, clock, config, interactions, outbound)
        stack.task = asyncio.create_task(stack.dispatcher.run())
        await stack.pbx.running.wait()
        transport = httpx.ASGITransport(app=stack.api)
        stack.client = httpx.AsyncClient(transport=transport, base_url="http://test")
        return stack

    async def stop(self) -> None:
        await self.dispatcher.drain_writes()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.client is not None:
            await self.client.aclose()
        self.engine.dispose()

    # --- driving it ------------------------------------------------------------------------

    async def settle(self) -> None:
        """Until the dispatcher has taken everything emitted so far, fired what is due at
        the clock's now, carried out its commands and written its records."""

        async def nothing(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, []

        await self.dispatcher.perform(nothing)
        for _ in range(3):  # the PBX commands run as tasks of their own
            await asyncio.sleep(0)
        await self.dispatcher.drain_writes()

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()

    async def emit(self, *events: Any) -> None:
        for event in events:
            self.pbx.emit(event)
        await self.settle()

    async def until(self, check: Callable[[], T], timeout_s: float = 3.0) -> T:
        deadline = time.monotonic() + timeout_s
        while not (result := check()):
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.005)
        return result

    # --- the API -----------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, json: Any = None, key: str | None = ADMIN
    ) -> tuple[int, Any]:
        assert self.client is not None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await self.client.request(method, path, json=json, headers=headers)
        return response.status_code, response.json() if response.content else None

    async def ok(self, method: str, path: str, json: Any = None, key: str = ADMIN) -> Any:
        status, body = await self.call(method, path, json, key)
        assert status < 300, (status, body)
        return body

    async def error(
        self, method: str, path: str, json: Any = None, key: str | None = ADMIN
    ) -> tuple[int, str, str]:
        """(status, error_id, message) of a refused request."""
        status, body = await self.call(method, path, json, key)
        assert status >= 400, (status, body)
        assert set(body) == {"error_id", "message", "details"}, body
        return status, body["error_id"], body["message"]
