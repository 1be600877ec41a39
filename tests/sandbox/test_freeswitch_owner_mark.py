"""One PBX, one brain on a real FreeSWITCH 1.10.12 (the sandbox): a second adapter, another
node, finds the first's mark (the global CCGW_OWNER), stays passive (emits nothing, commands
nothing, names the owner) and takes FreeSWITCH once the first is gone and its mark stale.

The second adapter talks through an `EslRecorder`; with CCGW_ESL_CAPTURE=<folder> its whole
conversation is written as owner_mark.jsonl, which tests/pbx/freeswitch/test_owner_mark.py
replays in CI.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from ccgateway.domain.commands import HangUp
from ccgateway.domain.events import PbxEvent, PbxResynced
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.ownership import parse_mark
from ccgateway.ports import Owner, PbxUnavailable
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.lock import asterisk_lock
from tests.sandbox.esl_recorder import EslRecorder
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS

pytestmark = MARKS
STALE_S = 3.5


async def test_a_second_adapter_is_passive_until_the_owner_is_gone(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-owner"))
        try:
            sandbox.up(agents=1, binary=BINARY)
            await _scenario(sandbox)
        finally:
            sandbox.down()


async def _scenario(sandbox: FreeSwitchSandbox) -> None:
    password = sandbox.esl_password()
    recorder = EslRecorder(ESL_PORT, password)
    port = await recorder.start()
    told: dict[str, list[PbxEvent]] = {"a": [], "b": []}
    first = FreeSwitchPbx(port=ESL_PORT, password=password, owner=Owner("node-a"))
    second = FreeSwitchPbx(port=port, password=password, owner=Owner("node-b"))
    running = asyncio.create_task(first.run(told["a"].append))
    try:
        await _until(lambda: any(isinstance(e, PbxResynced) for e in told["a"]))
        watching = asyncio.create_task(second.run(told["b"].append))
        await asyncio.sleep(2 * STALE_S)
        assert first.keeper.commanding and not second.keeper.commanding
        assert second.passive_to == "node-a (epoch 0)"
        assert told["b"] == []  # no picture, no event: its centre offers nothing
        with pytest.raises(PbxUnavailable, match="owned by node-a"):
            await second.execute(HangUp("no-such-channel", "test"))
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await first.close()
        gone = time.monotonic()
        await _until(lambda: any(isinstance(e, PbxResynced) for e in told["b"]), 3 * STALE_S)
        took = time.monotonic() - gone
        assert took <= STALE_S + 2.5, took  # whole seconds on FreeSWITCH, plus the resync
        mark = parse_mark(await second.client.api("global_getvar", "CCGW_OWNER"))
        assert mark is not None and mark.node == "node-b"
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await second.close()
    finally:
        running.cancel()
        await recorder.stop()
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        recorder.save(Path(folder, "owner_mark.jsonl"), 0)


async def _until(check: object, timeout_s: float = 15.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
