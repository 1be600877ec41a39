"""One PBX, one brain (issue 14), as installed: a second `ccgateway serve` with a database of
its own and the same AMI settings, started beside a controller with callers waiting, leaves
every caller alone and says who owns the PBX; once the first is killed it takes the PBX
within the mark's dead-after time plus a resync and serves the waiting callers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ccgateway.sandbox import Sandbox
from tests.e2e.ami_observer import AmiObserver
from tests.installed.conftest import ServedController

pytestmark = pytest.mark.asterisk
CALLERS = 3
DEAD_AFTER_S = 3.5  # the AMI link's default dead-after: the mark's staleness too


def until(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def configure(api: httpx.Client, agent_state: str) -> None:
    """Queue 200 and agent1 in `agent_state` (paused: the callers wait)."""
    for path, body in (
        ("/v1/queues", {"id": "q200", "name": "q200", "extension": "200"}),
        ("/v1/agents", {"id": "agent1", "name": "Agent 1", "device": "PJSIP/agent1"}),
    ):
        api.post(path, json=body).raise_for_status()
    state: dict[str, Any] = {"state": agent_state}
    if agent_state == "paused":
        state["reason"] = "break"
    api.post("/v1/agents/agent1/state", json=state).raise_for_status()


class Watching:
    """A raw AMI connection (tests/e2e/ami_observer.py) read in a thread of its own: what
    Asterisk says happened, not what either controller says."""

    def __init__(self, secret: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.observer = AmiObserver(secret=secret)
        self._run(self.observer.start())

    def _run(self, work: Any) -> None:
        asyncio.run_coroutine_threadsafe(work, self.loop).result(10)

    def events(self, *names: str) -> list[dict[str, str]]:
        return [dict(e) for e in list(self.observer.events) if e.get("Event") in names]

    def close(self) -> None:
        self._run(self.observer.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def health(api: httpx.Client) -> dict[str, Any]:
    answer: dict[str, Any] = api.get("/v1/health").json()
    return answer


def waiting(api: httpx.Client) -> list[str]:
    return [c["call_id"] for c in api.get("/v1/calls").json() if c["state"] == "waiting"]


def all_waiting(api: httpx.Client) -> list[str] | None:
    found = waiting(api)
    return found if len(found) == CALLERS else None


def test_a_second_controller_leaves_the_callers_alone_until_the_owner_dies(
    asterisk_sandbox: Sandbox, launch_controller: Callable[..., ServedController]
) -> None:
    ami = {"CCGW_ASTERISK__PORT": "5038", "CCGW_ASTERISK__SECRET": asterisk_sandbox.ami_secret()}
    first = launch_controller(env=ami)
    with httpx.Client(base_url=first.base_url, headers=first.auth, timeout=5) as api1:
        until("the first controller's PBX", lambda: health(api1)["pbx_ready"])
        configure(api1, "paused")
        batch = asterisk_sandbox.call("200", count=CALLERS, hangup_after=60)
        try:
            held = until("the callers waiting", lambda: all_waiting(api1))
            watching = Watching(asterisk_sandbox.ami_secret())
            second = launch_controller(env=ami)  # an empty database, the same AMI
            with httpx.Client(base_url=second.base_url, headers=second.auth, timeout=5) as api2:
                owner = until("the second's passive health", lambda: health(api2)["passive"])
                time.sleep(2 * DEAD_AFTER_S)  # long past its first look at the PBX
                assert health(api2)["pbx_ready"] is False
                assert owner["asterisk"].endswith("(epoch 0)")
                assert "stays passive" in second.log() and owner["asterisk"] in second.log()
                assert sorted(waiting(api1)) == sorted(held)  # nobody moved or hung up
                gone = watching.events("Hangup", "Newchannel")
                assert gone == [], gone  # no caller ended, no leg originated
                configure(api2, "available")  # its own database: the agent is ready there
                first.process.kill()  # type: ignore[union-attr]
                killed = time.monotonic()
                until("the takeover", lambda: health(api2)["pbx_ready"], 3 * DEAD_AFTER_S)
                took = time.monotonic() - killed
                assert took < DEAD_AFTER_S + 3.0, took
                assert health(api2)["passive"] == {}
                served = until(
                    "a waiting caller served by the second",
                    lambda: [c for c in api2.get("/v1/calls").json() if c["state"] == "connected"],
                )
                assert served[0]["call_id"] in held
            watching.close()
        finally:
            batch.stop()
