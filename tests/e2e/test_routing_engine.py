"""End to end on the real sandbox Asterisk: relaxation, overflow, a phone that goes away,
and feature codes dialled from an agent's phone. Customers are sipp; agent phones are sipp;
what Asterisk bridged is read from a raw AMI connection of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Centre, running_centre
from tests.sandbox.ami import AmiSession

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

AGENTS = {1: {"en": 3}, 2: {"de": 9}, 3: {"de": 4}, 4: {"en": 9}}
QUEUES = [
    {  # nobody has en >= 10: only the relaxation lets agent1 (en 3) take it
        "id": "vip",
        "name": "VIP",
        "extension": "210",
        "requires": {"en": 10},
        "relaxation": [{"after_s": 4, "requirement": "en >= 1"}],
        "ring_timeout_s": 6,
        "wrapup_s": 0,
    },
    {  # nobody has de >= 10 either: the caller overflows to german after 3 s
        "id": "sales",
        "name": "Sales",
        "extension": "211",
        "requires": {"de": 10},
        "relaxation": [{"after_s": 3, "overflow_to": "german"}],
        "ring_timeout_s": 6,
        "wrapup_s": 0,
    },
    {
        "id": "german",
        "name": "German",
        "extension": "212",
        "requires": {"de": 5},
        "ring_timeout_s": 6,
        "wrapup_s": 0,
    },
    {
        "id": "english",
        "name": "English",
        "extension": "213",
        "requires": {"en": 5},
        "ring_timeout_s": 6,
        "wrapup_s": 0,
    },
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("engine")) / "ccgateway.db"
    pause_codes = {"pause_codes": ["break", "lunch", "training"]}
    async with running_centre(asterisk_sandbox, db, agents=pause_codes) as centre:
        for skill in ("en", "de"):
            await centre.call("POST", "/v1/skills", {"id": skill, "name": skill})
        for queue in sorted(QUEUES, key=lambda q: q["id"] != "german"):  # targets first
            await centre.call("POST", "/v1/queues", queue)
        for k, skills in AGENTS.items():
            await centre.call(
                "POST",
                "/v1/agents",
                {
                    "id": f"agent{k}",
                    "name": f"Agent {k}",
                    "device": f"PJSIP/agent{k}",
                    "skills": skills,
                },
            )
        yield centre


async def test_relaxation_lets_a_wider_pool_take_a_caller_who_has_waited(centre: Centre) -> None:
    await set_states(centre, {1: "available", 2: "paused", 3: "paused", 4: "paused"})
    before = len(await centre.interactions())
    await centre.place("210", "+4930500001", hangup_after=8)  # from the PBX's answer
    await centre.until("the relaxed call", lambda: centre.finished(before + 1), 30)
    record = (await centre.interactions())[-1]
    assert (record["queue_id"], record["agent_id"], record["outcome"]) == (
        "vip",
        "agent1",
        "answered",
    )
    assert record["wait_s"] >= 4.0, record  # not before the step
    decisions = await centre.call("GET", f"/v1/decisions?call_id={record['call_id']}")
    assert [d["kind"] for d in decisions] == ["offer", "relax"]
    assert decisions[0]["rule"] == "queue vip step 1"
    bridged = centre.observer.bridged_pairs()
    assert bridged.get(record["call_id"]) == {"PJSIP/agent1"}  # Asterisk's own word


async def test_overflow_moves_a_waiting_caller_to_another_queue(centre: Centre) -> None:
    await set_states(centre, {1: "paused", 2: "available", 3: "paused", 4: "paused"})
    before = len(await centre.interactions())
    await centre.place("211", "+4930500002", hangup_after=7)
    await centre.until("the overflowed call", lambda: centre.finished(before + 1), 30)
    record = (await centre.interactions())[-1]
    assert (record["queue_id"], record["agent_id"]) == ("german", "agent2"), record
    assert record["wait_s"] >= 3.0
    kinds = [
        d["kind"] for d in await centre.call("GET", f"/v1/decisions?call_id={record['call_id']}")
    ]
    assert kinds == ["offer", "overflow"]
    assert centre.observer.bridged_pairs().get(record["call_id"]) == {"PJSIP/agent2"}


async def test_a_phone_that_goes_away_is_not_offered_calls(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    # agent4 idles longest and would be chosen, but its phone stops answering OPTIONS.
    await set_states(centre, {4: "available", 1: "paused", 2: "paused", 3: "paused"})
    await asyncio.sleep(0.1)
    await set_states(centre, {1: "available"})
    asterisk_sandbox.set_phone(4, "off")
    try:
        await centre.until(
            "agent4's phone unavailable", lambda: device_is(centre, 4, "unavailable"), 15
        )
        before = len(await centre.interactions())
        await centre.place("213", "+4930500003", hangup_after=30)  # english: en >= 5
        # agent1 (en 3) does not qualify, agent4 (en 9) is unreachable: the caller waits.
        await asyncio.sleep(3)
        [call] = await centre.call("GET", "/v1/calls")
        assert (call["state"], call["agent_id"]) == ("waiting", None), call
        assert (await centre.agent(4))["state"] == "available"
    finally:
        asterisk_sandbox.set_phone(4, "answer")  # returns once Asterisk sees it reachable
    # The waiting caller is offered at once, so the phone may never be seen idle in between.
    await centre.until(
        "the call served once the phone is back", lambda: connected_to(centre, 4), 30
    )
    assert len(await centre.interactions()) == before


async def test_feature_codes_from_the_agent_s_phone(centre: Centre, asterisk_sandbox: Any) -> None:
    await set_states(centre, {3: "logged_out"})
    ami = AmiSession()
    reply = await ami.login(asterisk_sandbox.ami_secret())
    assert reply.get("Response") == "Success", reply
    try:
        # The phone "dials" the code: Asterisk calls the phone (it answers), then runs the
        # code on the phone's own channel, PJSIP/agent3-..., as a dialled call would.
        await dial_from_phone(ami, 3, "*71")
        await centre.until("agent3 available", lambda: state_is(centre, 3, "available", None))
        await dial_from_phone(ami, 3, "*722")
        await centre.until("agent3 on lunch", lambda: state_is(centre, 3, "paused", "lunch"))
        await dial_from_phone(ami, 3, "*73")
        await centre.until("agent3 logged out", lambda: state_is(centre, 3, "logged_out", None))
    finally:
        await ami.close()


async def set_states(centre: Centre, states: dict[int, str]) -> None:
    for k, state in states.items():
        body: dict[str, Any] = {"state": state}
        if state == "paused":
            body["reason"] = "break"
        await centre.call("POST", f"/v1/agents/agent{k}/state", body)


async def dial_from_phone(ami: AmiSession, k: int, code: str) -> None:
    reply = await ami.send(
        {
            "Action": "Originate",
            "Channel": f"PJSIP/agent{k}",
            "Context": "ccgw-agent-phones",
            "Exten": code,
            "Priority": "1",
            "Timeout": "5000",
            "Async": "true",
        }
    )
    assert reply.get("Response") == "Success", reply


async def connected_to(centre: Centre, k: int) -> bool:
    calls = await centre.call("GET", "/v1/calls")
    return [(c["state"], c["agent_id"]) for c in calls] == [("connected", f"agent{k}")]


async def device_is(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["device_state"] == state


async def state_is(centre: Centre, k: int, state: str, reason: str | None) -> bool:
    agent = await centre.agent(k)
    return (agent["state"], agent["reason"]) == (state, reason)
