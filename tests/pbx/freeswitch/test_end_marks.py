"""FreeSWITCH's end marks (end_marks.py, domain/gap.py), on what a real FreeSWITCH 1.10.12
wrote and answered (recorded/end_marks.jsonl, written by
tests/sandbox/test_freeswitch_end_marks.py): three callers that ended while no controller
ran (one after talking to agent1, one hanging up while waiting, one ended by the hold
timeout) and agent1's leg, noted by FreeSWITCH itself (`api_hangup_hook`s into mod_hash);
the second controller's resync read them, the centre turned them into records, and the
marks were dropped (`hash delete`). recorded/end_marks_none.jsonl: the next resync, no
marks (FreeSWITCH answers an empty dump with `-ERR no reply`)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from ccgateway.domain.commands import CloseGap, ForgetEndMarks, Outcome
from ccgateway.domain.events import EndMark, PbxEvent, PbxResynced
from ccgateway.domain.gap import GAP_DETAIL
from ccgateway.domain.model import Agent, Queue
from ccgateway.pbx.freeswitch import end_marks
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import InvalidWireValue
from tests.domain.builders import centre
from tests.pbx.freeswitch.replay import ReplayServer

RECORDED = Path(__file__).parent / "recorded"
TRANSCRIPT = RECORDED / "end_marks.jsonl"
NONE = RECORDED / "end_marks_none.jsonl"
TALKING, WAITING, GUARDED = "+4930430001", "+4930430002", "+4930430003"


def dump(transcript: Path) -> str:
    """FreeSWITCH's answer to the first `hash_dump db ccgw_end` of a transcript."""
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    for i, record in enumerate(records):
        if record["dir"] == "C->S" and record["raw"] == "api hash_dump db ccgw_end\n\n":
            answer: str = records[i + 1]["raw"]
            return answer.partition("\n\n")[2]
    raise AssertionError("no hash_dump in the transcript")


def by_number(callers: list[EndMark]) -> dict[str, EndMark]:
    return {mark.caller_number: mark for mark in callers}


def test_freeswitch_s_marks_are_the_three_callers_and_the_agent_s_leg() -> None:
    callers, legs = end_marks.to_end_marks(dump(TRANSCRIPT))
    marks = by_number(callers)
    assert sorted(marks) == [TALKING, WAITING, GUARDED]
    [leg] = legs
    talking, waiting, guarded = marks[TALKING], marks[WAITING], marks[GUARDED]
    assert (leg.caller_id, leg.device) == (talking.call_id, "user/1001")
    assert leg.leg_id.startswith("ccgw-") and talking.agent_leg == leg.leg_id
    assert talking.arrived_at < leg.answered_at < leg.ended_at
    assert abs(leg.ended_at - talking.ended_at) < 0.05  # one hang-up ended both
    assert (waiting.agent_leg, guarded.agent_leg) == ("", "")
    # the dead-controller guard (ALLOTTED_TIMEOUT) is the PBX's fallback; a hang-up is not
    assert (talking.fallback, waiting.fallback, guarded.fallback) == (False, False, True)
    assert {m.extension for m in callers} == {"430"}
    for mark in callers:  # FreeSWITCH's microseconds, not whole seconds
        assert mark.arrived_at < mark.ended_at and mark.arrived_at != int(mark.arrived_at)


def test_the_centre_records_each_as_the_call_it_was() -> None:
    callers, legs = end_marks.to_end_marks(dump(TRANSCRIPT))
    queue = Queue("gap", "Gap", "430", {"support": 5}, wrapup_s=0, pbx="freeswitch")
    agent1 = Agent("agent1", "A1", "user/1001", {"support": 7}, pbx="freeswitch")
    c = centre(agent1, queues=(queue,), skills="support")
    now = max(m.ended_at for m in callers) + 5
    out = c.handle(PbxResynced(ended=tuple(callers), ended_legs=tuple(legs)), now, "freeswitch")
    [gap] = [x for x in out if isinstance(x, CloseGap)]
    records = {r.caller_number: r for r in gap.records}
    assert {n: r.outcome for n, r in records.items()} == {
        TALKING: Outcome.ANSWERED,
        WAITING: Outcome.ABANDONED,
        GUARDED: Outcome.TIMED_OUT,
    }
    assert (
        records[TALKING].agent_id == "agent1"
        and records[TALKING].answered_at == legs[0].answered_at
    )
    assert {r.queue_id for r in records.values()} == {"gap"}
    assert {r.detail for r in records.values()} == {GAP_DETAIL}
    assert sorted(gap.forget) == sorted(m.call_id for m in callers)


