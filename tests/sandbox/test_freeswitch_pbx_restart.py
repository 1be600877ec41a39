"""A caller cut off by a FreeSWITCH crash is recorded cut_off, not abandoned, on a real
FreeSWITCH 1.10.12 (tests/e2e/test_channel_truth.py's killed Asterisk, on FreeSWITCH).

A caller waits; FreeSWITCH is killed (SIGKILL: it hangs up nobody and says nothing) and
started again. The controller learns of the restart at its reconnect: FreeSWITCH's core uuid
(`global_getvar core_uuid`, drawn anew at each start) is not the one of the last
connection. The caller it no longer has was cut off by the PBX: the record says cut_off and
the queue's figures count no abandon.

With CCGW_ESL_CAPTURE=<folder>, FreeSWITCH's two answers are written as
core_uuid_restart.json, which tests/pbx/freeswitch/test_restart.py reads in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from tests.e2e.harness import records
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    freeswitch_centre,
    freeswitch_sandbox,
    waiting_caller,
)

pytestmark = MARKS
NUMBER = "+4930440001"


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-pbx-restart"), 1) as sandbox:
        yield sandbox


async def test_a_caller_cut_off_by_a_freeswitch_crash_is_not_abandoned(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    async with freeswitch_centre(sandbox, tmp_path / "db.sqlite") as centre:
        call_id = await waiting_caller(centre, "crash", "440", NUMBER, hangup_after=60)
        center = centre.controller.dispatcher.center
        before = sandbox.api("global_getvar core_uuid")
        await asyncio.to_thread(sandbox.kill_and_restart)
        after = sandbox.api("global_getvar core_uuid")
        assert after.strip() != before.strip()  # FreeSWITCH's word: a new core
        await centre.until("the call over", lambda: call_id not in center.calls, 40)
        assert center.pbx_ready
        await centre.controller.dispatcher.drain_writes()
        [record] = await records(centre, call_id=call_id)
        assert (record["outcome"], record["answered_at"]) == ("cut_off", None), record
        figures = await centre.call("GET", "/v1/queues/crash/figures")
        assert (figures["offered"], figures["abandoned"]) == (0, 0), figures
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        answers = {"before": before, "after": after}
        Path(folder, "core_uuid_restart.json").write_text(json.dumps(answers, indent=2) + "\n")
