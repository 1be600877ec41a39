"""Calls that end while no controller runs are recorded after the restart, on a real
FreeSWITCH 1.10.12 (tests/e2e/test_gap_records.py's scenario on the FreeSWITCH sandbox).

The first controller connects one caller to an agent and sees a second caller waiting, then
dies. While no controller runs the talking caller hangs up after its talk, the waiting one
while still waiting, and a third caller, who came meanwhile, is ended by the dead-controller
guard (the sandbox's 9 s hold timeout). FreeSWITCH notes each end itself (the callers'
`api_hangup_hook` from ccgw-inbound, the agent leg's from its originate: mod_hash, realm
ccgw_end). The second controller finds none of them in the channel list, but the marks tell
it how each ended: answered by agent1, abandoned, timed out, with FreeSWITCH's times
(checked against a raw Event Socket observer that listened throughout), each recorded once;
then the marks are dropped. A third start records nothing again.

The controllers talk to FreeSWITCH through an `EslRecorder`; with CCGW_ESL_CAPTURE=<folder>
the second one's conversation is written as end_marks.jsonl and the third's resync as
end_marks_none.jsonl, which tests/pbx/freeswitch/test_end_marks.py replays in CI.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import CallState
from ccgateway.domain.gap import GAP_DETAIL
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.ports import InteractionQuery
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from ccgateway.sandbox.lock import asterisk_lock
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.esl_recorder import EslRecorder
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS, bridged_agents
from tests.sandbox.test_freeswitch_e2e_restart import start, stop_dead, until

pytestmark = MARKS
TALKING, WAITING, GUARDED = "+4930430001", "+4930430002", "+4930430003"
HOLD_TIMEOUT_S = 9


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-end-marks"))
        try:
            sandbox.up(agents=1, binary=BINARY, hold_timeout_s=HOLD_TIMEOUT_S)
            yield sandbox
        finally:
            sandbox.down()


def stamp(event: dict[str, str], header: str) -> float:
    """One of FreeSWITCH's own times in an event (microseconds since the epoch)."""
    return int(event[header]) / 1e6


