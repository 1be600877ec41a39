"""A controller restart in the middle of real calls neither drops nor duplicates them.

Two controllers in a row on the same database and the same sandbox Asterisk: the first
connects a caller to an agent and sees a second caller waiting, then stops dead. The second
must rebuild both from the PBX: the talking agent stays on that call (and is offered
nothing), the waiting caller is served, and each call is recorded once when it ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState
from ccgateway.domain.commands import HangUp
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.queue_policy import Announcements
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.persistence import SqlCallbackStore, SqlTaskStore
from ccgateway.ports import InteractionQuery
from ccgateway.sandbox import Sandbox
from ccgateway.services.work_service import WorkService
from ccgateway.settings import Settings
from tests.e2e.ami_observer import AmiObserver

pytestmark = pytest.mark.asterisk


async def until(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def start(sandbox: Sandbox, db: Path) -> tuple[Controller, asyncio.Task[None]]:
    settings = Settings(database_url=f"sqlite:///{db}", admin_key="restart-admin-key-0123")
    controller = build_controller(settings, [AsteriskPbx(secret=sandbox.ami_secret())])
    return controller, asyncio.create_task(controller.dispatcher.run())


async def stop_dead(controller: Controller, task: asyncio.Task[None]) -> None:
    """As a crash would: no goodbye to the PBX, the calls stay where they are."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await controller.dispatcher.pbx.close()
    controller.engine.dispose()


