"""Log lines as JSON, carrying the ids of what the dispatcher was handling: the real
controller on the shipped doubles (a PBX that refuses to ring, standing for our port)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import PbxCommand, RingAgent
from ccgateway.domain.events import CallWaiting, PbxResynced
from ccgateway.domain.model import Agent, Queue
from ccgateway.logs import JsonFormatter
from ccgateway.ports import PbxRejected
from ccgateway.services import log_context
from ccgateway.testing import FakePbx, build_harness


class RefusingPbx(FakePbx):
    """Refuses to ring anybody, as an Asterisk would answer an Originate with an error."""

    async def execute(self, command: PbxCommand) -> None:
        await super().execute(command)
        if isinstance(command, RingAgent):
            raise PbxRejected("Originate failed: no such device")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def parsed(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("ccgateway")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_call_id_reaches_the_log_line_of_its_failed_ring(lines: Lines) -> None:
    harness = build_harness(pbx=RefusingPbx())
    service = harness.controller.service
    async with harness.running() as h:
        await service.create_queue(Queue("q", "Q", "200"))
        await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await service.set_agent_state("a1", AgentState.AVAILABLE, None)
        await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
        await h.pbx.wait_for(RingAgent)
        await h.settle()  # the refusal comes back as AgentLegFailed
        await h.settle()
    entries = lines.parsed()
    assert all(len(line.splitlines()) == 1 for line in lines.lines)
    [failed] = [e for e in entries if "RingAgent on asterisk failed" in str(e["message"])]
    assert (failed["call_id"], failed["agent_id"], failed["level"]) == ("c1", "a1", "WARNING")
    assert failed["logger"] == "ccgateway.services.dispatcher"
    # The agent's presence changes are logged with their agent's id: the login, then the
    # not-ready pause the failed ring brought.
    presence = [e for e in entries if str(e["message"]).startswith("agent a1:")]
    assert [e["message"] for e in presence] == [
        "agent a1: available",
        "agent a1: paused (not ready: error)",
    ]
    assert all(e["agent_id"] == "a1" for e in presence)
    # Once the dispatcher is done with a command, nothing is named any more.
    assert log_context.ids() == {}


def test_a_json_line_has_the_time_level_message_exception_and_given_ids() -> None:
    logger = logging.getLogger("ccgateway.test")
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logger.makeRecord(
            "ccgateway.test",
            logging.ERROR,
            __file__,
            1,
            "caller %s said %r",
            ("c9", "x\ny"),
            exc_info=sys.exc_info(),
            extra={"queue_id": "sales"},
        )
    log_context.about(RingAgent("leg", "c9", "a2", "PJSIP/a2", 15))
    try:
        line = JsonFormatter().format(record)
    finally:
        log_context.clear()
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "caller c9 said 'x\\ny'"
    assert (entry["level"], entry["logger"]) == ("ERROR", "ccgateway.test")
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]
    assert (entry["call_id"], entry["agent_id"], entry["queue_id"]) == ("c9", "a2", "sales")
    assert "campaign_id" not in entry
    assert "ValueError: bad" in entry["exception"]