async def test_calls_that_end_while_no_controller_runs_are_recorded_after_the_restart(
    sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    recorder = EslRecorder(ESL_PORT, sandbox.esl_password())
    port = await recorder.start()
    first, task = start(sandbox, db, port)
    try:
        service = first.service
        await service.create_skill(Skill("support", "Support"))
        await service.create_queue(
            Queue("gap", "Gap", "430", {"support": 5}, wrapup_s=0, pbx="freeswitch")
        )
        await service.create_agent(
            Agent("agent1", "A1", "user/1001", {"support": 7}, pbx="freeswitch")
        )
        await service.set_agent_state("agent1", AgentState.AVAILABLE, None)
        center = first.dispatcher.center
        await until("the PBX", lambda: center.pbx_ready)
        talk = await asyncio.to_thread(sandbox.call, "430", hangup_after=8, caller=TALKING)

        def ours(number: str, state: CallState) -> str | None:
            found = [
                c.id for c in center.calls.values() if (c.caller_number, c.state) == (number, state)
            ]
            return found[0] if found else None

        talking = await until("a connected call", lambda: ours(TALKING, CallState.CONNECTED))
        await until("FreeSWITCH's bridge", lambda: bridged_agents(observer, talking) == {1})
        wait = await asyncio.to_thread(sandbox.call, "430", hangup_after=6, caller=WAITING)
        waiting = await until("the second caller", lambda: ours(WAITING, CallState.WAITING))
        await first.dispatcher.drain_writes()
    finally:
        await stop_dead(first, task)

    # All three end while no controller runs (waited for off the loop: the observer listens).
    guarded_batch = await asyncio.to_thread(sandbox.call, "430", hangup_after=30, caller=GUARDED)
    guarded = (
        await until(
            "the third caller parked",
            lambda: observer.named("CHANNEL_PARK", **{"Caller-Caller-ID-Number": GUARDED}),
        )
    )[0]["Unique-ID"]
    await asyncio.to_thread(talk.wait, 30)
    await asyncio.to_thread(wait.wait, 30)
    await asyncio.to_thread(guarded_batch.wait, 40)
    ids = {talking, waiting, guarded}
    marks = sandbox.api("hash_dump db ccgw_end")
    assert all(f"ccgw_end_{i}~caller/1|" in marks for i in ids), marks  # FreeSWITCH wrote them

    second, task = start(sandbox, db, port)
    try:
        await until("the resync", lambda: second.dispatcher.center.pbx_ready)

        async def records() -> list[tuple[str, str]]:
            await second.dispatcher.drain_writes()
            found = await second.service.interactions(InteractionQuery())
            return [(r.call_id, r.outcome.value) for r in found if r.call_id in ids]

        for _ in range(100):  # the records are written a moment after the resync
            if len(await records()) == 3:
                break
            await asyncio.sleep(0.1)
        assert sorted(await records()) == sorted(
            [(talking, "answered"), (waiting, "abandoned"), (guarded, "timed_out")]
        )  # once each
        found = {
            r.call_id: r
            for r in await second.service.interactions(InteractionQuery())
            if r.call_id in ids
        }
        answered, abandoned, timed_out = found[talking], found[waiting], found[guarded]
        assert answered.agent_id == "agent1" and abandoned.agent_id is timed_out.agent_id is None
        assert {r.queue_id for r in found.values()} == {"gap"}
        assert {r.detail for r in found.values()} == {GAP_DETAIL}
        numbers = (answered.caller_number, abandoned.caller_number, timed_out.caller_number)
        assert numbers == (TALKING, WAITING, GUARDED)
        # FreeSWITCH's times, not the restart's: as its own events (seen live) give them.
        ended = {e["Unique-ID"]: e for e in observer.named("CHANNEL_HANGUP_COMPLETE")}
        for record, call_id in ((answered, talking), (abandoned, waiting), (timed_out, guarded)):
            created = stamp(ended[call_id], "Caller-Channel-Created-Time")
            assert record.arrived_at == created, (record, created)
            assert record.ended_at == stamp(ended[call_id], "Caller-Channel-Hangup-Time")
            assert record.arrived_at != int(record.arrived_at)  # sub-second, not rounded
        [leg] = [e for e in ended.values() if e.get("variable_ccgw_caller") == talking]
        assert answered.answered_at == stamp(leg, "Caller-Channel-Answered-Time")
        assert 6.0 < answered.talk_s < 9.0 and 5.0 < abandoned.wait_s < 7.5
        assert ended[guarded]["Hangup-Cause"] == "ALLOTTED_TIMEOUT"
        # park_timeout's deadline is in FreeSWITCH's whole seconds from the park (8.2 s seen)
        assert HOLD_TIMEOUT_S - 1.0 < timed_out.wait_s < HOLD_TIMEOUT_S + 2.0
        figures = second.dispatcher.figures.queue("gap")
        assert (figures.answered, figures.abandoned) == (1, 1)
        await until(  # recorded, so forgotten by FreeSWITCH (the leg's mark with its caller's)
            "the marks dropped",
            lambda: not any(i in sandbox.api("hash_dump db ccgw_end") for i in ids),
        )
    finally:
        await stop_dead(second, task)

    third, task = start(sandbox, db, port)
    try:
        await until("the resync", lambda: third.dispatcher.center.pbx_ready)
        await third.dispatcher.drain_writes()
        again = await third.service.interactions(InteractionQuery())
        assert sorted(r.call_id for r in again if r.call_id in ids) == sorted(ids)
        assert "ccgw_end" not in sandbox.api("hash_dump db ccgw_end")
    finally:
        await stop_dead(third, task)
        await observer.stop()
        await recorder.stop()
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        recorder.save(Path(folder, "end_marks.jsonl"), 0, conn="ctl2")
        recorder.save(Path(folder, "end_marks_none.jsonl"), len(recorder.records), conn="ctl3")
