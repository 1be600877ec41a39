"""EslClient against replays of the real transcripts (no hand-written ESL traffic)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from ccgateway.pbx.freeswitch.client import EslClient
from ccgateway.ports import InvalidWireValue, PbxUnavailable
from tests.fixtures.esl import transcript
from tests.pbx.freeswitch.replay import ReplayServer


class Harness:
    def __init__(
        self, server: ReplayServer, resync: Callable[[EslClient], Any] | None = None
    ) -> None:
        self.server = server
        self.events: list[dict[str, str]] = []
        self.lost: list[str] = []
        self.resyncs: list[str] = []
        self._resync = resync

    async def start(self) -> EslClient:
        port = await self.server.start()

        async def on_connected() -> None:
            if self._resync is not None:
                self.resyncs.append(await self._resync(self.client))

        self.client = EslClient(
            "127.0.0.1",
            port,
            "ClueCon",
            self.events.append,
            on_connected,
            self.lost.append,
            events=["CHANNEL_PARK"],
        )
        self.task = asyncio.create_task(self.client.run_forever())
        return self.client

    async def until(self, check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while not (result := check()):
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.01)
        return result

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.server.stop()


def replay(name: str, conn: str, **kwargs: Any) -> ReplayServer:
    return ReplayServer(transcript(name), conn, **kwargs)


async def test_bgapi_uses_our_job_uuid_and_reports_originate_failures() -> None:
    harness = Harness(replay("10_originate_failure", "ctl"))
    client = await harness.start()
    try:
        await harness.until(client.link.connected.is_set)
        job = await client.bgapi_start(
            "originate", "{origination_uuid=x}loopback/nonexistent_ext", "&park()"
        )
        job_line = next(
            line
            for line in harness.server.received[-1].split("\n")
            if line.startswith("Job-UUID: ")
        )
        assert job_line == f"Job-UUID: {job}"
        assert job in harness.server.ids.values()
        [result] = await harness.until(
            lambda: [e for e in harness.events if e["Event-Name"] == "BACKGROUND_JOB"]
        )
        assert result["Job-UUID"] == job
        assert result["_body"].strip() == "-ERR NO_ROUTE_DESTINATION"
        causes = {
            e.get("Hangup-Cause") for e in harness.events if e["Event-Name"] == "CHANNEL_HANGUP"
        }
        assert causes == {"NO_ROUTE_DESTINATION"}
        busy = await client.api("originate", "{origination_uuid=y}loopback/9486", "&park()")
        assert busy.strip() == "-ERR USER_BUSY"
        with pytest.raises(InvalidWireValue):
            await client.api("uuid_kill", "x\n\napi hupall")
    finally:
        await harness.stop()


async def test_a_wrong_password_is_refused_and_retried_without_connecting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness(replay("01_auth", "bad"))
    caplog.set_level(logging.WARNING)
    client = await harness.start()
    try:
        await harness.until(lambda: "refused the password" in caplog.text)
        assert client.link.connections == 0 and not client.link.connected.is_set()
        with pytest.raises(PbxUnavailable):
            await client.api("status")
    finally:
        await harness.stop()


async def test_a_dropped_link_fails_pending_commands_reconnects_and_resyncs() -> None:
    async def resync(client: EslClient) -> str:
        return await client.api("show", "channels", "as", "json")

    # 11_sipp_uac_park: auth, event plain ..., show channels (0 rows), show channels (1 row)
    harness = Harness(replay("11_sipp_uac_park", "ctl", close_after=3), resync)
    client = await harness.start()
    try:
        await harness.until(lambda: harness.resyncs)
        assert harness.resyncs[0].strip() == '{"row_count": 0}'
        with pytest.raises(PbxUnavailable):  # the 4th command: the server drops the link
            await client.api("show", "channels", "as", "json")
        await harness.until(lambda: harness.lost and len(harness.resyncs) >= 2)
        assert harness.server.connections == 2 and client.link.connections == 2
        rows = await client.api("show", "channels", "as", "json")
        assert '"row_count":1' in rows.replace(" ", "")
        shows = [c for c in harness.server.received if c.startswith("api show channels")]
        assert len(shows) == 4  # resync, dropped, resync, asked: the dropped one never again
    finally:
        await harness.stop()
