"""The foundation's routing scenario driven through FreeSwitchPbx, the real dispatcher, centre
and stores, against a server that answers only with messages from the real transcripts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.transfers import TargetKind, TransferTarget
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.persistence import SqlCallbackStore, SqlTaskStore
from ccgateway.ports import InteractionQuery
from ccgateway.services.work_service import WorkService
from ccgateway.settings import Settings
from tests.fixtures.esl import transcript
from tests.pbx.freeswitch.scripted import ScriptedServer, answer_idle_phones, recorded_turns

CALLER = "bf839f41-3bae-493e-a551-a2ca2c1aa93e"  # the customer parked in transcript 14
LEG_14 = "63748d66-36a3-44fd-94a7-c3226b6b0cfe"  # the agent leg answered in transcript 14
LEG_10 = "fff0ffc4-3da1-47e3-90ba-caba758b035e"  # the originate that failed in transcript 10
CALLER_11 = "d75cdc50-0307-4649-bad5-0bee963d3e3a"  # the parked caller who hangs up in 11


def turns(name: str) -> list[tuple[str, list[str]]]:
    return recorded_turns(transcript(name), "ctl")


def server_for_scenario() -> tuple[ScriptedServer, dict[str, list[str]]]:
    t14, t10, t11 = (
        turns("14_agent_register_originate_bridge"),
        turns("10_originate_failure"),
        turns("11_sipp_uac_park"),
    )
    server = ScriptedServer(greeting=t14[0][1])
    server.answer("auth ", t14[1])
    subscribe_cmd, after_subscribe = t14[2]
    server.answer("event plain", (subscribe_cmd, after_subscribe[:1]))
    server.answer("api show channels as json", t11[3])  # {"row_count": 0}
    answer_idle_phones(server)
    pushes = {
        "register_and_caller_parks": after_subscribe[1:],
        "caller_and_agent_hang_up": t14[5][1][1:],  # the events after uuid_kill's reply
        "caller_11_hangs_up": [r for r in t11[4][1] if "CHANNEL_HANGUP" in r],
    }
    failing_bgapi = next(t for t in t10 if t[0].startswith("bgapi") and LEG_10 in t[0])
    return server, {
        "t14_bgapi": [t14[3]],
        "t10_bgapi": [failing_bgapi],  # type: ignore[dict-item]
        "t14_bridge": [t14[4]],
        **pushes,
    }  # type: ignore[dict-item]


class Scenario:
    def __init__(
        self, controller: Controller, server: ScriptedServer, task: asyncio.Task[None]
    ) -> None:
        self.controller, self.server, self.task = controller, server, task
        self.center = controller.dispatcher.center

    async def until(self, what: str, check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while not (result := check()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; sent {self.server.received[-3:]}"
                )
            await asyncio.sleep(0.01)
        return result

    async def interactions(self) -> list[Any]:
        await self.controller.dispatcher.drain_writes()
        return await self.controller.service.interactions(InteractionQuery())


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[tuple[Scenario, dict[str, list[Any]]]]:
    server, script = server_for_scenario()
    port = await server.start()
    # The recorded FreeSWITCH had no hold music configured: none is asked for here; and a
    # replayed transcript has no channel table lagging behind its events to wait for.
    pbx = FreeSwitchPbx(
        port=port,
        password="ClueCon",
        inbound_context="default",
        hold_music=None,
        resync_settle_s=0,
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key="scenario-admin-key-0123"
    )
    controller = build_controller(settings, [pbx])
    legs = count(1)
    controller.dispatcher.center.floor.new_id = lambda: f"ccgw-leg-{next(legs)}"
    task = asyncio.create_task(controller.dispatcher.run())
    service = controller.service
    await service.create_skill(Skill("support", "Support"))
    await service.create_queue(
        Queue("fs-support", "Support", "5000", {"support": 5}, pbx="freeswitch")
    )
    for agent_id, device in (("fs1", "user/1004"), ("fs2", "user/1001")):
        await service.create_agent(
            Agent(agent_id, agent_id, device, {"support": 7}, pbx="freeswitch")
        )
        await service.set_agent_state(agent_id, AgentState.AVAILABLE, None)
        await asyncio.sleep(0.01)  # fs1 idles longest: it is offered first
    yield Scenario(controller, server, task), script
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await server.stop()
    controller.engine.dispose()


async def test_a_parked_caller_reaches_a_qualified_agent_and_is_bridged(
    scenario: tuple[Scenario, dict[str, list[Any]]],
) -> None:
    s, script = scenario
    s.server.answer("bgapi originate", script["t14_bgapi"][0])
    s.server.answer("api uuid_bridge", script["t14_bridge"][0])
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(script["register_and_caller_parks"])
    await s.until("the offer", lambda: s.center.calls.get(CALLER))
    originate = await s.until(
        "the originate", lambda: [c for c in s.server.received if c.startswith("bgapi originate")]
    )
    assert "origination_uuid=ccgw-leg-1" in originate[0]
    assert f"ccgw_caller={CALLER}" in originate[0] and "}user/1004 &park()" in originate[0]
    await s.until("the bridge", lambda: f"api uuid_bridge {CALLER} ccgw-leg-1" in s.server.received)
    await s.until("connected", lambda: s.center.calls[CALLER].state == "connected")
    assert s.center.status["fs1"].state is AgentState.ON_CALL
    s.server.push(script["caller_and_agent_hang_up"])
    await s.until("the end", lambda: not s.center.calls)
    [record] = await s.interactions()
    assert (record.outcome.value, record.agent_id, record.queue_id) == (
        "answered",
        "fs1",
        "fs-support",
    )
    assert s.server.unanswered == []


async def test_an_agent_who_cannot_be_reached_is_made_not_ready_and_the_next_one_rung(
    scenario: tuple[Scenario, dict[str, list[Any]]],
) -> None:
    s, script = scenario
    s.server.answer("bgapi originate", script["t10_bgapi"][0])
    s.server.answer("bgapi originate", script["t14_bgapi"][0])
    s.server.answer("api uuid_bridge", script["t14_bridge"][0])
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(script["register_and_caller_parks"])
    await s.until(
        "the second offer",
        lambda: s.center.calls.get(CALLER) and s.center.calls[CALLER].leg_id == "ccgw-leg-2",
    )
    assert s.center.status["fs1"].state is AgentState.PAUSED
    assert "unreachable" in (s.center.status["fs1"].reason or "")
    await s.until("connected", lambda: s.center.calls[CALLER].state == "connected")
    assert s.center.calls[CALLER].agent_id == "fs2"


async def test_a_caller_who_hangs_up_while_waiting_is_abandoned(
    scenario: tuple[Scenario, dict[str, list[Any]]],
) -> None:
    s, script = scenario
    for agent_id in ("fs1", "fs2"):
        await s.controller.service.set_agent_state(agent_id, AgentState.PAUSED, "break")
    s.server.ids[CALLER_11] = CALLER
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(script["register_and_caller_parks"])
    await s.until("the waiting call", lambda: s.center.calls.get(CALLER))
    s.server.push(script["caller_11_hangs_up"])
    await s.until("the end", lambda: not s.center.calls)
    [record] = await s.interactions()
    assert record.outcome.value == "abandoned" and record.agent_id is None


async def test_a_blind_transfer_back_into_a_queue(
    scenario: tuple[Scenario, dict[str, list[Any]]],
) -> None:
    """On FreeSWITCH a blind transfer is uuid_transfer of the caller into the inbound
    context (it parks again) and uuid_kill of the agent's parked leg (answers from the real
    07 and 08 transcripts). Consults: tests/pbx/freeswitch/test_consults.py."""
    s, script = scenario
    s.server.answer("bgapi originate", script["t14_bgapi"][0])
    s.server.answer("api uuid_bridge", script["t14_bridge"][0])
    s.server.answer("api uuid_transfer", turns("07_uuid_transfer")[4])
    s.server.answer("api uuid_kill", turns("08_uuid_kill")[4])
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(script["register_and_caller_parks"])
    await s.until(
        "connected",
        lambda: s.center.calls.get(CALLER) and s.center.calls[CALLER].state == "connected",
    )
    work = WorkService(
        s.controller.dispatcher,
        SqlCallbackStore(s.controller.engine),
        SqlTaskStore(s.controller.engine),
    )
    moved = await work.transfer(CALLER, TransferTarget(TargetKind.QUEUE, "fs-support"), False)
    assert moved is not None and moved.queue_id == "fs-support"
    await s.until(
        "the caller sent back to park",
        lambda: f"api uuid_transfer {CALLER} 5000 XML default" in s.server.received,
    )
    await s.until("the agent leg ended", lambda: "api uuid_kill ccgw-leg-1" in s.server.received)
    [part] = await s.interactions()
    assert (part.agent_id, part.outcome.value, part.detail) == (
        "fs1",
        "transferred",
        "to queue fs-support",
    )
