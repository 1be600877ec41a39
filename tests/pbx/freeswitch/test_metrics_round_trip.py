"""The ESL client's round trips, measured into the controller's instruments, against a
replay of a real FreeSWITCH 1.10.12 transcript over a real socket."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from ccgateway.pbx.freeswitch.client import EslClient
from ccgateway.pbx.link import LinkMeter
from ccgateway.services.instruments import Instruments
from tests.fixtures.esl import transcript
from tests.pbx.freeswitch.replay import ReplayServer


async def test_each_command_is_measured_by_its_first_word() -> None:
    server = ReplayServer(transcript("10_originate_failure"), "ctl")
    port = await server.start()
    registry = CollectorRegistry()

    async def on_connected() -> None:
        pass

    client = EslClient(
        "127.0.0.1",
        port,
        "ClueCon",
        lambda event: None,
        on_connected,
        lambda reason: None,
        events=["CHANNEL_PARK"],
        meter=LinkMeter("freeswitch", Instruments(registry)),
    )
    task = asyncio.create_task(client.run_forever())
    try:
        await asyncio.wait_for(client.link.connected.wait(), 5)
        await client.bgapi_start(
            "originate", "{origination_uuid=x}loopback/nonexistent_ext", "&park()"
        )
        await client.api("originate", "{origination_uuid=y}loopback/9486", "&park()")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()

    def answered(action: str) -> float | None:
        labels = {"pbx": "freeswitch", "action": action}
        return registry.get_sample_value("ccgw_pbx_round_trip_seconds_count", labels)

    assert answered("auth") == 1 and answered("event") == 1  # the handshake
    assert answered("originate") == 2  # bgapi's reply and api's response
    values = {v for m in registry.collect() for s in m.samples for v in s.labels.values()}
    assert "ClueCon" not in values and not any("origination_uuid" in v for v in values)
