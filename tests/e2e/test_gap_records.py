"""Calls that end while no controller runs are recorded after the restart, with their times.

The first controller connects one caller to an agent and sees a second caller waiting, then
dies. Both callers hang up while no controller runs: the talking one after its talk, the
waiting one while still waiting. The second controller finds neither in the PBX's channel
list, but the dialplan's end marks (domain/gap.py) tell it how each ended: it records the
conversation as answered by its agent and the other as abandoned, with the times Asterisk
saw (checked against a raw AMI observer that listened throughout), each once, and drops the
marks. A third start records nothing again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState
from ccgateway.domain.model import Agent, Queue
from ccgateway.ports import InteractionQuery
from ccgateway.sandbox import Sandbox
from tests.e2e.ami_observer import AmiObserver
from tests.e2e.test_controller_restart import start, stop_dead, until

TALKING, WAITING = "+4930420001", "+4930420002"


def received(observer: AmiObserver, event: str, **fields: str) -> float:
    """When the observer first heard this event (its own clock, beside Asterisk's)."""
    [first, *_] = observer.seen(event, **fields)
    return float(first["_received"])


async def test_calls_that_end_while_no_controller_runs_are_recorded_after_the_restart(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    first, task = start(asterisk_sandbox, db)
    try:
        service = first.service
        await service.create_queue(Queue("gap", "Gap", "420", wrapup_s=0))
        await service.create_agent(Agent("agent5", "A5", "PJSIP/agent5"))
        await service.set_agent_state("agent5", AgentState.AVAILABLE, None)
        center = first.dispatcher.center
        await until("the PBX", lambda: center.pbx_ready)
        talk = asterisk_sandbox.call("420", hangup_after=8, caller=TALKING)

        def ours(number: str, state: CallState) -> str | None:
            return next(
                (
                    c.id
                    for c in center.calls.values()
                    if c.caller_number == number and c.state is state
                ),
                None,
            )

        talking = await until("a connected call", lambda: ours(TALKING, CallState.CONNECTED))
        wait = asterisk_sandbox.call("420", hangup_after=6, caller=WAITING)
        waiting = await until("the second caller", lambda: ours(WAITING, CallState.WAITING))
        await first.dispatcher.drain_writes()
    finally:
        await stop_dead(first, task)

    # Both end while no controller runs (waited for off the loop: the observer listens on).
    await asyncio.to_thread(talk.wait, 30)
    await asyncio.to_thread(wait.wait, 30)
    second, task = start(asterisk_sandbox, db)
    try:
        await until("the resync", lambda: second.dispatcher.center.pbx_ready)

        async def records() -> list[tuple[str, str]]:
            await second.dispatcher.drain_writes()
            found = await second.service.interactions(InteractionQuery())
            return [(r.call_id, r.outcome.value) for r in found if r.call_id in ours_ids]

        ours_ids = {talking, waiting}
        for _ in range(100):  # the records are written a moment after the resync
            if len(await records()) == 2:
                break
            await asyncio.sleep(0.1)
        found = {
            r.call_id: r
            for r in await second.service.interactions(InteractionQuery())
            if r.call_id in ours_ids
        }
        assert sorted(await records()) == sorted(
            [(talking, "answered"), (waiting, "abandoned")]
        )  # once each
        answered, abandoned = found[talking], found[waiting]
        assert answered.agent_id == "agent5" and abandoned.agent_id is None
        assert answered.queue_id == abandoned.queue_id == "gap"
        assert (answered.caller_number, abandoned.caller_number) == (TALKING, WAITING)
        # The PBX's times, not the restart's: within a moment of what the observer heard.
        for record, call_id in ((answered, talking), (abandoned, waiting)):
            arrived = received(observer, "UserEvent", UserEvent="CCGWWaiting", Uniqueid=call_id)
            ended = received(observer, "Hangup", Uniqueid=call_id)
            assert abs(record.arrived_at - arrived) < 0.5, (record, arrived)
            assert abs(record.ended_at - ended) < 0.5, (record, ended)
            assert record.arrived_at != int(record.arrived_at)  # sub-second, not rounded
        bridged = received(observer, "UserEvent", UserEvent="CCGWAgentAnswered", Caller=talking)
        assert answered.answered_at is not None
        assert abs(answered.answered_at - bridged) < 0.5
        assert 4.0 < answered.talk_s < 8.0 and 5.0 < abandoned.wait_s < 7.5
        figures = second.dispatcher.figures.queue("gap")
        assert (figures.answered, figures.abandoned) == (1, 1)
        await until(  # recorded, so forgotten by the PBX
            "the marks dropped",
            lambda: talking not in asterisk_sandbox.asterisk_cli("database show ccgw_end"),
        )
    finally:
        await stop_dead(second, task)

    third, task = start(asterisk_sandbox, db)
    try:
        await until("the resync", lambda: third.dispatcher.center.pbx_ready)
        await third.dispatcher.drain_writes()
        again = await third.service.interactions(InteractionQuery())
        assert sorted(r.call_id for r in again if r.call_id in ours_ids) == sorted(ours_ids)
    finally:
        await stop_dead(third, task)
        await observer.stop()
