"""End to end on a real FreeSWITCH (the sandbox): a supervisor listens to, whispers to and
barges into an agent's call (`POST /v1/calls/{id}/monitor`), as the console does on Asterisk
with ChanSpy. sipp plays the customer, the agent's phone and the supervisor's (phone 2, which
no agent has). FreeSWITCH's own events say what happened: the supervisor's leg ran
`eavesdrop` on the agent's leg, with the mode's variables (whisper to the agent only, barge to
both), while the customer and the agent stayed bridged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import user_id
from tests.e2e.harness import Centre, set_states
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    agent,
    bridged_agents,
    freeswitch_centre,
    freeswitch_sandbox,
    queue,
)

pytestmark = [*MARKS, pytest.mark.asyncio(loop_scope="module")]

SUPERVISOR = 2  # the phone the supervisor listens on: user 1002, no agent's
MODES = {
    "listen": {},
    "whisper": {"variable_eavesdrop_whisper_aleg": "true"},
    "barge": {"variable_eavesdrop_bridge_aleg": "true", "variable_eavesdrop_bridge_bleg": "true"},
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-monitor"), SUPERVISOR) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-e2e-monitor-db")) / "ccgateway.db"
    async with freeswitch_centre(sandbox, db) as centre:
        await centre.call("POST", "/v1/queues", queue(id="front", name="Front", extension="240"))
        await centre.call("POST", "/v1/agents", agent(1))
        yield centre


@pytest.mark.parametrize("mode", list(MODES))
async def test_a_supervisor_monitors_an_agent_s_call(
    centre: Centre, sandbox: FreeSwitchSandbox, mode: str
) -> None:
    await set_states(centre, {1: "available"})
    caller = f"+4930240{list(MODES).index(mode):03d}"
    await centre.place("240", caller, hangup_after=30)
    call = await centre.until("the call with agent1", lambda: _connected(centre, caller), 20)
    await centre.until(
        "the bridge", lambda: 1 in bridged_agents(centre.observer, call["call_id"]), 10
    )
    leg = await _agent_leg(centre, call)
    body = {"supervisor_device": f"user/{user_id(SUPERVISOR)}", "mode": mode}
    try:
        assert await centre.call("POST", f"/v1/calls/{call['call_id']}/monitor", body) is None
        # FreeSWITCH's word: the supervisor's phone answered and its leg ran eavesdrop on
        # the agent's leg, with this mode's variables
        execute = await centre.until(
            "eavesdrop on the agent's leg", lambda: _eavesdrop(centre, leg), 15
        )
        for name, value in MODES[mode].items():
            assert execute.get(name) == value, (name, execute.get(name))
        for other in {n for m in MODES.values() for n in m} - set(MODES[mode]):
            assert execute.get(other) != "true", other
        assert execute.get("variable_origination_caller_id_number") == "monitor", execute
        # the customer is still with agent1 (the supervisor joined, nobody was moved)
        assert bridged_agents(centre.observer, call["call_id"]) == {1}
        current = await _connected(centre, caller)
        assert current is not None and current["agent_id"] == "agent1"
    finally:
        sandbox.api(f"uuid_kill {call['call_id']}")
        await centre.until("agent1 free", lambda: _free(centre), 15)


async def _connected(centre: Centre, caller: str) -> dict[str, Any] | None:
    for call in await centre.call("GET", "/v1/calls"):
        if (call["caller_number"], call["state"]) == (caller, "connected"):
            return dict(call)
    return None


async def _agent_leg(centre: Centre, call: dict[str, Any]) -> str:
    """The agent's leg of the call, from FreeSWITCH's bridge event of the caller."""
    for event in centre.observer.named("CHANNEL_BRIDGE"):
        if event.get("Bridge-A-Unique-ID") == call["call_id"]:
            return str(event["Bridge-B-Unique-ID"])
        if event.get("Bridge-B-Unique-ID") == call["call_id"]:
            return str(event["Bridge-A-Unique-ID"])
    raise AssertionError(f"no bridge of {call['call_id']}")


def _eavesdrop(centre: Centre, leg: str) -> dict[str, str] | None:
    for event in centre.observer.named("CHANNEL_EXECUTE"):
        if event.get("Application") == "eavesdrop" and event.get("Application-Data") == leg:
            return dict(event)
    return None


async def _free(centre: Centre) -> bool:
    return (await centre.agent(1))["state"] in ("available", "wrap_up")
