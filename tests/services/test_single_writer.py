"""The dispatcher as the one writer: checks that read live state run in its turn, a long
register replacement leaves routing going, presence is written only when it changes, and
reads wait for the writes before them. The real stack (SQLite on a file); the PBX is ours."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.persistence import SqlConfigStore, SqlInteractionStore
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.ports import ConfigStore
from tests.api.conftest import seed
from tests.services.stack import Stack

# --- checks in the owner's turn -----------------------------------------------------------


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started = await Stack.start(tmp_path / "ccgateway.db")
    yield started
    await started.stop()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/skills", {"id": "fr", "name": "French"}),
        ("/v1/agents", {"id": "a9", "name": "A9", "device": "PJSIP/agent9"}),
        ("/v1/queues", {"id": "sales", "name": "Sales", "extension": "300"}),
    ],
)
async def test_two_creates_of_one_id_at_once_make_one(
    stack: Stack, path: str, body: dict[str, Any]
) -> None:
    first, second = await asyncio.gather(
        stack.call("POST", path, body), stack.call("POST", path, {**body, "name": "Other"})
    )
    assert sorted([first[0], second[0]]) == [201, 409]
    winner = first[1] if first[0] == 201 else second[1]
    [item] = [i for i in await stack.ok("GET", path) if i["id"] == body["id"]]
    assert item["name"] == winner["name"]  # the one that answered 201 is the one kept


async def test_two_service_creates_at_once_make_one(stack: Stack) -> None:
    from ccgateway.domain.errors import Conflict
    from ccgateway.domain.model import Skill

    results = await asyncio.gather(
        stack.service.create_skill(Skill("fr", "French")),
        stack.service.create_skill(Skill("fr", "Français")),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [Skill, Conflict]
    assert stack.config.load()[0] == [Skill("fr", "French")]


# --- a register replaced while calls are routed ---------------------------------------------


class HeldOutboundStore(SqlOutboundStore):
    """The real store, which holds the second part of a screening until the test lets it
    go: the replacement is then provably under way."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.hold = False
        self.held = threading.Event()
        self.release = threading.Event()
        self.parts = 0

    def screen_numbers(self, register: str, numbers: Any, screening: str, at: float) -> None:
        self.parts += 1
        if self.hold and self.parts == 2:
            self.held.set()
            assert self.release.wait(30), "the test never let the screening go"
        super().screen_numbers(register, numbers, screening, at)


async def test_calls_are_routed_while_a_big_register_is_written(tmp_path: Path) -> None:
    stack = await Stack.start(tmp_path / "ccgateway.db", outbound=HeldOutboundStore)
    store = stack.outbound
    assert isinstance(store, HeldOutboundStore)
    try:
        await seed(stack)
        old = "+441632960999"
        assert (await stack.dialer.replace_register("tps", [old])) == 1
        store.hold, store.parts = True, 0
        numbers = [f"+4420794{n:05d}" for n in range(100_000)]
        numbers += [f"+4420795{n:05d}" for n in range(100_000)]
        replacing = asyncio.create_task(stack.dialer.replace_register("tps", numbers))
        await stack.until(store.held.is_set)

        # Half-way through: a caller is offered to an agent at once.
        stack.pbx.emit(PbxResynced())
        stack.pbx.emit(CallWaiting("c1", "200", "+4930111"))
        [ring] = await stack.until(stack.pbx.rings)
        assert (ring.call_id, ring.agent_id) == ("c1", "a1")
        assert not replacing.done()
        # Meanwhile the register lists the old screening's numbers and the first part of
        # the new one: a replacement under way only suppresses more.
        assert store.suppressed([old, numbers[0], numbers[-1]]) == {
            old: "tps",
            numbers[0]: "tps",
        }
        assert "tps" in stack.center.outbound.screened  # the first screening's time

        store.release.set()
        assert await replacing == 200_000
        assert store.suppressed([old, numbers[0], numbers[-1]]) == {
            numbers[0]: "tps",
            numbers[-1]: "tps",
        }
        assert store.screened()["tps"] == stack.center.outbound.screened["tps"]
    finally:
        store.release.set()
        await stack.stop()


