"""End to end on a real FreeSWITCH (the sandbox): tests/e2e/test_inbound_routing.py's
scenarios. sipp customers call two queues; sipp phones (directory users 1001-1006) answer,
one never does. The whole controller runs in-process (FreeSwitchPbx, dispatcher, SQLite,
API through ASGI); what FreeSWITCH bridged is read from its own CHANNEL_BRIDGE events on a
raw Event Socket connection of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
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

AGENTS = {  # agent k -> skills; agent2 will not answer, agent5 and agent6 are under-skilled
    1: {"en": 7},
    2: {"en": 9},
    3: {"de": 8},
    4: {"de": 6},
    5: {"en": 3},
    6: {"de": 2, "en": 4},
}
QUEUES = {"english": ("200", {"en": 5}), "german": ("201", {"de": 5})}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-inbound"), len(AGENTS)) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-e2e-inbound-db")) / "ccgateway.db"
    async with freeswitch_centre(sandbox, db) as centre:
        for skill in ("en", "de"):
            await centre.call("POST", "/v1/skills", {"id": skill, "name": skill})
        for queue_id, (extension, requires) in QUEUES.items():
            body = queue(
                id=queue_id,
                name=queue_id,
                extension=extension,
                requires=requires,
                ring_timeout_s=6,
                wrapup_s=1,
            )
            await centre.call("POST", "/v1/queues", body)
        for k, skills in AGENTS.items():
            await centre.call("POST", "/v1/agents", agent(k, skills=skills))
        yield centre


async def test_calls_reach_only_qualified_agents_and_no_answer_moves_on(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    sandbox.set_phone(2, "noanswer")
    try:
        # The phone was restarted and registered again: insist FreeSWITCH told the
        # controller, or the centre rightly skips agent2 and this test would prove nothing.
        await centre.until("agent2's phone registered", lambda: _device(centre, 2, "available"))
        # agent2 (no answer) becomes available first, so it idles longest and is tried first.
        for k in (2, 1, 3, 4, 5, 6):
            await set_states(centre, {k: "available"})
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
        await centre.until("three finished calls", lambda: centre.finished(3), 45)
    finally:
        sandbox.set_phone(2, "answer")

    found = await centre.interactions()
    assert {r["outcome"] for r in found} == {"answered"}, found
    english = [r for r in found if r["queue_id"] == "english"]
    assert len(english) == 1 and english[0]["agent_id"] == "agent1"
    assert english[0]["offers"] == 2  # agent2 first, then agent1
    assert {r["agent_id"] for r in found if r["queue_id"] == "german"} == {"agent3", "agent4"}

    # FreeSWITCH's own word: each caller was bridged with exactly one agent, a qualified one.
    for record in found:
        k = int(record["agent_id"].removeprefix("agent"))
        assert bridged_agents(centre.observer, record["call_id"]) == {k}, record
        _extension, requires = QUEUES[record["queue_id"]]
        assert all(AGENTS[k].get(s, 0) >= level for s, level in requires.items())
    everyone = set().union(*(bridged_agents(centre.observer, r["call_id"]) for r in found))
    assert not everyone & {5, 6}  # the under-skilled were never bridged


async def test_a_caller_who_hangs_up_while_waiting_is_recorded_as_abandoned(
    centre: Centre,
) -> None:
    await set_states(centre, {3: "paused", 4: "paused"})
    before = len(await centre.interactions())
    await centre.place("201", "+4930300001", hangup_after=3)
    await centre.until("the abandoned call", lambda: centre.finished(before + 1), 20)
    [record] = await records(centre, caller_number="+4930300001")
    assert record["outcome"] == "abandoned" and record["agent_id"] is None
    assert 2.0 <= record["wait_s"] <= 6.0, record
    status = await centre.call("GET", "/v1/queues/german/status")
    assert status["waiting"] == 0
    # FreeSWITCH's word: the caller hung up (a BYE from sipp), nobody bridged them.
    hangup = centre.observer.hung_up(record["call_id"])
    assert hangup is not None and not bridged_agents(centre.observer, record["call_id"])


async def _device(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["device_state"] == state


async def _paused(centre: Centre, k: int) -> bool:
    return (await centre.agent(k))["state"] == "paused"
