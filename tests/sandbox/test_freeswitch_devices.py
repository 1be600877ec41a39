"""Agent phones' states and the dead-controller guard on a real FreeSWITCH 1.10.12 (the sandbox).

- A phone busy on a call the controller did not place (a direct call to `user/1001`) is not
  offered a waiting caller; once that call ends, the caller is put through to it.
- After a controller restart no phone is `unknown`: the resync reads the registrations (a
  phone that is off is unavailable) and the channels in use, and the call it adopts keeps
  FreeSWITCH's own times: the wait up to the bridge, the talk from it.
- The sandbox's hold timeout (`up(hold_timeout_s=...)`, `--hold-timeout`) is the guard's: a
  caller with hold music and no controller is ended at that time with ALLOTTED_TIMEOUT.

FreeSWITCH is in no package registry this project reaches: these tests skip when no binary
is found ($CCGW_FREESWITCH_BIN, else `freeswitch` on PATH; see
tests/sandbox/test_freeswitch_sandbox.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from ccgateway.app import Controller, build_controller
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.freeswitch_probes import esl_api
from ccgateway.sandbox.lock import asterisk_lock
from ccgateway.settings import Settings
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS
from tests.sandbox.test_freeswitch_recording import EslObserver
from tests.sandbox.test_freeswitch_sandbox import until

ADMIN = "fs-devices-admin-key-0123"
HOLD_TIMEOUT_S = 12  # long enough for the waits below, short enough to watch the guard
DIRECT = "direct-call-to-1001"


pytestmark = [
    *MARKS,
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-devices"))
        try:
            # agent 3's phone is off (unregistered) from the start
            sandbox.up(agents=3, phones={3: "off"}, binary=BINARY, hold_timeout_s=HOLD_TIMEOUT_S)
            yield sandbox
        finally:
            sandbox.down()


class Centre:
    """A controller on the sandbox's FreeSWITCH, with its API; `restart` is a new
    controller on the same database, as after a crash."""

    def __init__(self, sandbox: FreeSwitchSandbox, db: Path) -> None:
        self.sandbox, self.db = sandbox, db
        self.controller: Controller | None = None
        self.api: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = Settings(
            database_url=f"sqlite:///{self.db}",
            admin_key=ADMIN,
            asterisk={"enabled": False},
            freeswitch={"enabled": True, "port": ESL_PORT},
        )
        pbx = FreeSwitchPbx(port=ESL_PORT, password=self.sandbox.esl_password())
        self.controller = build_controller(settings, [pbx])
        self._task = asyncio.create_task(self.controller.dispatcher.run())
        self.api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.controller.api),
            base_url="http://ccgw",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        await until("the FreeSWITCH link", self._ready)

    async def stop(self) -> None:
        assert self.controller is not None and self.api is not None and self._task is not None
        await self.api.aclose()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.controller.dispatcher.pbx.close()
        self.controller.engine.dispose()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        assert self.api is not None
        response = await self.api.request(method, path, json=body)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None

    async def _ready(self) -> bool:
        assert self.api is not None
        response = await self.api.get("/v1/health")
        return response.status_code == 200 and bool(response.json().get("pbx_ready"))

    async def device(self, agent: str) -> str:
        return str((await self.call("GET", f"/v1/agents/{agent}"))["device_state"])

    async def calls(self, number: str) -> list[dict[str, Any]]:
        found = await self.call("GET", "/v1/calls")
        return [c for c in found if c.get("caller_number") == number]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    centre = Centre(sandbox, tmp_path_factory.mktemp("fs-devices-db") / "ccgateway.db")
    await centre.start()
    try:
        await centre.call("POST", "/v1/skills", {"id": "en", "name": "English"})
        queue = {"id": "desk", "name": "Desk", "extension": "320", "requires": {"en": 1},
                 "ring_timeout_s": 8, "wrapup_s": 1, "pbx": "freeswitch"}  # fmt: skip
        await centre.call("POST", "/v1/queues", queue)
        for k in (1, 3):  # agent 3's phone is off: never offered, never rung
            agent = {"id": f"agent{k}", "name": f"Agent {k}", "device": f"user/100{k}",
                     "skills": {"en": 5}, "pbx": "freeswitch"}  # fmt: skip
            await centre.call("POST", "/v1/agents", agent)
            await centre.call("POST", f"/v1/agents/agent{k}/state", {"state": "available"})
        yield centre
    finally:
        await centre.stop()


async def test_a_phone_busy_on_a_direct_call_is_offered_the_caller_only_once_it_hangs_up(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    try:
        assert await centre.device("agent1") == "available"
        assert await centre.device("agent3") == "unavailable"
        # a call to the phone that the controller did not place (sipp answers it)
        sandbox.api(f"bgapi originate {{origination_uuid={DIRECT}}}user/1001 &park()")
        await until("agent1's phone in use", lambda: _device_is(centre, "agent1", "in_use"))

        number = "+4930198001"
        await asyncio.to_thread(sandbox.call, "320", hangup_after=30, caller=number)
        await until("the caller waiting", lambda: _state_is(centre, number, "waiting"))
        await asyncio.sleep(4.0)
        # not offered: no leg of ours was created, and the caller still waits
        assert not [e for e in observer.named("CHANNEL_CREATE") if e["Unique-ID"] != DIRECT and
                    e.get("Call-Direction") == "outbound"]  # fmt: skip
        assert await _state_is(centre, number, "waiting")

        sandbox.api(f"uuid_kill {DIRECT}")
        # (the phone is available for a moment only: the controller rings it at once)
        bridge = await until("the bridge", lambda: observer.first("CHANNEL_BRIDGE"), 15)
        [ended] = [e for e in observer.named("CHANNEL_HANGUP_COMPLETE") if e["Unique-ID"] == DIRECT]
        offered_after = _seconds(ended, bridge)
        print(f"the caller was put through {offered_after:.2f} s after the direct call ended")
        assert 0 < offered_after < 5
        assert await _state_is(centre, number, "connected")
    finally:
        await observer.stop()


async def test_after_a_restart_phones_are_known_and_the_adopted_call_keeps_its_times(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    """Continues the call put through above (the caller hangs up 30 s after the answer)."""
    number = "+4930198001"
    [before] = await centre.calls(number)
    await centre.stop()  # the controller dies; FreeSWITCH keeps the bridged call
    await asyncio.sleep(1.0)
    await centre.start()
    # agent 1's phone is on the adopted call, agent 3's is off: neither is unknown
    assert await centre.device("agent1") == "in_use"
    assert await centre.device("agent3") == "unavailable"
    [adopted] = await until("the adopted call", lambda: _connected(centre, number))
    print(f"before: {before}\nadopted: {adopted}")
    assert adopted["call_id"] == before["call_id"]
    # FreeSWITCH's microseconds, not whole seconds from the leg's creation
    assert adopted["wait_s"] == pytest.approx(before["wait_s"], abs=0.1)
    assert _at(adopted["answered_at"]) == pytest.approx(_at(before["answered_at"]), abs=0.1)


async def test_the_guard_ends_a_caller_at_the_sandbox_s_hold_timeout(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await centre.stop()  # the controller is down: only FreeSWITCH's guard is left
    try:
        observer = EslObserver(sandbox.esl_password())
        await observer.start()
        try:
            await asyncio.to_thread(sandbox.call, "320", hangup_after=60, caller="+4930198002")
            park = await until("the caller parked", lambda: _parked(observer, "+4930198002"))
            # hold music as the adapter starts it: park alone would not show the music guard
            esl_api(sandbox.esl_password(), f"uuid_broadcast {park['Unique-ID']} "
                    "local_stream://moh aleg")  # fmt: skip
            ended = await until(
                "the guard", lambda: _ended(observer, park["Unique-ID"]), HOLD_TIMEOUT_S + 10
            )
        finally:
            await observer.stop()
        held = _seconds(park, ended)
        print(f"ended by the guard after {held:.2f} s ({ended['Hangup-Cause']})")
        assert ended["Hangup-Cause"] == "ALLOTTED_TIMEOUT"
        assert park["variable_playback_timeout_sec"] == str(HOLD_TIMEOUT_S)
        assert HOLD_TIMEOUT_S - 0.5 <= held <= HOLD_TIMEOUT_S + 1.5
    finally:
        await centre.start()  # the module's fixture stops it


# --- helpers -------------------------------------------------------------------------------


async def _device_is(centre: Centre, agent: str, state: str) -> bool:
    return await centre.device(agent) == state


async def _state_is(centre: Centre, number: str, state: str) -> bool:
    return any(c["state"] == state for c in await centre.calls(number))


async def _connected(centre: Centre, number: str) -> list[dict[str, Any]]:
    return [c for c in await centre.calls(number) if c["state"] == "connected"]


def _parked(observer: EslObserver, number: str) -> dict[str, str] | None:
    for event in observer.named("CHANNEL_PARK"):
        if event.get("Caller-Caller-ID-Number") == number:
            return event
    return None


def _ended(observer: EslObserver, uuid: str) -> dict[str, str] | None:
    found = [e for e in observer.named("CHANNEL_HANGUP_COMPLETE") if e["Unique-ID"] == uuid]
    return found[0] if found else None


def _seconds(first: dict[str, str], then: dict[str, str]) -> float:
    return (int(then["Event-Date-Timestamp"]) - int(first["Event-Date-Timestamp"])) / 1e6


def _at(moment: str | float) -> float:
    return moment if isinstance(moment, float) else datetime.fromisoformat(moment).timestamp()
