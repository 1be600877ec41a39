"""End to end: sipp customers call two queues on the real sandbox Asterisk; sipp phones answer.

The whole controller runs in-process (real AsteriskPbx, dispatcher, SQLite store, API through
ASGI). What Asterisk really bridged is read from a separate raw AMI connection, so the test
checks the PBX's word, not the controller's own account.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Centre, running_centre

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

AGENTS = {  # agent k -> skills; agent2 will not answer, agent5 and agent6 are under-skilled
    1: {"en": 7},
    2: {"en": 9},
    3: {"de": 8},
    4: {"de": 6},
    5: {"en": 3},
    6: {"de": 2, "en": 4},
}
QUEUES = {"english": ("200", {"en": 5}), "german": ("201", {"de": 5})}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("e2e")) / "ccgateway.db"
    async with running_centre(asterisk_sandbox, db) as centre:
        for skill in ("en", "de"):
            await centre.call("POST", "/v1/skills", {"id": skill, "name": skill})
        for queue_id, (extension, requires) in QUEUES.items():
            await centre.call(
                "POST",
                "/v1/queues",
                {
                    "id": queue_id,
                    "name": queue_id,
                    "extension": extension,
                    "requires": requires,
                    "ring_timeout_s": 6,
                    "wrapup_s": 1,
                },
            )
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


async def test_calls_reach_only_qualified_agents_and_no_answer_moves_on(
    centre: Centre, asterisk_sandbox: Any
) -> None:
    asterisk_sandbox.set_phone(2, "noanswer")
    try:
        # The phone was restarted: let a qualify round pass (5 s), then insist it is reachable,
        # or the centre rightly skips agent2 and this test would prove nothing.
        await asyncio.sleep(5.5)
        await centre.until("agent2's phone reachable", lambda: _device(centre, 2, "available"))
        # agent2 (no answer) becomes available first, so it idles longest and is tried first.
        for k in (2, 1, 3, 4, 5, 6):
            await centre.call("POST", f"/v1/agents/agent{k}/state", {"state": "available"})
            await asyncio.sleep(0.05)
        await centre.place("200", "+4930100001", hangup_after=12)
        await centre.until(
            "agent2 made not ready",
            lambda: _paused(centre, 2),
            20,
            lambda: centre.call("GET", "/v1/agents"),
        )
        agent2 = await centre.agent(2)
        assert agent2["reason"] and "no_answer" in agent2["reason"]

        await centre.place("201", "+4930200001", hangup_after=8)
        await centre.place("201", "+4930200002", hangup_after=8)
        await centre.until("three finished calls", lambda: _finished(centre, 3), 45)
    finally:
        asterisk_sandbox.set_phone(2, "answer")

    records = await centre.interactions()
    by_caller = {r["call_id"]: r for r in records}
    assert {r["outcome"] for r in records} == {"answered"}, records
    english = [r for r in records if r["queue_id"] == "english"]
    assert len(english) == 1 and english[0]["agent_id"] == "agent1"
    assert english[0]["offers"] == 2  # agent2 first, then agent1
    german_agents = {r["agent_id"] for r in records if r["queue_id"] == "german"}
    assert german_agents == {"agent3", "agent4"}

    # The PBX's own word: each caller was bridged with exactly one agent, a qualified one.
    bridged = centre.observer.bridged_pairs()
    for caller_uniqueid, record in by_caller.items():
        devices = bridged.get(caller_uniqueid, set())
        assert devices == {f"PJSIP/{record['agent_id']}"}, (caller_uniqueid, devices)
        k = int(record["agent_id"].removeprefix("agent"))
        _extension, requires = QUEUES[record["queue_id"]]
        assert all(AGENTS[k].get(s, 0) >= lvl for s, lvl in requires.items())
    unqualified = {"PJSIP/agent5", "PJSIP/agent6"}
    assert not any(devs & unqualified for devs in bridged.values())


async def test_a_caller_who_hangs_up_while_waiting_is_recorded_as_abandoned(centre: Centre) -> None:
    for k in (3, 4):
        await centre.call(
            "POST", f"/v1/agents/agent{k}/state", {"state": "paused", "reason": "meeting"}
        )
    before = len(await centre.interactions())
    await centre.place("201", "+4930300001", hangup_after=3)
    await centre.until("the abandoned call", lambda: _finished(centre, before + 1), 20)
    record = (await centre.interactions())[-1]
    assert record["outcome"] == "abandoned" and record["agent_id"] is None
    assert 2.0 <= record["wait_s"] <= 6.0, record
    status = await centre.call("GET", "/v1/queues/german/status")
    assert status["waiting"] == 0


async def _device(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["device_state"] == state


async def _paused(centre: Centre, k: int) -> bool:
    return (await centre.agent(k))["state"] == "paused"


async def _finished(centre: Centre, n: int) -> bool:
    return await centre.finished(n)
