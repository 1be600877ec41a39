"""End to end on a real FreeSWITCH (the sandbox): the blind transfers of
tests/e2e/test_transfers.py (to a queue, to a number). Attended transfers and conferences
are another part of issue 15 (consults on FreeSWITCH). sipp plays the customers, the agents'
phones and the outside world (phone 4, which no agent has: the dial template sends every
outside number there); every join is checked on FreeSWITCH's own CHANNEL_BRIDGE events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import PROFILE, phone_port
from tests.e2e.harness import Centre, records, set_states
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    agent,
    bridged_agents,
    freeswitch_centre,
    freeswitch_sandbox,
    queue,
)

pytestmark = [*MARKS, pytest.mark.asyncio(loop_scope="module")]

QUEUES = [
    queue(id="front", name="Front", extension="230", ring_timeout_s=6, wrapup_s=0),
    queue(
        id="billing",
        name="Billing",
        extension="231",
        requires={"billing": 5},
        ring_timeout_s=6,
        wrapup_s=0,
    ),
]
AGENTS = {1: {}, 2: {"billing": 7}, 3: {"billing": 6}}
OUTSIDE = 4  # the phone behind every outside number


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-transfers"), OUTSIDE) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-e2e-transfers-db")) / "ccgateway.db"
    outside = f"sofia/{PROFILE}/{{number}}@127.0.0.1:{phone_port(OUTSIDE)}"
    async with freeswitch_centre(sandbox, db, dial_template=outside) as centre:
        await centre.call("POST", "/v1/skills", {"id": "billing", "name": "Billing"})
        for body in QUEUES:
            await centre.call("POST", "/v1/queues", body)
        for k, skills in AGENTS.items():
            await centre.call("POST", "/v1/agents", agent(k, skills=skills))
        yield centre


async def talking_to_agent1(centre: Centre, caller: str) -> dict[str, Any]:
    """A customer of `front` connected to agent1, with agents 2 and 3 paused."""
    await set_states(centre, {2: "paused", 3: "paused", 1: "available"})
    await centre.place("230", caller, hangup_after=60)
    call = await centre.until(
        "the call with agent1", lambda: _connected(centre, caller, "agent1"), 20
    )
    await centre.until("the bridge", lambda: _bridged(centre, call["call_id"], 1), 10)
    return call


async def test_a_blind_transfer_to_a_queue_takes_the_caller_to_a_qualified_agent(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    call = await talking_to_agent1(centre, "+4930230001")
    await set_states(centre, {3: "available"})
    moved = await centre.call(
        "POST", f"/v1/calls/{call['call_id']}/transfer", {"target": "queue", "to": "billing"}
    )
    assert moved["queue_id"] == "billing"
    await centre.until(
        "agent3 talking to the caller",
        lambda: _connected(centre, "+4930230001", "agent3"),
        20,
    )
    await centre.until("the new bridge", lambda: _bridged(centre, call["call_id"], 3), 10)
    [first] = await centre.until(
        "agent1's part recorded", lambda: records(centre, call_id=call["call_id"]), 10
    )
    assert (first["agent_id"], first["outcome"], first["detail"]) == (
        "agent1",
        "transferred",
        "to queue billing",
    )
    sandbox.api(f"uuid_kill {call['call_id']}")  # the caller hangs up
    await centre.until("both parts recorded", lambda: _count(centre, call["call_id"], 2), 15)
    last = (await records(centre, call_id=call["call_id"]))[-1]
    assert (last["agent_id"], last["queue_id"], last["outcome"]) == (
        "agent3",
        "billing",
        "answered",
    )
    # FreeSWITCH's word: the caller was bridged to agent1, then to agent3, and to no other.
    assert bridged_agents(centre.observer, call["call_id"]) == {1, 3}


async def test_a_blind_transfer_to_a_number_connects_the_outside_phone(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    call = await talking_to_agent1(centre, "+4930230004")
    gone = await centre.call(
        "POST", f"/v1/calls/{call['call_id']}/transfer", {"target": "number", "to": "+4940555"}
    )
    assert gone is None  # the call left the centre
    await centre.until(
        "the caller bridged to the outside",
        lambda: _bridged(centre, call["call_id"], OUTSIDE),
        20,
    )
    [part] = await centre.until(
        "agent1's part recorded", lambda: records(centre, call_id=call["call_id"]), 10
    )
    assert (part["outcome"], part["detail"]) == ("transferred", "to number +4940555")
    outside = [
        e
        for e in centre.observer.named("CHANNEL_CREATE")
        if e.get("Caller-Destination-Number") == "+4940555"
    ]
    assert outside, "FreeSWITCH dialled no +4940555"
    await centre.until("agent1 free", lambda: _agent_state(centre, 1, "available"), 10)
    sandbox.api(f"uuid_kill {call['call_id']}")


async def _connected(centre: Centre, caller: str, agent_id: str) -> dict[str, Any] | None:
    for call in await centre.call("GET", "/v1/calls"):
        if (call["caller_number"], call["agent_id"], call["state"]) == (
            caller,
            agent_id,
            "connected",
        ):
            return dict(call)
    return None


def _bridged(centre: Centre, uuid: str, k: int) -> bool:
    return k in bridged_agents(centre.observer, uuid)


async def _agent_state(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["state"] == state


async def _count(centre: Centre, call_id: str, n: int) -> bool:
    return len(await records(centre, call_id=call_id)) >= n
