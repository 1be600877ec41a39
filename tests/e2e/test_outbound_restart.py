"""A controller restart in the middle of a campaign neither drops nor redials a call, on the
real sandbox Asterisk with sipp callees. Its own module: no other controller may be running
on the sandbox meanwhile (one would hang up agent legs it does not know)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import running_centre
from tests.e2e.test_outbound_dialer import CAMPAIGN, dials, import_list, register, set_agent

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


TALKS_LONG = "+442079102200"  # a person after 2 s of ringing, talks 20 s
ANSWERS_LATE = "+442079110080"  # rings 10 s, then a person who talks 8 s


async def test_a_controller_restart_mid_campaign_neither_drops_nor_redials(
    asterisk_sandbox: Any, tmp_path: Path
) -> None:
    """The first controller dials two people and stops dead while one talks to an agent and
    the other still rings; the second, on the same database, adopts both from the PBX: the
    talk goes on, the late answer gets an agent, nobody is dialled twice, each dial is
    recorded once."""
    db = tmp_path / "restart.db"
    await asyncio.to_thread(asterisk_sandbox.set_outside, "callee")
    try:
        async with running_centre(asterisk_sandbox, db) as first:
            await first.call("POST", "/v1/skills", {"id": "sales", "name": "Sales"})
            queue = {"id": "out", "name": "Outbound", "extension": "299",
                     "requires": {"sales": 1}, "ring_timeout_s": 6, "wrapup_s": 0}  # fmt: skip
            await first.call("POST", "/v1/queues", queue)
            for k in (1, 2):
                agent = {"id": f"agent{k}", "name": f"A{k}", "device": f"PJSIP/agent{k}",
                         "skills": {"sales": 5}}  # fmt: skip
                await first.call("POST", "/v1/agents", agent)
                await set_agent(first, k, "available")
            await register(first, "tps", ["+442079999999"])
            await first.call("POST", "/v1/campaigns", CAMPAIGN)
            await import_list(first, "restart", [("t1", TALKS_LONG, 100), ("l1", ANSWERS_LATE, 90)])
            await first.call("POST", "/v1/campaigns/e2e-out/start")

            def talking() -> bool:
                return bool(first.seen("UserEvent", UserEvent="CCGWAgentAnswered"))

            await first.until("the first person with an agent", talking, timeout_s=20)
            seen_first = list(first.observer.events)
        # stopped dead (the harness cancels the dispatcher): the calls stay in Asterisk
        async with running_centre(asterisk_sandbox, db) as second:

            async def both_recorded() -> bool:
                return len(await dials(second)) >= 2

            await second.until("both dials to end", both_recorded, timeout_s=60)
            found = await dials(second)
            events = seen_first + second.observer.events
    finally:
        await asyncio.to_thread(asterisk_sandbox.set_outside, "answer")
    assert {c: d["outcome"] for c, d in found.items()} == {"t1": "connected", "l1": "connected"}
    assert found["t1"]["talk_s"] > 10  # the talk went on across the restart
    answered = {e["Uniqueid"] for e in events if e.get("UserEvent") == "CCGWOutboundAnswered"}
    assert answered == {found["t1"]["id"], found["l1"]["id"]}  # each person dialled once
