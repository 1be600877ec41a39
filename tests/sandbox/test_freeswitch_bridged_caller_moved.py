"""A talking caller moved out of the controller's contexts by someone else, on a real
FreeSWITCH 1.10.12 (Asterisk's Redirect of a bridged caller, domain/calls.py caller_left).

A caller talks to agent1; another tool, on an Event Socket of its own, moves it:
`uuid_transfer <caller> 9999 XML sandbox-elsewhere` (the sandbox's foreign context: music
for a minute). FreeSWITCH ends the agent leg first, then the caller's CHANNEL_UNBRIDGE names
the new context. The controller must leave the caller alone (before the fix it read the
leg's end as "the agent hung up" and hung the caller up, 20 ms later, in the other tool's
context), record the call answered with "moved by another tool to sandbox-elsewhere", and
free the agent.

With CCGW_ESL_CAPTURE=<folder>, the caller's CHANNEL_BRIDGE and CHANNEL_UNBRIDGE and the
agent leg's CHANNEL_HANGUP (FreeSWITCH's bytes) are written as bridged_caller_moved.esl,
which tests/pbx/freeswitch/test_caller_left.py reads in CI.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from tests.e2e.harness import Centre, records, set_states
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    agent,
    bridged_agents,
    freeswitch_centre,
    freeswitch_sandbox,
    queue,
)

pytestmark = MARKS
NUMBER = "+4930460001"
WATCHED = "CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE"


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-bridged-moved"), 1) as sandbox:
        yield sandbox


async def test_a_talking_caller_moved_elsewhere_is_left_alone_and_the_agent_freed(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    watched = EslObserver(sandbox.esl_password(), watched=WATCHED)
    await watched.start()
    try:
        async with freeswitch_centre(sandbox, tmp_path / "db.sqlite") as centre:
            body = queue(id="moved", name="moved", extension="460", wrapup_s=0)
            await centre.call("POST", "/v1/queues", body)
            await centre.call("POST", "/v1/agents", agent(1))
            center = centre.controller.dispatcher.center
            await centre.until("the link", lambda: center.pbx_ready)
            await set_states(centre, {1: "available"})
            await centre.place("460", NUMBER, hangup_after=20)  # sipp's BYE long after

            def talking() -> str | None:
                found = [c.id for c in center.calls.values() if c.caller_number == NUMBER]
                return found[0] if found and center.calls[found[0]].bridged else None

            call_id: str = await centre.until("the caller talking", talking, 15)
            await centre.until("FreeSWITCH's bridge", lambda: bridged_agents(watched, call_id))
            moved = await asyncio.to_thread(
                sandbox.api, f"uuid_transfer {call_id} 9999 XML sandbox-elsewhere"
            )
            assert moved.startswith("+OK"), moved
            await centre.until("the call ended", lambda: call_id not in center.calls, 5)
            await centre.until("agent1 free", lambda: _is_available(centre, 1), 5)
            await asyncio.sleep(2.0)  # time enough for a HangUp the controller should not send
            await centre.controller.dispatcher.drain_writes()
            [record] = await records(centre, call_id=call_id)
            assert record["outcome"] == "answered", record
            assert record["agent_id"] == "agent1"
            assert record["detail"] == "moved by another tool to sandbox-elsewhere", record
            # FreeSWITCH's word: the caller is still there, in the other tool's context
            alive = await asyncio.to_thread(sandbox.api, f"uuid_exists {call_id}")
            assert alive.strip() == "true"
            assert watched.named("CHANNEL_HANGUP", **{"Unique-ID": call_id}) == []
        [unbridge] = watched.named("CHANNEL_UNBRIDGE", **{"Unique-ID": call_id})
        assert unbridge["Caller-Context"] == "sandbox-elsewhere"
        [leg_end] = [
            e for e in watched.named("CHANNEL_HANGUP") if e.get("variable_ccgw_caller") == call_id
        ]
        assert watched.events.index(leg_end) < watched.events.index(unbridge)  # the leg first
    finally:
        await watched.stop()
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        names = (b"CHANNEL_BRIDGE", b"CHANNEL_UNBRIDGE", b"CHANNEL_HANGUP\n")
        mine = [
            f
            for f in watched.frames
            if call_id.encode() in f and any(b"Event-Name: " + n in f for n in names)
        ]
        Path(folder, "bridged_caller_moved.esl").write_bytes(b"".join(mine))


async def _is_available(centre: Centre, k: int) -> bool:
    return bool((await centre.agent(k))["state"] == "available")
