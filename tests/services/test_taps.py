"""Command taps: what the webhooks, the queue_log feed and the reports are fed from. The real
controller (composition root, in-memory database) on the shipped doubles."""

from __future__ import annotations

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Command, Notify, RecordInteraction, RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.model import Agent, Queue
from ccgateway.testing import build_harness


class Seen:
    def __init__(self) -> None:
        self.commands: list[tuple[Command, float]] = []

    def observe(self, command: Command, now: float) -> None:
        self.commands.append((command, now))


class Broken:
    def observe(self, command: Command, now: float) -> None:
        raise RuntimeError("a tap that fails")


async def test_a_tap_sees_every_command_in_order_and_a_failing_one_stops_nothing() -> None:
    harness = build_harness()
    seen = Seen()
    harness.controller.dispatcher.taps[:0] = [Broken()]
    harness.controller.dispatcher.taps.append(seen)
    service = harness.controller.service
    async with harness.running() as h:
        await service.create_queue(Queue("q", "Q", "200"))
        await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await service.set_agent_state("a1", AgentState.AVAILABLE, None)
        await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
        [ring] = await h.pbx.wait_for(RingAgent)
        await h.emit(AgentLegAnswered(ring.leg_id))
        h.clock.advance(30)
        await h.emit(ChannelHungUp("c1"))
    kinds = [type(c).__name__ for c, _ in seen.commands]
    assert "RingAgent" in kinds and "RecordInteraction" in kinds  # the broken tap stopped none
    assert kinds.index("RingAgent") < kinds.index("RecordInteraction")
    [record] = [c.interaction for c, _ in seen.commands if isinstance(c, RecordInteraction)]
    assert record.call_id == "c1" and record.talk_s == 30
    states = [
        c.data["state"]
        for c, _ in seen.commands
        if isinstance(c, Notify) and c.topic == "call.state"
    ]
    assert states[0] == "waiting" and "connected" in states
    times = [now for _, now in seen.commands]
    assert times == sorted(times)
