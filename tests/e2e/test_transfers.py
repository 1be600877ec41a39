"""End to end on the real sandbox Asterisk: blind transfers (to a queue, to a number),
attended transfers (completed, cancelled) and a three-way conference. Agents' phones and
the outside world are sipp; every join is checked against Asterisk's own bridge events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Centre, records, running_centre, set_states
from tests.e2e.test_callbacks_and_rules import hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

QUEUES = [
    {"id": "front", "name": "Front", "extension": "230", "ring_timeout_s": 6, "wrapup_s": 0},
    {
        "id": "billing",
        "name": "Billing",
        "extension": "231",
        "requires": {"billing": 5},
        "ring_timeout_s": 6,
        "wrapup_s": 0,
    },
]
AGENTS = {1: {}, 2: {"billing": 7}, 3: {"billing": 6}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("transfers")) / "ccgateway.db"
    async with running_centre(asterisk_sandbox, db) as centre:
        await centre.call("POST", "/v1/skills", {"id": "billing", "name": "Billing"})
        for queue in QUEUES:
            await centre.call("POST", "/v1/queues", queue)
        for k, skills in AGENTS.items():
            body = {
                "id": f"agent{k}",
                "name": f"A{k}",
                "device": f"PJSIP/agent{k}",
                "skills": skills,
            }
            await centre.call("POST", "/v1/agents", body)
        yield centre


async def talking_to_agent1(centre: Centre, caller: str) -> dict[str, Any]:
    """A customer of `front` connected to agent1, with agents 2 and 3 paused."""
    await set_states(centre, {2: "paused", 3: "paused", 1: "available"})
    await centre.place("230", caller, hangup_after=60)
    call = await centre.until(
        "the call with agent1", lambda: _connected(centre, caller, "agent1"), 20
    )
    await centre.until("the bridge", lambda: _bridged(centre, call["call_id"], "PJSIP/agent1"), 10)
    return call


async def test_a_blind_transfer_to_a_queue_takes_the_caller_to_a_qualified_agent(
    centre: Centre,
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
    await centre.until(
        "the new bridge", lambda: _bridged(centre, call["call_id"], "PJSIP/agent3"), 10
    )
    [first] = await centre.until(
        "agent1's part recorded", lambda: records(centre, call_id=call["call_id"]), 10
    )
    assert (first["agent_id"], first["outcome"], first["detail"]) == (
        "agent1",
        "transferred",
        "to queue billing",
    )
    await hang_up(centre, call["call_id"])
    await centre.until("both parts recorded", lambda: _count(centre, call["call_id"], 2), 15)
    last = (await records(centre, call_id=call["call_id"]))[-1]
    assert (last["agent_id"], last["queue_id"], last["outcome"]) == (
        "agent3",
        "billing",
        "answered",
    )


async def test_an_attended_transfer_consults_then_hands_the_caller_over(centre: Centre) -> None:
    call = await talking_to_agent1(centre, "+4930230002")
    await set_states(centre, {2: "available"})
    await centre.call(
        "POST",
        f"/v1/calls/{call['call_id']}/transfer",
        {"target": "agent", "to": "agent2", "attended": True},
    )
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    # The two agents talk; the caller holds (music), in no bridge with either.
    assert not _bridged(centre, call["call_id"], "PJSIP/agent2")
    view = await centre.call("POST", f"/v1/calls/{call['call_id']}/transfer/complete")
    assert view["agent_id"] == "agent2"
    await centre.until(
        "the caller bridged to agent2",
        lambda: _bridged(centre, call["call_id"], "PJSIP/agent2"),
        15,
    )
    await centre.until("agent1 free again", lambda: _agent_state(centre, 1, "available"), 10)
    await hang_up(centre, call["call_id"])
    await centre.until("both parts recorded", lambda: _count(centre, call["call_id"], 2), 15)
    parts = await records(centre, call_id=call["call_id"])
    assert [(p["agent_id"], p["outcome"]) for p in parts] == [
        ("agent1", "transferred"),
        ("agent2", "answered"),
    ]


async def test_a_cancelled_consult_brings_agent1_back_and_a_conference_joins_three(
    centre: Centre,
) -> None:
    call = await talking_to_agent1(centre, "+4930230003")
    await set_states(centre, {2: "available"})
    path = f"/v1/calls/{call['call_id']}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    bridges_before = len(centre.seen("BridgeEnter", Uniqueid=call["call_id"]))
    view = await centre.call("POST", f"{path}/cancel")
    assert view["agent_id"] == "agent1"
    await centre.until(
        "the caller back with agent1",
        lambda: len(centre.seen("BridgeEnter", Uniqueid=call["call_id"])) > bridges_before,
        15,
    )
    # Now a conference: consult agent2 again and join all three.
    await centre.until("agent2 free again", lambda: _agent_state(centre, 2, "available"), 10)
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    await centre.call("POST", f"{path}/conference")
    joined = await centre.until(
        "three in the conference",
        lambda: _conference(centre, call["call_id"], 3),
        15,
    )
    assert any(c.startswith("PJSIP/agent2-") for c in joined), joined
    await hang_up(centre, call["call_id"])  # the caller leaves: the conference ends for all
    await centre.until("agent1 free", lambda: _agent_state(centre, 1, "available"), 15)
    await centre.until("agent2 free", lambda: _agent_state(centre, 2, "available"), 15)
    calls = await centre.call("GET", "/v1/calls")  # (other modules' callers may still talk)
    assert [c for c in calls if c["call_id"] == call["call_id"]] == []


async def test_a_blind_transfer_to_a_number_connects_the_outside_phone(centre: Centre) -> None:
    call = await talking_to_agent1(centre, "+4930230004")
    gone = await centre.call(
        "POST", f"/v1/calls/{call['call_id']}/transfer", {"target": "number", "to": "+4940555"}
    )
    assert gone is None  # the call left the centre
    await centre.until(
        "the caller bridged to the trunk",
        lambda: _bridged_to_trunk(centre, call["call_id"]),
        20,
    )
    [part] = await centre.until(
        "agent1's part recorded", lambda: records(centre, call_id=call["call_id"]), 10
    )
    assert (part["outcome"], part["detail"]) == ("transferred", "to number +4940555")
    await hang_up(centre, call["call_id"])


async def _connected(centre: Centre, caller: str, agent: str) -> dict[str, Any] | None:
    for call in await centre.call("GET", "/v1/calls"):
        if (call["caller_number"], call["agent_id"], call["state"]) == (caller, agent, "connected"):
            return dict(call)
    return None


def _bridges_of(centre: Centre, uniqueid: str) -> set[str]:
    return {e["BridgeUniqueid"] for e in centre.seen("BridgeEnter", Uniqueid=uniqueid)}


def _bridged(centre: Centre, uniqueid: str, device: str) -> bool:
    bridges = _bridges_of(centre, uniqueid)
    return any(
        e.get("Event") == "BridgeEnter"
        and e.get("BridgeUniqueid") in bridges
        and e.get("Channel", "").startswith(device + "-")
        for e in centre.observer.events
    )


def _bridged_to_trunk(centre: Centre, uniqueid: str) -> bool:
    bridges = _bridges_of(centre, uniqueid)
    return any(
        e.get("Event") == "BridgeEnter"
        and e.get("BridgeUniqueid") in bridges
        and e.get("Uniqueid") != uniqueid
        and e.get("Channel", "").startswith("PJSIP/trunk-")
        for e in centre.observer.events
    )


def _conference(centre: Centre, room: str, size: int) -> list[str] | None:
    joined = [e["Channel"] for e in centre.seen("ConfbridgeJoin", Conference=room)]
    return joined if len(joined) >= size else None


async def _agent_state(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["state"] == state


async def _count(centre: Centre, call_id: str, n: int) -> bool:
    return len(await records(centre, call_id=call_id)) >= n
