"""A pair of installed controllers on PostgreSQL driving the sandbox Asterisk: the active is
frozen (SIGSTOP) with a caller waiting and a change sent to it, the standby takes over and
keeps the caller waiting, the frozen one resumes (SIGCONT) and exits: the PBX's own word
(AMI events, read by an observer of our own) shows it rang nobody, and the database shows it
wrote nothing; the new active serves the caller."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ccgateway.sandbox import Sandbox
from tests.e2e.ami_observer import AmiObserver
from tests.installed.conftest import ServedController
from tests.installed.test_pair import TAKEOVER_WITHIN_S, admin, database, pair, wait_for_role
from tests.persistence.conftest import postgres_url  # noqa: F401  (the fixture)

__all__ = ["database", "pair"]  # the fixtures, used by name

pytestmark = [pytest.mark.postgres, pytest.mark.asterisk]

CALLER = "+4930410001"


def on_asterisk(sandbox: Sandbox) -> dict[str, str]:
    return {
        "CCGW_ASTERISK__HOST": "127.0.0.1",
        "CCGW_ASTERISK__PORT": "5038",
        "CCGW_ASTERISK__SECRET": sandbox.ami_secret(),
    }


def ok(served: ServedController, method: str, path: str, body: object = None) -> Any:
    answer = admin(served, method, path, body)
    assert answer.is_success, f"{method} {path}: {answer.text}"
    return answer.json() if answer.content else None


def until(what: str, check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def waiting_call(served: ServedController) -> str | None:
    calls = ok(served, "GET", "/v1/calls")
    return next((c["call_id"] for c in calls if c.get("caller_number") == CALLER), None)


def pbx_ready(served: ServedController) -> bool:
    answer = admin(served, "GET", "/v1/health")
    return answer.status_code == 200 and bool(answer.json()["pbx_ready"])


async def test_a_frozen_active_resumed_after_the_takeover_rings_nobody_and_writes_nothing(
    asterisk_sandbox: Sandbox,
    pair: Callable[..., ServedController],
) -> None:
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    try:
        await asyncio.to_thread(scenario, asterisk_sandbox, pair, observer)
    finally:
        await observer.stop()


def scenario(sandbox: Sandbox, pair: Callable[..., ServedController], observer: Any) -> None:
    a = pair("a", on_asterisk(sandbox))
    wait_for_role(a, "active")
    until("a's PBX link", lambda: pbx_ready(a))
    ok(a, "POST", "/v1/skills", {"id": "ha", "name": "HA"})
    ok(a, "POST", "/v1/queues", {"id": "ha", "name": "HA", "extension": "410",
                                 "requires": {"ha": 5}})  # fmt: skip
    for k in (3, 4):
        ok(a, "POST", "/v1/agents", {"id": f"agent{k}", "name": f"A{k}",
                                     "device": f"PJSIP/agent{k}", "skills": {"ha": 7}})  # fmt: skip
    b = pair("b", on_asterisk(sandbox))
    wait_for_role(b, "standby")
    sandbox.call("410", hangup_after=30, caller=CALLER)
    until("the caller waiting on a", lambda: waiting_call(a))

    assert a.process is not None
    os.kill(a.process.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    late: list[object] = []

    def make_agent3_available() -> None:  # read by a only when it runs again
        try:
            late.append(admin(a, "POST", "/v1/agents/agent3/state", {"state": "available"}))
        except httpx.HTTPError as exc:
            late.append(exc)

    sender = threading.Thread(target=make_agent3_available)
    sender.start()
    assert wait_for_role(b, "active", within=TAKEOVER_WITHIN_S + 5)["epoch"] == 2
    took = time.monotonic() - stopped
    until("b's PBX link", lambda: pbx_ready(b))
    adopted = until("the caller still waiting, on b", lambda: waiting_call(b))
    print(f"b active {took:.2f} s after a's SIGSTOP; caller {adopted} adopted waiting")

    resumed_at = len(observer.events)
    os.kill(a.process.pid, signal.SIGCONT)
    assert a.process.wait(10) == 75, a.log()[-3000:]
    sender.join(10)
    time.sleep(1)  # what a could still have sent would have reached Asterisk by now
    after = observer.events[resumed_at:]
    rung = [e for e in after if e.get("Event") == "Newchannel"
            and e.get("Channel", "").startswith("PJSIP/agent3-")]  # fmt: skip
    assert rung == [], rung
    assert ok(b, "GET", "/v1/agents/agent3")["state"] != "available"  # its write: refused
    print("a after SIGCONT:", late, "| AMI events since:", [e.get("Event") for e in after])

    # The new active serves the caller.
    ok(b, "POST", "/v1/agents/agent4/state", {"state": "available"})
    until(
        "the caller bridged to agent4",
        lambda: "PJSIP/agent4" in observer.bridged_pairs().get(adopted, set()),
    )
    rings = [e for e in observer.events if e.get("Event") == "Newchannel"
             and e.get("Channel", "").startswith(("PJSIP/agent3-", "PJSIP/agent4-"))]  # fmt: skip
    assert len(rings) == 1  # agent4 once, agent3 never
