"""AsteriskPbx against the real sandbox Asterisk (no stand-ins), through a proxy we control."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.domain.commands import Monitor, MonitorMode, RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxConnectionLost,
    PbxEvent,
    PbxResynced,
)
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.ports import InvalidWireValue, PbxRejected, PbxUnavailable
from ccgateway.sandbox import Sandbox
from tests.e2e.ami_observer import AmiObserver
from tests.pbx.asterisk.proxy import Proxy

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


class Running:
    """An adapter running against the sandbox through a proxy, recording what it emits."""

    def __init__(self, pbx: AsteriskPbx, proxy: Proxy, task: asyncio.Task[None]) -> None:
        self.pbx, self.proxy, self.task = pbx, proxy, task
        self.events: list[tuple[float, PbxEvent]] = []

    def emitted(self, kind: type) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, kind)]

    async def until(self, what: str, check: Callable[[], Any], timeout_s: float = 15) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if result := check():
                return result
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; got {self.events[-5:]}")


async def start(sandbox: Sandbox, emit_hook: Callable[[PbxEvent], None] | None = None) -> Running:
    proxy = Proxy(("127.0.0.1", 5038))
    port = await proxy.start()
    pbx = AsteriskPbx(port=port, secret=sandbox.ami_secret())  # the shipped defaults
    running = Running(pbx, proxy, asyncio.get_running_loop().create_future())  # type: ignore[arg-type]

    def emit(event: PbxEvent) -> None:
        running.events.append((time.monotonic(), event))
        if emit_hook is not None:
            emit_hook(event)

    running.task = asyncio.create_task(pbx.run(emit))
    await running.until("the first resync", lambda: running.emitted(PbxResynced))
    return running


async def stop(running: Running) -> None:
    running.task.cancel()
    await asyncio.gather(running.task, return_exceptions=True)
    await running.proxy.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def observer(asterisk_sandbox: Sandbox) -> AsyncIterator[AmiObserver]:
    watcher = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await watcher.start()
    yield watcher
    await watcher.stop()


def ring(leg: str, call: str, agent: int, timeout_s: float = 5.0) -> RingAgent:
    return RingAgent(leg, call, f"agent{agent}", f"PJSIP/agent{agent}", timeout_s, "+4930", "A")


async def test_a_call_is_announced_rung_bridged_and_hung_up(
    asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    running = await start(asterisk_sandbox)
    try:
        asterisk_sandbox.call("300", hangup_after=4, caller="+4930123")
        [waiting] = await running.until("CallWaiting", lambda: running.emitted(CallWaiting))
        assert (waiting.extension, waiting.caller_number) == ("300", "+4930123")
        leg = f"ccgw-test-{time.monotonic_ns()}"
        await running.pbx.ring_agent(ring(leg, waiting.call_id, 1))
        await running.until("the answer", lambda: running.emitted(AgentLegAnswered))
        assert running.emitted(AgentLegAnswered)[0].leg_id == leg
        hung = await running.until(
            "both hang-ups",
            lambda: (
                {e.channel_id for e in running.emitted(ChannelHungUp)} >= {leg, waiting.call_id}
            ),
        )
        assert hung
        assert observer.bridged_pairs().get(waiting.call_id) == {"PJSIP/agent1"}
    finally:
        await stop(running)


async def test_no_answer_is_reported_as_such(asterisk_sandbox: Sandbox) -> None:
    asterisk_sandbox.set_phone(2, "noanswer")
    running = await start(asterisk_sandbox)
    try:
        asterisk_sandbox.call("300", hangup_after=10)
        [waiting] = await running.until("CallWaiting", lambda: running.emitted(CallWaiting))
        leg = f"ccgw-test-{time.monotonic_ns()}"
        await running.pbx.ring_agent(ring(leg, waiting.call_id, 2, timeout_s=2.0))
        hangup = await running.until(
            "the leg's end",
            lambda: [e for e in running.emitted(ChannelHungUp) if e.channel_id == leg],
        )
        assert hangup[0].cause == 19  # no answer
        failed = await running.until("OriginateResponse", lambda: running.emitted(AgentLegFailed))
        assert (failed[0].leg_id, failed[0].failure) == (leg, LegFailure.NO_ANSWER)
        await running.pbx.hang_up(waiting.call_id, "test done")
        await running.pbx.hang_up(waiting.call_id, "already gone: not an error")
    finally:
        asterisk_sandbox.set_phone(2, "answer")
        await stop(running)


async def test_injection_is_refused_before_anything_is_sent(
    asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    running = await start(asterisk_sandbox)
    try:
        before = len(observer.events)
        evil = "x\r\n\r\nAction: Originate\r\nChannel: PJSIP/agent3\r\nExten: s"
        with pytest.raises(InvalidWireValue, match="CR"):
            await running.pbx.client.send({"Action": "Hangup", "Channel": evil})
        with pytest.raises(InvalidWireValue, match="NUL"):
            await running.pbx.hang_up("abc\0def")
        with pytest.raises(InvalidWireValue, match="commas"):
            await running.pbx.ring_agent(ring("ccgw-x", "a,CCGW_X=1", 3))
        with pytest.raises(InvalidWireValue, match="1024"):
            await running.pbx.client.send({"Action": "Ping", "X-Long": "y" * 1100})
        await asyncio.sleep(1.0)
        created = [e for e in observer.events[before:] if e.get("Event") == "Newchannel"]
        assert created == []
        assert running.pbx.client.link.connections == 1  # the link is untouched
    finally:
        await stop(running)


async def test_a_failing_event_handler_does_not_drop_the_link(asterisk_sandbox: Sandbox) -> None:
    def explode(event: PbxEvent) -> None:
        if isinstance(event, CallWaiting):
            raise RuntimeError("a bug in a handler")

    running = await start(asterisk_sandbox, explode)
    try:
        asterisk_sandbox.call("300", hangup_after=1)
        await running.until("the caller's hang-up", lambda: running.emitted(ChannelHungUp))
        assert running.pbx.client.link.connections == 1
        assert running.emitted(PbxConnectionLost) == []
    finally:
        await stop(running)


async def test_cut_and_half_open_links_are_noticed_and_resynced(asterisk_sandbox: Sandbox) -> None:
    running = await start(asterisk_sandbox)
    try:
        asterisk_sandbox.call("300", hangup_after=20, caller="+4930777")
        [waiting] = await running.until("CallWaiting", lambda: running.emitted(CallWaiting))
        running.proxy.cut()
        await running.until("the loss", lambda: running.emitted(PbxConnectionLost), 5)
        await running.until("a second resync", lambda: len(running.emitted(PbxResynced)) >= 2)
        assert waiting.call_id in {c.call_id for c in running.emitted(PbxResynced)[1].callers}

        running.proxy.frozen = True  # half-open: nothing arrives, nothing is refused
        frozen_at = time.monotonic()
        lost = await running.until(
            "the half-open link noticed",
            lambda: [
                t for t, e in running.events if isinstance(e, PbxConnectionLost) and t > frozen_at
            ],
        )
        assert lost[0] - frozen_at <= 5.0
        running.proxy.frozen = False
        await running.until("a third resync", lambda: len(running.emitted(PbxResynced)) >= 3)
        await running.pbx.hang_up(waiting.call_id)
    finally:
        await stop(running)


async def test_an_originate_pending_when_the_link_drops_is_never_sent_again(
    asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    running = await start(asterisk_sandbox)
    try:
        running.proxy.frozen = True
        leg = f"ccgw-test-{time.monotonic_ns()}"
        pending = asyncio.create_task(running.pbx.ring_agent(ring(leg, "1.1", 4)))
        await asyncio.sleep(0.2)
        running.proxy.cut()
        running.proxy.frozen = False
        with pytest.raises(PbxUnavailable):
            await pending
        await running.until("the reconnect", lambda: len(running.emitted(PbxResynced)) >= 2)
        await asyncio.sleep(1.5)
        dialled = [e for e in observer.events if e.get("Uniqueid") == leg]
        assert dialled == [], "the originate reached Asterisk after the reconnect"
    finally:
        await stop(running)


async def test_a_restarted_adapter_sees_bridged_and_waiting_calls(
    asterisk_sandbox: Sandbox,
) -> None:
    first = await start(asterisk_sandbox)
    try:
        asterisk_sandbox.call("301", hangup_after=15, caller="+4930001")
        asterisk_sandbox.call("302", hangup_after=15, caller="+4930002")
        calls = await first.until(
            "two callers",
            lambda: len(first.emitted(CallWaiting)) >= 2 and first.emitted(CallWaiting),
        )
        talking = next(c for c in calls if c.extension == "301")
        waiting = next(c for c in calls if c.extension == "302")
        leg = f"ccgw-test-{time.monotonic_ns()}"
        await first.pbx.ring_agent(ring(leg, talking.call_id, 5))
        await first.until("the answer", lambda: first.emitted(AgentLegAnswered))
    finally:
        await stop(first)
    second = await start(asterisk_sandbox)  # as after a controller restart
    try:
        snapshot = second.emitted(PbxResynced)[0]
        assert isinstance(second.events[0][1], PbxResynced)
        callers = {c.call_id: c for c in snapshot.callers}
        assert callers[waiting.call_id].extension == "302"
        assert callers[talking.call_id].extension == "301"
        [agent_leg] = [a for a in snapshot.agent_legs if a.leg_id == leg]
        assert (agent_leg.device, agent_leg.caller_id, agent_leg.answered) == (
            "PJSIP/agent5",
            talking.call_id,
            True,
        )
        devices = {d.device: d.state.value for d in snapshot.devices}
        assert devices["PJSIP/agent5"] == "in_use"
        for call in (talking, waiting):
            await second.pbx.hang_up(call.call_id)
    finally:
        await stop(second)


async def test_a_supervisor_can_whisper_to_a_bridged_agent(
    asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    running = await start(asterisk_sandbox)
    try:
        asterisk_sandbox.call("303", hangup_after=8, caller="+4930303")
        [waiting] = await running.until("CallWaiting", lambda: running.emitted(CallWaiting))
        leg = f"ccgw-test-{time.monotonic_ns()}"
        await running.pbx.ring_agent(ring(leg, waiting.call_id, 3))
        await running.until("the answer", lambda: running.emitted(AgentLegAnswered))
        await running.pbx.monitor(Monitor(leg, "PJSIP/agent6", MonitorMode.WHISPER))
        started = await running.until(
            "ChanSpyStart",
            lambda: [e for e in observer.events if e.get("Event") == "ChanSpyStart"],
            timeout_s=10,
        )
        assert started[0]["SpyeeUniqueid"] == leg
        assert started[0]["SpyerChannel"].startswith("PJSIP/agent6-")
        with pytest.raises(PbxRejected, match="not up"):
            await running.pbx.monitor(Monitor("ccgw-gone", "PJSIP/agent6", MonitorMode.LISTEN))
    finally:
        await stop(running)
