"""The AMI client's round trips, measured into the controller's instruments, against the
small local AMI server of test_client.py over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.ports import PbxRejected, PbxTimeout
from ccgateway.services.instruments import Instruments
from tests.pbx.asterisk.test_client import AmiServer


class SilentOnAtxfer(AmiServer):
    """Answers like Asterisk, except that an Atxfer is never answered (a stuck Asterisk)."""

    def answer(self, action: dict[str, str]) -> bytes:
        return b"" if action.get("Action") == "Atxfer" else super().answer(action)


@contextlib.asynccontextmanager
async def measured(ami: AmiServer) -> AsyncIterator[tuple[AsteriskPbx, CollectorRegistry]]:
    server = await asyncio.start_server(ami.serve, "127.0.0.1", 0)
    registry = CollectorRegistry()
    pbx = AsteriskPbx(
        port=server.sockets[0].getsockname()[1],
        secret="s3cret",
        action_timeout_s=2.0,
        instruments=Instruments(registry),
    )
    task = asyncio.create_task(pbx.run(lambda event: None))
    try:
        yield pbx, registry
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        await server.wait_closed()


def answered(registry: CollectorRegistry, action: str) -> float | None:
    return registry.get_sample_value(
        "ccgw_pbx_round_trip_seconds_count", {"pbx": "asterisk", "action": action}
    )


async def test_every_answered_action_is_measured_by_its_name_refusals_and_timeouts_too() -> None:
    async with measured(SilentOnAtxfer({"Redirect"})) as (pbx, registry):
        for _ in range(250):  # the login, then the resync's two list actions
            if answered(registry, "DeviceStateList"):
                break
            await asyncio.sleep(0.02)
        with pytest.raises(PbxRejected):
            await pbx.client.send({"Action": "Redirect", "Channel": "PJSIP/x-1"})
        with pytest.raises(PbxTimeout):
            await pbx.client.send({"Action": "Atxfer", "Channel": "A"}, timeout_s=0.2)
    for action in ("Login", "CoreShowChannels", "DeviceStateList", "Redirect"):
        assert answered(registry, action) == 1, action
    assert answered(registry, "Atxfer") is None  # never answered: no round trip ...
    timeouts = {"pbx": "asterisk", "action": "Atxfer"}
    assert registry.get_sample_value("ccgw_pbx_timeouts_total", timeouts) == 1  # ... a timeout
    # the secret is sent in the Login, never shown in a label
    values = {v for m in registry.collect() for s in m.samples for v in s.labels.values()}
    assert "s3cret" not in values