async def test_a_restart_adopts_a_bridged_call_and_serves_the_waiting_one(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    first, task = start(asterisk_sandbox, db)
    try:
        service = first.service
        await service.create_skill(Skill("support", "Support"))
        await service.create_queue(Queue("support", "Support", "400", {"support": 5}, wrapup_s=0))
        for k in (1, 2):
            await service.create_agent(
                Agent(f"agent{k}", f"A{k}", f"PJSIP/agent{k}", {"support": 7})
            )
        await service.set_agent_state("agent1", AgentState.AVAILABLE, None)
        await until("the PBX", lambda: first.dispatcher.center.pbx_ready)
        asterisk_sandbox.call("400", hangup_after=14, caller="+4930400001")
        # Other tests' calls may still be up on the shared sandbox: know ours by number.
        talking = await until(
            "a connected call",
            lambda: next(
                (
                    c.id
                    for c in first.dispatcher.center.calls.values()
                    if c.state is CallState.CONNECTED and c.caller_number == "+4930400001"
                ),
                None,
            ),
        )
        asterisk_sandbox.call("400", hangup_after=25, caller="+4930400002")
        await until(
            "the second caller waiting",
            lambda: [
                c
                for c in first.dispatcher.center.calls.values()
                if c.caller_number == "+4930400002"
            ],
        )
        await first.dispatcher.drain_writes()
        seen = {
            c.id: (c.arrived_at, c.answered_at)
            for c in first.dispatcher.center.calls.values()
            if c.caller_number in ("+4930400001", "+4930400002")
        }
    finally:
        await stop_dead(first, task)

    second, task = start(asterisk_sandbox, db)
    try:
        waiting = await adopt_and_serve(second, talking, "+4930400002", seen)
        pairs = observer.bridged_pairs()
        assert pairs[talking] == {"PJSIP/agent1"} and pairs[waiting] == {"PJSIP/agent2"}
        rings = [
            e
            for e in observer.events
            if e.get("Event") == "Newchannel"
            and e.get("Channel", "").startswith(("PJSIP/agent1-", "PJSIP/agent2-"))
        ]
        assert len(rings) == 2  # each agent rung once: nothing dialled twice
    finally:
        await stop_dead(second, task)
        await observer.stop()


async def adopt_and_serve(
    second: Controller,
    talking: str,
    waiting_number: str,
    seen: dict[str, tuple[float, float | None]] | None = None,
) -> str:
    """After a restart: the call `talking` (agent1's) is adopted, not re-offered; the caller
    from `waiting_number`, found waiting, is served by agent2 once made available; once
    both end, each has exactly one record. The waiting call's id. `seen`: each call's
    arrival and answer as the first controller had them: the adopted calls keep them to
    within a few milliseconds (the PBX's sub-second stamps), not rounded to whole seconds."""
    center = second.dispatcher.center
    await until("the resync", lambda: center.pbx_ready)
    assert center.calls[talking].state is CallState.CONNECTED
    assert center.status["agent1"].state is AgentState.ON_CALL  # adopted, not re-offered
    [waiting] = [c for c in center.waiting if center.calls[c].caller_number == waiting_number]
    for call_id, (arrived, answered) in (seen or {}).items():
        call = center.calls[call_id]
        assert abs(call.arrived_at - arrived) < 0.05, (call_id, call.arrived_at, arrived)
        if answered is not None:
            assert call.answered_at is not None and abs(call.answered_at - answered) < 0.05
    await second.service.set_agent_state("agent2", AgentState.AVAILABLE, None)
    await until(
        "the waiting caller served",
        lambda: center.calls.get(waiting) and center.calls[waiting].state is CallState.CONNECTED,
    )
    assert center.calls[waiting].agent_id == "agent2"
    await until("both calls over", lambda: not {talking, waiting} & set(center.calls), timeout_s=40)
    await second.dispatcher.drain_writes()
    records = await second.service.interactions(InteractionQuery())
    ours = [
        (r.call_id, r.agent_id, r.outcome.value) for r in records if r.call_id in (talking, waiting)
    ]
    assert sorted(ours) == sorted(
        [(talking, "agent1", "answered"), (waiting, "agent2", "answered")]
    )  # once each
    return waiting


async def test_a_restart_keeps_a_callback_promised_and_a_caller_mid_announcement(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    """The first controller promises a callback and starts announcing to a waiting caller,
    then dies. The second loads the callback from the database and finds the caller in the
    announcement from the PBX's channel list (out of the holding bridge); both are served,
    the callback first (its place is earlier), each once."""
    db = tmp_path / "db.sqlite"
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    announce = Announcements(position=True, first_s=5, every_s=60)
    first, task = start(asterisk_sandbox, db)
    try:
        service = first.service
        await service.create_queue(Queue("later", "Later", "410", wrapup_s=0, announce=announce))
        await service.create_agent(Agent("agent3", "A3", "PJSIP/agent3"))
        await until("the PBX", lambda: first.dispatcher.center.pbx_ready)
        stores = SqlCallbackStore(first.engine), SqlTaskStore(first.engine)
        promised = await WorkService(first.dispatcher, *stores).create_callback(
            "later", "+4940555", "Ann", None, None
        )
        asterisk_sandbox.call("410", hangup_after=40, caller="+4930410001")
        center = first.dispatcher.center
        waiting = await until(
            "the caller waiting",
            lambda: next(
                (c.id for c in center.calls.values() if c.caller_number == "+4930410001"), None
            ),
        )
        await until(  # Asterisk's word: the caller left the holding bridge for the announcement
            "the announcement",
            lambda: [
                e
                for e in observer.events
                if e.get("Event") == "BridgeLeave"
                and e.get("Uniqueid") == waiting
                and e.get("Context") == "ccgw-announce"
            ],
        )
        await first.dispatcher.drain_writes()
    finally:
        await stop_dead(first, task)

    second, task = start(asterisk_sandbox, db)
    try:
        center = second.dispatcher.center
        await until("the resync", lambda: center.pbx_ready)
        assert center.calls[waiting].state is CallState.WAITING  # found in ccgw-announce
        assert center.callbacks.callbacks[promised.id].state.value == "waiting"
        await second.service.set_agent_state("agent3", AgentState.AVAILABLE, None)
        await until(
            "agent3 on the callback",
            lambda: (
                center.status["agent3"].call_id == promised.id
                and center.status["agent3"].state is AgentState.ON_CALL
            ),
            timeout_s=30,
        )
        await until(
            "the customer answered", lambda: center.callbacks.callbacks[promised.id].answered_at
        )
        leg = center.callbacks.callbacks[promised.id].leg_id
        assert leg is not None
        await second.dispatcher.pbx.execute(HangUp(leg, "the agent is done"))
        await until(
            "agent3 on the caller from before the restart",
            lambda: center.calls.get(waiting) and center.calls[waiting].agent_id == "agent3",
            timeout_s=30,
        )
        await second.dispatcher.pbx.execute(HangUp(waiting, "done"))
        await until("the call over", lambda: waiting not in center.calls)
        await second.dispatcher.drain_writes()
        records = await second.service.interactions(InteractionQuery())
        ours = sorted(
            (r.call_id, r.kind, r.outcome.value)
            for r in records
            if r.call_id in (waiting, promised.id)
        )
        assert ours == sorted(
            [(waiting, "inbound", "answered"), (promised.id, "callback", "answered")]
        )
        dialled = [
            e
            for e in observer.events
            if e.get("Event") == "DialBegin" and e.get("DialString", "").startswith("+4940555")
        ]
        assert len(dialled) == 1  # the customer was called once, though two controllers knew
    finally:
        await stop_dead(second, task)
        await observer.stop()
