"""What a pair's controller that lost the lease leaves for the next active, and how the active
takes it in (services/handover.py): the facts and presences are handed over, the other
states are not (and the log says how many of each were dropped); taken in through the real
dispatcher, a do-not-call number reaches the live lists as well as the store, a record the
active has already is not written twice, a presence is applied only to an agent whose
presence has not changed at the active, and the rows are forgotten once written. The store
here is a list; the real one, through the fence on PostgreSQL, is in
tests/persistence/test_lease_store.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import (
    Interaction,
    Outcome,
    RecordInteraction,
    SaveCallback,
    SavePresence,
)
from ccgateway.domain.model import Agent
from ccgateway.domain.outbound.commands import RecordDial, SuppressNumber
from ccgateway.domain.records import Callback
from ccgateway.persistence import SqlConfigStore, SqlInteractionStore, open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.ports import InteractionQuery, LeftWrite
from ccgateway.services import handover
from ccgateway.testing import build_harness
from ccgateway.testing.harness import hermetic_settings
from tests.persistence.test_outbound_store import dial

CALL = Interaction("c1", "q", "ann", "+4930111", Outcome.ANSWERED, 100.0, 103.0, 160.0, 3.0,
                   57.0, 1)  # fmt: skip
OBJECTION = SuppressNumber("+447700900777", "asked not to be called", 150.0)
PRESENCE = SavePresence("ann", AgentState.PAUSED, "lunch")
CALLBACK = SaveCallback(Callback("cb-1", "q", "+4930111", "Ann", 5, 10.0, 12.0))
DIAL = dial("ob-1", 120.0)


class Left:
    """A handover store in a list (the port's contract; SqlHandoverStore is the real one)."""

    def __init__(self, fails: bool = False) -> None:
        self.rows: list[LeftWrite] = []
        self.fails = fails

    def leave(self, node: str, epoch: int, writes: Sequence[object]) -> None:
        if self.fails:
            raise ConnectionRefusedError("connection refused")
        start = len(self.rows)
        self.rows += [LeftWrite(start + k, node, epoch, w) for k, w in enumerate(writes)]

    def waiting(self, limit: int) -> list[LeftWrite]:
        return self.rows[:limit]

    def forget(self, ids: Collection[int]) -> None:
        self.rows = [row for row in self.rows if row.id not in ids]


async def taken_in(store: Left, dispatcher: handover.TakesIn) -> None:
    """The active's job run until it has taken in every row left (or 2 s)."""
    taking = asyncio.create_task(handover.take_in(store, dispatcher, every_s=0.01))
    try:
        for _ in range(200):
            if not store.rows:
                break
            await asyncio.sleep(0.01)
    finally:
        taking.cancel()


def test_facts_are_handed_over_in_order_and_the_states_dropped_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Left()
    writes = [CALLBACK, RecordInteraction(CALL), CALLBACK, OBJECTION, PRESENCE]
    with caplog.at_level(logging.WARNING):
        assert handover.leave(store, "a", 1, writes) == 3
    assert [(r.node, r.epoch, r.write) for r in store.rows] == [
        ("a", 1, RecordInteraction(CALL)), ("a", 1, OBJECTION), ("a", 1, PRESENCE)
    ]  # fmt: skip
    assert "2 SaveCallback" in caplog.text and "left 3 unwritten writes" in caplog.text


def test_a_store_that_cannot_be_reached_is_logged_and_the_exit_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        assert handover.leave(Left(fails=True), "a", 1, [OBJECTION]) == 0
    assert "could not leave its 1 unwritten writes: connection refused" in caplog.text


async def test_the_active_takes_them_in_through_its_dispatcher_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = build_harness()
    store = Left()
    async with harness.running():
        dispatcher = harness.controller.dispatcher
        engine = harness.controller.engine
        SqlInteractionStore(engine).add(replace(CALL, call_id="c-gap", arrived_at=99.5))
        store.leave("a", 1, [RecordInteraction(CALL), OBJECTION])
        store.leave("a", 1, [RecordInteraction(replace(CALL, call_id="c-gap"))])
        store.leave("a", 1, [RecordDial(DIAL), RecordDial(DIAL)])  # the second: kept once
        await taken_in(store, dispatcher)
        assert store.rows == []
        assert dispatcher.center.outbound.suppressed == {
            OBJECTION.number: "internal (asked not to be called)"
        }
        assert SqlOutboundStore(engine).suppressed([OBJECTION.number]) == {
            OBJECTION.number: "internal"
        }
        calls = SqlInteractionStore(engine).query(InteractionQuery())
        assert sorted((c.call_id, c.arrived_at) for c in calls) == [("c-gap", 99.5), ("c1", 100.0)]
        assert SqlOutboundStore(engine).dials(None, None, 10) == [DIAL]
    assert "a database write failed" not in caplog.text


async def test_a_presence_left_is_taken_only_where_the_active_changed_nothing_since(
    tmp_path: Path,
) -> None:
    """ann paused for lunch on the controller that lost the lease, and nobody touched her
    presence on the active: she is paused there too (and stored so). bob went available on
    the old one, but the active paused him since its takeover: his own, newer, stands."""
    url = f"sqlite:///{tmp_path}/ccgateway.db"
    config = SqlConfigStore(open_database(url))
    for agent in ("ann", "bob"):
        config.put_agent(Agent(agent, agent.title(), f"PJSIP/{agent}"))
        config.save_presence(agent, AgentState.AVAILABLE, None)
    harness = build_harness(hermetic_settings(url))
    store = Left()
    async with harness.running():
        dispatcher, center = harness.controller.dispatcher, harness.controller.dispatcher.center
        await harness.controller.service.set_agent_state("bob", AgentState.PAUSED, "training")
        store.leave("a", 1, [PRESENCE, SavePresence("bob", AgentState.AVAILABLE, None)])
        await taken_in(store, dispatcher)
        assert (center.status["ann"].state, center.status["ann"].reason) == (
            AgentState.PAUSED, "lunch"
        )  # fmt: skip
        assert (center.status["bob"].state, center.status["bob"].reason) == (
            AgentState.PAUSED, "training"
        )  # fmt: skip
        await dispatcher.drain_writes()
    stored = SqlConfigStore(open_database(url)).load_presence()
    assert stored == {"ann": (AgentState.PAUSED, "lunch"), "bob": (AgentState.PAUSED, "training")}
