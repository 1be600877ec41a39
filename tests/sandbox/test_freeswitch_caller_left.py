"""A waiting caller moved out of the controller's contexts by someone else, on a real
FreeSWITCH 1.10.12 (tests/e2e/test_channel_truth.py's redirect, on FreeSWITCH).

A caller waits (parked in ccgw-inbound); another tool, on an Event Socket of its own, moves
it: `uuid_transfer <caller> 9999 XML elsewhere`. Park ends and FreeSWITCH's CHANNEL_UNPARK
names the new context; the controller lets the caller go at once: its wait ends with one
record saying it was redirected there, and when an agent becomes free nobody is rung.

With CCGW_ESL_CAPTURE=<folder>, the caller's CHANNEL_PARK and CHANNEL_UNPARK (FreeSWITCH's
bytes) are written as caller_left.esl, which tests/pbx/freeswitch/test_caller_left.py
reads in CI.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from tests.e2e.harness import records, set_states
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    freeswitch_centre,
    freeswitch_sandbox,
    waiting_caller,
)

pytestmark = MARKS
NUMBER = "+4930450001"


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-caller-left"), 1) as sandbox:
        yield sandbox


async def test_a_caller_moved_elsewhere_by_another_tool_is_let_go(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    watched = EslObserver(sandbox.esl_password(), watched="CHANNEL_PARK CHANNEL_UNPARK")
    await watched.start()
    try:
        async with freeswitch_centre(sandbox, tmp_path / "db.sqlite") as centre:
            call_id = await waiting_caller(centre, "moved", "450", NUMBER, hangup_after=30)
            center = centre.controller.dispatcher.center
            moved = await asyncio.to_thread(
                sandbox.api, f"uuid_transfer {call_id} 9999 XML elsewhere"
            )
            assert moved.startswith("+OK"), moved
            await centre.until("the caller let go", lambda: call_id not in center.calls, 10)
            await set_states(centre, {1: "available"})
            await asyncio.sleep(2.0)  # time enough to ring the free agent, were anyone waiting
            await centre.controller.dispatcher.drain_writes()
            [record] = await records(centre, call_id=call_id)
            assert record["outcome"] == "redirected", record
            assert record["detail"] == "moved by another tool to elsewhere"
            rung = [e for e in centre.observer.named("CHANNEL_CREATE") if "ccgw-" in e["Unique-ID"]]
            assert rung == []  # FreeSWITCH's word: no agent leg was ever created
            assert (await centre.agent(1))["state"] == "available"
        [unpark] = watched.named("CHANNEL_UNPARK", **{"Unique-ID": call_id})
        assert unpark["Caller-Context"] == "elsewhere"
    finally:
        await watched.stop()
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        mine = [f for f in watched.frames if call_id.encode() in f]
        Path(folder, "caller_left.esl").write_bytes(b"".join(mine))
