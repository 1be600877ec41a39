"""What the FreeSWITCH end-to-end tests (test_freeswitch_e2e_*.py) share: the skip when no
binary exists, a locked sandbox per module, the controller through tests/e2e/harness.py with
FreeSWITCH's settings and a raw Event Socket observer, and the agents' phones as FreeSWITCH
names them.

FreeSWITCH is in no package registry this project reaches: without a binary
($CCGW_FREESWITCH_BIN, else `freeswitch` on PATH) these tests skip, never fail (CI has none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.sandbox import SandboxError
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox, find_binary
from ccgateway.sandbox.freeswitch_config import ESL_PORT, phone_port, user_id
from ccgateway.sandbox.lock import asterisk_lock
from tests.e2e.harness import Centre, running_centre
from tests.sandbox.esl_observer import EslObserver

LOCK = Path("/tmp/ccgw-freeswitch.lock")  # the same lock as test_freeswitch_sandbox.py


def _binary() -> Path | None:
    try:
        return find_binary()
    except SandboxError:
        return None


BINARY = _binary()
MARKS = [
    pytest.mark.freeswitch,
    pytest.mark.skipif(
        BINARY is None,
        reason="no FreeSWITCH binary ($CCGW_FREESWITCH_BIN or `freeswitch` on PATH): "
        "FreeSWITCH is in no package registry we reach; build it by hand to run these",
    ),
]


@contextmanager
def freeswitch_sandbox(
    state: Path, agents: int, phones: Mapping[int, str] | None = None
) -> Iterator[FreeSwitchSandbox]:
    """A sandbox FreeSWITCH in `state` (its ports are fixed: one at a time, hence the lock),
    brought down whatever happens."""
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(state)
        try:
            sandbox.up(agents=agents, phones=phones, binary=BINARY)
            yield sandbox
        finally:
            sandbox.down()


def freeswitch_settings(sandbox: FreeSwitchSandbox, **freeswitch: Any) -> dict[str, Any]:
    """Settings of a controller that drives the sandbox FreeSWITCH alone."""
    return {
        "asterisk": {"enabled": False},
        "freeswitch": {
            "enabled": True,
            "port": ESL_PORT,
            "password_file": sandbox.password_file,
            **freeswitch,
        },
    }


@asynccontextmanager
async def freeswitch_centre(
    sandbox: FreeSwitchSandbox, db: Path, pbx: FreeSwitchPbx | None = None, **freeswitch: Any
) -> AsyncIterator[Centre]:
    """tests/e2e/harness.py's running centre on the sandbox FreeSWITCH (through `pbx` if
    given, else the adapter its settings build); `centre.observer` is an EslObserver
    (FreeSWITCH's own events)."""
    observer = EslObserver(sandbox.esl_password())
    settings = freeswitch_settings(sandbox, **freeswitch)
    pbxes = None if pbx is None else [pbx]
    async with running_centre(sandbox, db, observer, pbxes, **settings) as centre:
        yield centre


def agent(k: int, **fields: Any) -> dict[str, Any]:
    """An agent of the FreeSWITCH sandbox: agent K's phone is directory user 1000+K."""
    body = {"id": f"agent{k}", "name": f"Agent {k}", "device": f"user/{user_id(k)}"}
    return body | {"pbx": "freeswitch"} | fields


def queue(**fields: Any) -> dict[str, Any]:
    return {"pbx": "freeswitch", **fields}


def bridged_agents(observer: EslObserver, uuid: str) -> set[int]:
    """The agents whose phones FreeSWITCH bridged this caller to, from its CHANNEL_BRIDGE
    events: a phone is known by its contact's port (agent K's is 5200+K)."""
    found = set()
    for name in observer.bridged_channel_names(uuid):
        for k in range(1, 20):
            if name.endswith(f"@127.0.0.1:{phone_port(k)}"):
                found.add(k)
    return found


async def waiting_caller(
    centre: Centre, queue_id: str, extension: str, number: str, hangup_after: float
) -> str:
    """A queue with agent1 logged in but paused (so it takes callers and offers nobody),
    and a caller from `number` waiting in it: its call id."""
    body = queue(id=queue_id, name=queue_id, extension=extension, wrapup_s=0)
    await centre.call("POST", "/v1/queues", body)
    await centre.call("POST", "/v1/agents", agent(1))
    await centre.call("POST", "/v1/agents/agent1/state", {"state": "paused", "reason": "break"})
    center = centre.controller.dispatcher.center
    await centre.until("the link", lambda: center.pbx_ready)
    await centre.place(extension, number, hangup_after=hangup_after)

    def waiting() -> str | None:
        found = [c.id for c in center.calls.values() if c.caller_number == number]
        return found[0] if found else None

    call_id: str = await centre.until("the caller waiting", waiting)
    return call_id