@pytest.mark.parametrize(
    "line",
    [
        # not our realm, or another writer's key
        "D/other_x~caller/1|1796607820851310|1796607828831310|430|+49|||",
        "D/ccgw_end_x/1|1796607820851310|1796607828831310|430|+49|||",
        # a number the dialplan would not have let through, a queue that is not digits
        "D/ccgw_end_x~caller/1|1796607820851310|1796607828831310|430|+49 30|||",
        "D/ccgw_end_x~caller/1|1796607820851310|1796607828831310|4a0|+49|||",
        # half-written: a time missing or zero, a field short, another version
        "D/ccgw_end_x~caller/1||1796607828831310|430|+49|||",
        "D/ccgw_end_x~caller/1|0|1796607828831310|430|+49|||",
        "D/ccgw_end_x~caller/1|1796607820851310|1796607828831310|430|+49||",
        "D/ccgw_end_x~caller/2|1796607820851310|1796607828831310|430|+49|||",
        # a leg that is not ours, a device that is no dial string
        "D/ccgw_end_x~leg-1/1|1796607820851310|1796607828831310|user/1001",
        "D/ccgw_end_x~ccgw-1/1|1796607820851310|1796607828831310|user/1001 x",
    ],
)
def test_a_line_that_is_not_exactly_a_mark_is_never_a_record(line: str) -> None:
    assert end_marks.to_end_marks(line) == ([], [])


def test_a_bridge_to_something_not_ours_names_no_agent_leg() -> None:
    line = (
        "D/ccgw_end_x~caller/1|1796607820851310|1796607828831310|430|+49|other-uuid"
        "|NORMAL_CLEARING|"
    )
    [mark], _ = end_marks.to_end_marks(line)
    assert mark.agent_leg == "" and not mark.fallback


def test_no_marks_is_freeswitch_s_empty_answer() -> None:
    assert dump(NONE).strip() == "-ERR no reply"
    assert end_marks.to_end_marks(dump(NONE)) == ([], [])


def test_forgetting_a_caller_drops_its_mark_and_its_legs_and_nothing_else() -> None:
    callers, _ = end_marks.to_end_marks(dump(TRANSCRIPT))
    talking = by_number(callers)[TALKING].call_id
    keys = end_marks.keys_of(dump(TRANSCRIPT), {talking})
    assert sorted(k.split("~")[1][:5] for k in keys) == ["calle", "ccgw-"]
    assert all(k.startswith(talking + "~") for k in keys)
    assert end_marks.forget(keys) == [("hash", f"delete/ccgw_end/{k}") for k in keys]
    with pytest.raises(InvalidWireValue):
        end_marks.forget(["x/y~caller"])


async def test_the_adapter_reads_them_at_the_resync_and_drops_them_when_told() -> None:
    """The real conversation: the resync's snapshot carries the marks (read last), and
    `ForgetEndMarks` reads the marks as they stand and deletes the callers' and their
    legs' keys, one `hash delete` each, as FreeSWITCH took them (+OK)."""
    server = ReplayServer(TRANSCRIPT, "ctl2")  # the second controller's connection
    port = await server.start()
    told: list[PbxEvent] = []
    pbx = FreeSwitchPbx(port=port, password="ClueCon", resync_settle_s=0.0)
    running = asyncio.create_task(pbx.run(told.append))
    try:
        deadline = time.monotonic() + 10
        while not told:
            assert time.monotonic() < deadline, server.received[-3:]
            await asyncio.sleep(0.01)
        [snapshot] = told
        assert isinstance(snapshot, PbxResynced)
        callers, legs = end_marks.to_end_marks(dump(TRANSCRIPT))
        assert sorted(snapshot.ended, key=lambda m: m.call_id) == sorted(
            callers, key=lambda m: m.call_id
        )
        assert list(snapshot.ended_legs) == legs
        # the resync's last reads: the marks, then whether FreeSWITCH restarted meanwhile
        assert server.received[-2:] == ["api hash_dump db ccgw_end", "api global_getvar core_uuid"]
        assert not snapshot.restarted  # the first connection: nothing to compare with
        forget = tuple(m.call_id for m in snapshot.ended)
        await pbx.execute(ForgetEndMarks(forget, "freeswitch"))
        deleted = [w for w in server.received if w.startswith("api hash delete/")]
        assert sorted(deleted) == sorted(
            f"api hash delete/ccgw_end/{k}" for k in end_marks.keys_of(dump(TRANSCRIPT), forget)
        )
        assert len(deleted) == 4  # three callers and agent1's leg
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await pbx.close()
        await server.stop()
