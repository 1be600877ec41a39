"""A turn's command to the PBX goes out before the turn's bookkeeping: the taps (webhooks,
queue_log, reports), the event stream and the queued writes come after the Originate."""

from __future__ import annotations

from pathlib import Path

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Command, RingAgent
from ccgateway.domain.events import CallWaiting, PbxResynced
from ccgateway.domain.model import Agent, Queue
from tests.services.stack import Stack


async def test_the_agent_is_rung_before_any_tap_sees_the_ring(tmp_path: Path) -> None:
    stack = await Stack.start(tmp_path / "db.sqlite")
    seen: list[int] = []  # rings the PBX had received when a tap saw each RingAgent

    class Tap:
        def observe(self, command: Command, now: float) -> None:
            if isinstance(command, RingAgent):
                seen.append(len(stack.pbx.rings()))

    try:
        await stack.service.create_queue(Queue("support", "Support", "400"))
        await stack.service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await stack.service.set_agent_state("a1", AgentState.AVAILABLE, None)
        stack.dispatcher.taps.append(Tap())
        await stack.emit(PbxResynced(), CallWaiting("c1", "400", "+4930"))
        assert len(stack.pbx.rings()) == 1
        assert seen == [1]
    finally:
        await stack.stop()