# --- presence written when it changes -------------------------------------------------------


class CountedConfig:
    """The real config store, counting the presence writes it is asked for."""

    def __init__(self, store: SqlConfigStore) -> None:
        self._store = store
        self.presence_writes: list[tuple[str, AgentState, str | None]] = []

    def save_presence(self, agent_id: str, state: AgentState, reason: str | None) -> None:
        self.presence_writes.append((agent_id, state, reason))
        self._store.save_presence(agent_id, state, reason)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_presence_is_written_only_when_what_is_stored_changes(tmp_path: Path) -> None:
    counted: list[CountedConfig] = []

    def config(store: SqlConfigStore) -> ConfigStore:
        counted.append(CountedConfig(store))
        return counted[-1]  # type: ignore[return-value]

    stack = await Stack.start(tmp_path / "ccgateway.db", config=config)
    writes = counted[0].presence_writes
    try:
        await seed(stack)
        await stack.settle()
        assert writes == [(f"a{k}", AgentState.AVAILABLE, None) for k in (1, 2, 3)]
        writes.clear()

        # A whole call: offered (reserved), answered (on a call), ended (wrap-up), ready:
        # the stored presence (available) never changes.
        await stack.emit(PbxResynced(), CallWaiting("c1", "200", "+4930111"))
        [ring] = stack.pbx.rings()
        await stack.emit(AgentLegAnswered(ring.leg_id))
        await stack.advance(30)
        await stack.emit(ChannelHungUp("c1", 16))
        await stack.advance(30)  # the queue's wrap-up
        assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "available"
        assert writes == []

        for reason in ("lunch", "lunch", "training"):
            body = {"state": "paused", "reason": reason}
            await stack.ok("POST", "/v1/agents/a1/state", body)
        await stack.ok("POST", "/v1/agents/a1/state", {"state": "logged_out"})
        await stack.settle()
        assert writes == [
            ("a1", AgentState.PAUSED, "lunch"),
            ("a1", AgentState.PAUSED, "training"),
            ("a1", AgentState.LOGGED_OUT, None),
        ]
    finally:
        await stack.stop()
    assert SqlConfigStore(stack.engine).load_presence()["a1"] == (AgentState.LOGGED_OUT, None)


async def test_a_new_agent_of_a_removed_ones_id_has_its_presence_written(
    stack: Stack,
) -> None:
    await seed(stack)
    await stack.ok("POST", "/v1/agents/a3/state", {"state": "paused", "reason": "lunch"})
    await stack.ok("DELETE", "/v1/agents/a3")
    agent = {"id": "a3", "name": "A3", "device": "PJSIP/agent3"}
    await stack.ok("POST", "/v1/agents", agent)
    await stack.ok("POST", "/v1/agents/a3/state", {"state": "paused", "reason": "lunch"})
    await stack.settle()
    assert stack.config.load_presence()["a3"] == (AgentState.PAUSED, "lunch")


# --- reads wait for the writes before them --------------------------------------------------


class SlowInteractionStore(SqlInteractionStore):
    """The real store on a slow disk: each record takes a while to be written."""

    def add(self, interaction: Interaction) -> None:
        threading.Event().wait(0.3)
        super().add(interaction)


async def test_a_finished_call_is_in_the_interactions_at_once(tmp_path: Path) -> None:
    stack = await Stack.start(tmp_path / "ccgateway.db", interactions=SlowInteractionStore)
    try:
        await seed(stack)
        await stack.emit(PbxResynced(), CallWaiting("c1", "200", "+4930111"))
        [ring] = stack.pbx.rings()
        await stack.emit(AgentLegAnswered(ring.leg_id))
        stack.pbx.emit(ChannelHungUp("c1", 16))
        await stack.until(lambda: not stack.center.calls)  # ended; its record being written
        [record] = await stack.ok("GET", "/v1/interactions")
        assert (record["call_id"], record["outcome"]) == ("c1", "answered")
    finally:
        await stack.stop()
