"""The controller follows each caller's real channel, on the real sandbox Asterisk.

Issue 14 measured it: waiting callers moved out of the controller's dialplan by another tool
(an AMI Redirect) were still held as waiting; the one free agent was rung 13 times in 120 ms
and 14 "answered" records of 0.0-0.2 s were written. Here another tool (a raw AMI session of
the test's own) redirects two waiting callers to a context that is not ours; then an agent
becomes free: nobody is rung, each caller has one record saying it was redirected, and the
agent stays available. What Asterisk did is read from the test's own AMI observer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Centre, records, running_centre, set_states
from tests.sandbox.ami import AmiSession

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]

QUEUE = {"id": "truth", "name": "Truth", "extension": "430", "ring_timeout_s": 6, "wrapup_s": 0}
CALLERS = ("+4930430001", "+4930430002")


async def setup(centre: Centre) -> None:
    await centre.call("POST", "/v1/queues", QUEUE)
    await centre.call(
        "POST", "/v1/agents", {"id": "agent1", "name": "A1", "device": "PJSIP/agent1"}
    )
    await set_states(centre, {1: "paused"})  # logged in: the queue takes callers


def waiting_ids(centre: Centre) -> dict[str, str]:
    """Our callers the controller holds: number -> call id."""
    calls = centre.controller.dispatcher.center.calls.values()
    return {c.caller_number: c.id for c in calls if c.caller_number in CALLERS}


def agent_rings(centre: Centre) -> list[dict[str, str]]:
    return [
        e
        for e in centre.observer.events
        if e.get("Event") == "Newchannel" and e.get("Channel", "").startswith("PJSIP/agent1-")
    ]


async def test_callers_redirected_away_are_let_go_and_nobody_is_rung(
    asterisk_sandbox: Any, tmp_path: Path
) -> None:
    other_tool = AmiSession()
    await other_tool.login(asterisk_sandbox.ami_secret(), events="call")
    async with running_centre(asterisk_sandbox, tmp_path / "db.sqlite") as centre:
        await setup(centre)
        for number in CALLERS:
            await centre.place("430", number, hangup_after=40)
        ids = await centre.until("both callers waiting", lambda: len(waiting_ids(centre)) == 2)
        ids = waiting_ids(centre)
        try:
            for call_id in ids.values():
                reply = await other_tool.send(
                    {
                        "Action": "Redirect",
                        "Channel": call_id,
                        "Context": "sandbox-elsewhere",
                        "Exten": "430",
                        "Priority": "1",
                    }
                )
                assert reply.get("Response") == "Success", reply
            await centre.until("both waits ended", lambda: not waiting_ids(centre), 10)
            await set_states(centre, {1: "available"})
            await asyncio.sleep(3)  # time enough to ring, answer and bridge many times over
            assert agent_rings(centre) == []  # nobody was rung for callers who are elsewhere
            agent = await centre.agent(1)
            assert agent["state"] == "available", agent
            await centre.controller.dispatcher.drain_writes()
            found = [r for r in await records(centre, queue_id="truth")]
            assert sorted((r["call_id"], r["outcome"]) for r in found) == sorted(
                (call_id, "redirected") for call_id in ids.values()
            ), found
            assert all(r["answered_at"] is None and r["talk_s"] == 0 for r in found)
            assert all("sandbox-elsewhere" in r["detail"] for r in found)
            # Asterisk's word: the callers are still up, where the other tool put them.
            listed = await asterisk_sandbox_channels(asterisk_sandbox)
            assert all(listed.get(call_id) == "sandbox-elsewhere" for call_id in ids.values())
        finally:
            for call_id in ids.values():
                await other_tool.send({"Action": "Hangup", "Channel": call_id})
            await other_tool.close()


async def asterisk_sandbox_channels(sandbox: Any) -> dict[str, str]:
    """Uniqueid -> context of every channel, from the Asterisk CLI (concise list)."""
    text = await asyncio.to_thread(sandbox.asterisk_cli, "core show channels concise")
    found: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("!")
        if len(fields) > 13:
            found[fields[13]] = fields[1]
    return found


@pytest.mark.parametrize("hard", [False, True], ids=["core-restart", "killed"])
async def test_callers_cut_off_by_a_pbx_restart_are_not_abandoned(
    asterisk_sandbox: Any, tmp_path: Path, hard: bool
) -> None:
    """A caller waits; Asterisk restarts. `core restart now` hangs the caller up itself
    (SoftHangupRequest, cause 4, before the Hangup); a killed Asterisk says nothing, and the
    controller learns of the restart at its reconnect (CoreStatus: a new start time). Either
    way the record says cut_off and the queue's figures count no abandon."""
    number = "+4930430009"
    async with running_centre(asterisk_sandbox, tmp_path / "db.sqlite") as centre:
        await setup(centre)
        await centre.place("430", number, hangup_after=60)
        await centre.until("the caller waiting", lambda: number in waiting_ids_of(centre, number))
        call_id = waiting_ids_of(centre, number)[number]
        await asyncio.to_thread(asterisk_sandbox.restart_asterisk, hard)
        center = centre.controller.dispatcher.center
        await centre.until("the link back", lambda: center.pbx_ready, 30)
        await centre.until("the call over", lambda: call_id not in center.calls, 10)
        await centre.controller.dispatcher.drain_writes()
        [record] = await records(centre, call_id=call_id)
        assert (record["outcome"], record["answered_at"]) == ("cut_off", None), record
        figures = await centre.call("GET", "/v1/queues/truth/figures")
        assert (figures["offered"], figures["abandoned"]) == (0, 0), figures


def waiting_ids_of(centre: Centre, number: str) -> dict[str, str]:
    calls = centre.controller.dispatcher.center.calls.values()
    return {c.caller_number: c.id for c in calls if c.caller_number == number}
