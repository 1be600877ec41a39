"""On the real sandbox Asterisk: an Asterisk whose uniqueids would clash with another's is
left alone (pbx/uniqueids.py).

Two adapters of one controller are pointed at the same sandbox Asterisk under two PBX names,
as a deployment that listed two Asterisks without a systemname would be: each reads the
systemname with CoreSettings at its connect; the first takes its PBX, the second stays
passive, says why in its `problem` (the health's `problems`) and sends nothing.
"""

from __future__ import annotations

import asyncio

import pytest

from ccgateway.domain.commands import HangUp
from ccgateway.domain.events import PbxEvent, PbxResynced
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.uniqueids import UniqueidSpaces
from ccgateway.ports import Owner, PbxUnavailable
from ccgateway.sandbox import Sandbox

pytestmark = [pytest.mark.asterisk]


async def test_a_second_asterisk_without_its_own_systemname_is_left_alone(
    asterisk_sandbox: Sandbox,
) -> None:
    spaces = UniqueidSpaces()
    owner = Owner("uniqueid-test", 0)
    secret = asterisk_sandbox.ami_secret()
    first = AsteriskPbx(secret=secret, name="asterisk", owner=owner, spaces=spaces)
    second = AsteriskPbx(secret=secret, name="west", owner=owner, spaces=spaces)
    heard: dict[str, list[PbxEvent]] = {"asterisk": [], "west": []}
    tasks = [asyncio.create_task(first.run(heard["asterisk"].append))]
    try:
        async with asyncio.timeout(15):
            while not any(isinstance(e, PbxResynced) for e in heard["asterisk"]):
                await asyncio.sleep(0.05)
            tasks.append(asyncio.create_task(second.run(heard["west"].append)))
            while second.problem is None:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2.5)  # a couple of the keeper's rounds: it stays barred
        assert first.problem is None and first.keeper.commanding
        assert second.problem is not None and "no systemname" in second.problem, second.problem
        assert "Asterisk asterisk" in second.problem
        assert not second.keeper.commanding
        assert not any(isinstance(e, PbxResynced) for e in heard["west"]), heard["west"]
        with pytest.raises(PbxUnavailable):
            await second.execute(HangUp("1.1", "a test", "west"))
    finally:
        await first.release()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
