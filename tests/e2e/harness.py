"""The whole controller in-process against a real sandbox PBX, for end-to-end tests.

Real adapter (AsteriskPbx, or FreeSwitchPbx with the FreeSWITCH sandbox's settings),
dispatcher, SQLite store and API (through ASGI); what the PBX really did is read from a
separate raw connection of the test's own (AmiObserver, or tests/sandbox/esl_observer.py's
EslObserver), so a test checks the PBX's word, not the controller's own account.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx

from ccgateway.app import Controller, build_controller
from ccgateway.ports import Pbx
from ccgateway.settings import Settings
from tests.e2e.ami_observer import AmiObserver

ADMIN_KEY = "e2e-admin-key-0123456789"


class Observer(Protocol):
    """A raw reader of the PBX's own events (AMI or Event Socket)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def seen(self, event: str, **fields: str) -> list[dict[str, str]]: ...


class Centre:
    def __init__(
        self, api: httpx.AsyncClient, observer: Any, sandbox: Any, controller: Controller
    ) -> None:
        self.api, self.observer, self.sandbox = api, observer, sandbox
        self.controller = controller  # for what the API does not offer (a PBX command)

    async def call(self, method: str, path: str, json: Any = None) -> Any:
        response = await self.api.request(method, path, json=json)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    async def until(
        self,
        what: str,
        check: Callable[[], Awaitable[Any] | Any],
        timeout_s: float = 30.0,
        explain: Callable[[], Awaitable[Any]] | None = None,
    ) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            if time.monotonic() > deadline:
                context = await explain() if explain is not None else ""
                raise AssertionError(f"timed out waiting for {what} {context}")
            await asyncio.sleep(0.25)

    async def interactions(self) -> list[dict[str, Any]]:
        return list(await self.call("GET", "/v1/interactions"))

    async def agent(self, k: int) -> dict[str, Any]:
        return dict(await self.call("GET", f"/v1/agents/agent{k}"))

    async def place(
        self,
        extension: str,
        caller: str,
        hangup_after: float,
        key: str | None = None,
        speak_after: float | None = None,
    ) -> None:
        await asyncio.to_thread(
            self.sandbox.call,
            extension,
            count=1,
            hangup_after=hangup_after,
            caller=caller,
            wait=False,
            key=key,
            speak_after=speak_after,
        )

    def seen(self, event: str, **fields: str) -> list[dict[str, str]]:
        """Events the PBX sent of this name and with these fields (its own word)."""
        return list(self.observer.seen(event, **fields))

    async def finished(self, n: int) -> bool:
        return len(await self.interactions()) >= n


@asynccontextmanager
async def running_centre(
    sandbox: Any,
    db: Path,
    observer: Observer | None = None,
    pbxes: Sequence[Pbx] | None = None,
    **settings: Any,
) -> AsyncIterator[Centre]:
    """The controller built from `settings` (the Asterisk sandbox's by default), its API
    ready once the PBX link is; `observer` (default: an AmiObserver) reads the PBX's word;
    `pbxes` replace the adapters the settings would build."""
    controller = build_controller(
        Settings(database_url=f"sqlite:///{db}", admin_key=ADMIN_KEY, **settings), pbxes
    )
    if observer is None:
        observer = AmiObserver(secret=sandbox.ami_secret())
    await observer.start()
    task = asyncio.create_task(controller.dispatcher.run())
    transport = httpx.ASGITransport(app=controller.api)
    try:
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://ccgw",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ) as api:
            centre = Centre(api, observer, sandbox, controller)
            await centre.until("the PBX link", lambda: _health(api))
            yield centre
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await controller.dispatcher.pbx.close()
        await observer.stop()
        controller.engine.dispose()


async def _health(api: httpx.AsyncClient) -> bool:
    response = await api.get("/v1/health")
    return response.status_code == 200 and bool(response.json().get("pbx_ready"))


async def set_states(centre: Centre, states: dict[int, str]) -> None:
    """Agent K (agent{K}) to each state; a pause with the reason "break"."""
    for k, state in states.items():
        body: dict[str, Any] = {"state": state}
        if state == "paused":
            body["reason"] = "break"
        await centre.call("POST", f"/v1/agents/agent{k}/state", body)


async def records(centre: Centre, **match: Any) -> list[dict[str, Any]]:
    """The interaction records with these values."""
    found = await centre.interactions()
    return [r for r in found if all(r.get(k) == v for k, v in match.items())]
