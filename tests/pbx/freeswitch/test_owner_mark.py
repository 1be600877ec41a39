"""The owner mark on FreeSWITCH, replayed from what a real FreeSWITCH 1.10.12 answered
(recorded/owner_mark.jsonl, written by tests/sandbox/test_freeswitch_owner_mark.py): a
second controller (node-b) found node-a's mark, read it with FreeSWITCH's time round after
round, sent nothing else, and took FreeSWITCH once the mark was older than 3.5 s in
FreeSWITCH's own seconds; it read its mark back a moment later (ownership's read-back, as on
Asterisk: two controllers that took a free PBX together, the one whose mark stayed goes on)
and only then took the picture."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ccgateway.domain.events import PbxEvent, PbxResynced
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import Owner
from tests.pbx.freeswitch.replay import ReplayServer

TRANSCRIPT = Path(__file__).parent / "recorded" / "owner_mark.jsonl"


async def test_a_passive_controller_reads_the_mark_until_it_is_stale_then_takes_over() -> None:
    server = ReplayServer(TRANSCRIPT, "ctl")
    port = await server.start()
    told: list[PbxEvent] = []
    passive_seen: set[str] = set()
    # The rounds come as fast as the replay answers: the verdicts rest on FreeSWITCH's
    # recorded answers (its mark and its time), not on our clock.
    pbx = FreeSwitchPbx(
        port=port,
        password="ClueCon",
        owner=Owner("node-b"),
        resync_settle_s=0.0,
        mark_every_s=0.01,
    )
    running = asyncio.create_task(pbx.run(told.append))
    try:
        deadline = time.monotonic() + 10
        while not any(isinstance(e, PbxResynced) for e in told):
            assert time.monotonic() < deadline, server.received[-3:]
            if pbx.passive_to is not None:
                passive_seen.add(pbx.passive_to)
                assert told == []  # nothing reaches the centre while passive
            await asyncio.sleep(0.001)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await server.stop()
    assert passive_seen == {"node-a (epoch 0)"}
    assert isinstance(told[0], PbxResynced)
    words = [c.split("\n")[0] for c in server.received]
    take = next(i for i, w in enumerate(words) if w.startswith("api global_setvar"))
    # before the takeover: the login, the subscription, and only reads of the mark and time
    assert {w.split(" ")[0] + " " + w.split(" ")[1] for w in words[2:take]} == {
        "api global_getvar",
        "api strepoch",
    }
    assert words[take].startswith("api global_setvar CCGW_OWNER=node-b 0 ")
    # the read-back: FreeSWITCH kept node-b's mark, so node-b goes on and resyncs
    assert words[take + 1 : take + 3] == ["api global_getvar CCGW_OWNER", "api strepoch"]
    kept = server.turns[take + 2][1][0]  # the recorded answer to that global_getvar
    assert kept.endswith("node-b 0 " + words[take].rsplit(" ", 1)[1])
    assert words[take + 3] == "api show channels as json"  # the resync after the read-back
