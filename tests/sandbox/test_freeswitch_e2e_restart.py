"""A controller restart in the middle of real FreeSWITCH calls neither drops nor duplicates
them (tests/e2e/test_controller_restart.py's first scenario on the FreeSWITCH sandbox).

Two controllers in a row on the same database and the same FreeSWITCH: the first connects a
caller to an agent and sees a second caller waiting, then stops dead (no goodbye to the
switch). The second rebuilds both from `show channels as json`: the talking agent stays on
that call (and is offered nothing), the waiting caller is served, each call is recorded once
when it ends, and FreeSWITCH rang each agent's phone once (its own CHANNEL_CREATE events).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.settings import Settings
from tests.e2e.test_controller_restart import adopt_and_serve
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import MARKS, bridged_agents, freeswitch_sandbox

pytestmark = MARKS


async def until(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-restart"), 2) as sandbox:
        yield sandbox


def start(
    sandbox: FreeSwitchSandbox, db: Path, port: int = ESL_PORT
) -> tuple[Controller, asyncio.Task[None]]:
    """A controller on `db` driving the sandbox FreeSWITCH (through `port`: a recorder)."""
    settings = Settings(
        database_url=f"sqlite:///{db}",
        admin_key="restart-admin-key-0123",
        asterisk={"enabled": False},
    )
    pbx = FreeSwitchPbx(port=port, password=sandbox.esl_password())
    controller = build_controller(settings, [pbx])
    return controller, asyncio.create_task(controller.dispatcher.run())


async def stop_dead(controller: Controller, task: asyncio.Task[None]) -> None:
    """As a crash would: no goodbye to the PBX, the calls stay where they are."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await controller.dispatcher.pbx.close()
    controller.engine.dispose()


async def test_a_restart_adopts_a_bridged_call_and_serves_the_waiting_one(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    first, task = start(sandbox, db)
    try:
        service = first.service
        await service.create_skill(Skill("support", "Support"))
        await service.create_queue(
            Queue("support", "Support", "400", {"support": 5}, wrapup_s=0, pbx="freeswitch")
        )
        for k in (1, 2):
            await service.create_agent(
                Agent(f"agent{k}", f"A{k}", f"user/100{k}", {"support": 7}, pbx="freeswitch")
            )
        await service.set_agent_state("agent1", AgentState.AVAILABLE, None)
        await until("the PBX", lambda: first.dispatcher.center.pbx_ready)
        sandbox.call("400", hangup_after=14, caller="+4930400001")
        center = first.dispatcher.center
        talking = await until(
            "a connected call",
            lambda: next(
                (
                    c.id
                    for c in center.calls.values()
                    if c.state is CallState.CONNECTED and c.caller_number == "+4930400001"
                ),
                None,
            ),
        )
        await until("FreeSWITCH's bridge", lambda: bridged_agents(observer, talking) == {1})
        sandbox.call("400", hangup_after=25, caller="+4930400002")
        await until(
            "the second caller waiting",
            lambda: [c for c in center.calls.values() if c.caller_number == "+4930400002"],
        )
        await first.dispatcher.drain_writes()
        seen = {
            c.id: (c.arrived_at, c.answered_at)
            for c in center.calls.values()
            if c.caller_number in ("+4930400001", "+4930400002")
        }
    finally:
        await stop_dead(first, task)

    second, task = start(sandbox, db)
    try:
        waiting = await adopt_and_serve(second, talking, "+4930400002", seen)
        # FreeSWITCH's word: each caller bridged to its agent, each agent's phone rung once.
        assert bridged_agents(observer, talking) == {1}
        assert bridged_agents(observer, waiting) == {2}
        rings = [
            e
            for e in observer.named("CHANNEL_CREATE")
            if e.get("Unique-ID", "").startswith("ccgw-")
        ]
        assert len(rings) == 2, [e.get("Channel-Name") for e in rings]
    finally:
        await stop_dead(second, task)
        await observer.stop()
