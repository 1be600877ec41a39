"""The queue_log feed on the real controller (composition root, FakePbx, ManualClock): a day
on the floor, read back from the file by an independent reader of app_queue's format, and
the same lines in the queue_log table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.model import Agent, Queue
from ccgateway.domain.queue_log import QueueLog, QueueLogLine
from ccgateway.domain.queue_policy import FALLBACK, ActionKind, Limits, QueueAction
from ccgateway.persistence.queue_log_file import QueueLogFile
from ccgateway.persistence.queue_log_tables import SqlQueueLogStore
from ccgateway.services.queue_log_feed import QueueLogFeed, in_thread
from ccgateway.settings import QueueLogSettings
from ccgateway.testing import build_harness
from ccgateway.testing.harness import Harness, hermetic_settings
from tests.harness_api import request
from tests.queue_log_format import Event, read_queue_log

NO_ANSWER = 19  # Q.850: no answer from the user


def feed_of(harness: Harness) -> QueueLogFeed:
    [feed] = [t for t in harness.controller.dispatcher.taps if isinstance(t, QueueLogFeed)]
    return feed


async def ring(h: Harness, count: int) -> RingAgent:
    rings = await h.pbx.wait_for(RingAgent, count)
    return rings[count - 1]


def pick(events: Sequence[Event], event: str, callid: str | None = None) -> list[Event]:
    return [e for e in events if e.event == event and callid in (None, e.callid)]


async def test_a_day_on_the_floor_reads_as_app_queue_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "log" / "queue_log"
    settings = hermetic_settings().model_copy(
        update={"queue_log": QueueLogSettings(file=path, table=True, caller_name=True)}
    )
    harness = build_harness(settings)
    service = harness.controller.service
    async with harness.running() as h:
        await service.create_queue(Queue("sales", "Sales", "200", ring_timeout_s=15))
        await service.create_queue(Queue("billing", "Billing", "300"))
        await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await service.create_agent(Agent("a2", "A2", "PJSIP/agent2"))
        start = h.clock.now()
        await service.set_agent_state("a1", AgentState.AVAILABLE, None)
        await h.advance(1)
        await service.set_agent_state("a2", AgentState.AVAILABLE, None)
        await h.emit(PbxResynced())

        # c1 rings a1 (longest idle), who lets it ring out, then a2 answers; the caller
        # hangs up first.
        await h.emit(CallWaiting("c1", "200", "+4930111", "Ann|Smith\r\nEVIL|1"))
        first = await ring(h, 1)
        assert first.agent_id == "a1"
        await h.advance(6)
        await h.emit(ChannelHungUp(first.leg_id, NO_ANSWER))
        second = await ring(h, 2)
        assert second.agent_id == "a2"
        await h.advance(3)
        await h.emit(AgentLegAnswered(second.leg_id))
        await h.advance(40)
        await h.emit(ChannelHungUp("c1"))

        # c2 waits (a1 paused, a2 in wrap-up) and hangs up after 8 s: an abandon.
        await h.emit(CallWaiting("c2", "200", "+4930222"))
        await h.advance(8)
        await h.emit(ChannelHungUp("c2"))
        await h.advance(10)  # a2's wrap-up is over

        # a1 comes back from the no-answer pause, takes a lunch break and comes back.
        await service.set_agent_state("a1", AgentState.AVAILABLE, None)
        await service.set_agent_state("a1", AgentState.PAUSED, "lunch")
        await h.advance(60)
        await service.set_agent_state("a1", AgentState.AVAILABLE, None)

        # c3: answered by a2 (longest idle now), and the agent hangs up first.
        await h.emit(CallWaiting("c3", "200", "+4930333"))
        third = await ring(h, 3)
        await h.emit(AgentLegAnswered(third.leg_id))
        await h.advance(20)
        await h.emit(ChannelHungUp(third.leg_id))

        # c4: answered by a1, sent blind to billing, where the caller gives up while a2
        # rings.
        await h.emit(CallWaiting("c4", "200", "+4930444"))
        fourth = await ring(h, 4)
        assert fourth.agent_id == "a1"
        await h.emit(AgentLegAnswered(fourth.leg_id))
        await h.advance(15)
        moved = await request(
            h, "POST", "/v1/calls/c4/transfer", {"target": "queue", "to": "billing"}
        )
        assert moved.status_code == 200, moved.text
        await h.advance(5)
        await h.emit(ChannelHungUp("c4"))

        await service.set_agent_state("a1", AgentState.LOGGED_OUT, None)
        await feed_of(h).flush()
        table = SqlQueueLogStore(harness.controller.engine).lines()

    events = read_queue_log(path)  # every line well formed, or this raises
    kinds = [e.event for e in events]
    assert kinds[0] == "QUEUESTART"
    assert [e.time for e in events] == sorted(e.time for e in events)

    # Logins: a member of every queue they qualify for (both, here), as the AMI adds them.
    added = pick(events, "ADDMEMBER")
    assert {(e.queue, e.agent, e.callid) for e in added} == {
        (q, f"Agent/{a}", "MANAGER") for q in ("billing", "sales") for a in ("a1", "a2")
    }
    assert added[0].time == int(start)

    [entered] = pick(events, "ENTERQUEUE", "c1")
    assert (entered.queue, entered.data["callerid"], entered.number("position")) == (
        "sales",
        "+4930111",
        1,
    )
    assert entered.data["callername"] == "Ann_Smith__EVIL_1"  # no field or line injected

    [no_answer] = pick(events, "RINGNOANSWER", "c1")
    assert kinds.index("RINGNOANSWER") < kinds.index("PAUSEALL")  # then the pause it brings
    assert (no_answer.agent, no_answer.number("ringtime_ms")) == ("Agent/a1", 6000)
    [connect] = pick(events, "CONNECT", "c1")
    assert connect.agent == "Agent/a2"
    assert (connect.number("holdtime"), connect.number("ringtime")) == (9, 3)
    assert connect.data["bridgedchanneluniqueid"] == second.leg_id
    [done] = pick(events, "COMPLETECALLER", "c1")
    assert (done.agent, done.number("holdtime"), done.number("calltime")) == ("Agent/a2", 9, 40)
    assert done.number("origposition") == 1

    # The no-answer pause, in every queue, with its reason; its end carries the reason too.
    no_answer_pause = [e for e in events if e.agent == "Agent/a1" and "PAUSE" in e.event]
    assert [(e.event, e.queue, e.data["reason"]) for e in no_answer_pause] == [
        ("PAUSEALL", "NONE", "not ready: no_answer"),
        ("PAUSE", "billing", "not ready: no_answer"),
        ("PAUSE", "sales", "not ready: no_answer"),
        ("UNPAUSEALL", "NONE", ""),
        ("UNPAUSE", "billing", "not ready: no_answer"),
        ("UNPAUSE", "sales", "not ready: no_answer"),
        ("PAUSEALL", "NONE", "lunch"),
        ("PAUSE", "billing", "lunch"),
        ("PAUSE", "sales", "lunch"),
        ("UNPAUSEALL", "NONE", ""),
        ("UNPAUSE", "billing", "lunch"),
        ("UNPAUSE", "sales", "lunch"),
    ]
    assert all(e.callid == "NONE" for e in no_answer_pause)

    [abandon] = pick(events, "ABANDON", "c2")
    assert (abandon.agent, abandon.number("position"), abandon.number("waittime")) == (
        "NONE",
        1,
        8,
    )

    [by_agent] = pick(events, "COMPLETEAGENT", "c3")
    assert (by_agent.agent, by_agent.number("calltime")) == ("Agent/a2", 20)
    assert not pick(events, "COMPLETECALLER", "c3")

    [blind] = pick(events, "BLINDTRANSFER", "c4")
    assert (blind.agent, blind.data["extension"], blind.data["context"]) == (
        "Agent/a1",
        "billing",
        "queue",
    )
    assert blind.number("calltime") == 15
    c4 = [(e.event, e.queue) for e in events if e.callid == "c4"]
    assert c4 == [
        ("ENTERQUEUE", "sales"),
        ("CONNECT", "sales"),
        ("BLINDTRANSFER", "sales"),
        ("ENTERQUEUE", "billing"),
        ("RINGCANCELED", "billing"),  # a2 was rung for it when the caller left
        ("ABANDON", "billing"),
    ]
    [cancelled] = pick(events, "RINGCANCELED", "c4")
    assert (cancelled.agent, cancelled.number("ringtime_ms")) == ("Agent/a2", 5000)
    assert pick(events, "ABANDON", "c4")[0].number("waittime") == 5

    removed = pick(events, "REMOVEMEMBER")
    assert {(e.queue, e.agent) for e in removed} == {("billing", "Agent/a1"), ("sales", "Agent/a1")}
    assert kinds[-2:] == ["REMOVEMEMBER", "REMOVEMEMBER"]

    # The table holds the same lines, field for field (Asterisk's realtime layout).
    assert [(t.time, t.callid, t.queue, t.agent, t.event) for t in table] == [
        (e.time, e.callid, e.queue, e.agent, e.event) for e in events
    ]
    assert [t.data[: len(e.data)] for t, e in zip(table, events, strict=True)] == [
        tuple(e.data.values()) for e in events
    ]


async def test_a_caller_the_queue_turns_away_never_entered_it(tmp_path: Path) -> None:
    """app_queue logs nothing for a caller it does not let join (here: nobody logged in); a
    caller sent on at once to another queue enters only that one; one sent on after
    waiting exits with a timeout."""
    path = tmp_path / "queue_log"
    settings = hermetic_settings().model_copy(update={"queue_log": QueueLogSettings(file=path)})
    harness = build_harness(settings)
    service = harness.controller.service
    staffed = Limits(on_no_agents=FALLBACK)
    async with harness.running() as h:
        await service.create_queue(Queue("backup", "Backup", "300", limits=Limits(max_wait_s=30)))
        await service.create_queue(Queue("sales", "Sales", "200", limits=staffed))
        to_backup = Limits(on_no_agents=QueueAction(ActionKind.QUEUE, "backup"))
        await service.create_queue(Queue("support", "Support", "400", limits=to_backup))
        await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930111"))
        await h.emit(CallWaiting("c2", "400", "+4930222"))
        await h.advance(31)
        await feed_of(h).flush()
    lines = [(e.event, e.callid, e.queue) for e in read_queue_log(path)]
    assert lines == [
        ("QUEUESTART", "NONE", "NONE"),
        ("ENTERQUEUE", "c2", "backup"),
        ("EXITWITHTIMEOUT", "c2", "backup"),
    ]


class Broken:
    def __init__(self) -> None:
        self.fail = True
        self.written: list[QueueLogLine] = []

    def write(self, lines: Sequence[QueueLogLine]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.written += lines


async def test_a_failing_sink_keeps_its_lines_for_the_next_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    harness = build_harness()
    sink = Broken()
    feed = QueueLogFeed(
        QueueLog(harness.controller.dispatcher.center.floor.directory), [(sink, in_thread)]
    )
    feed.start(1000.0)
    await feed.flush()
    await feed.flush()
    assert sink.written == []
    assert caplog.text.count("disk full") == 1  # said once, not every round
    sink.fail = False
    await feed.flush()
    assert [line.event for line in sink.written] == ["QUEUESTART"]
    assert "works again" in caplog.text
    harness.controller.engine.dispose()


async def test_a_full_buffer_drops_lines_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    harness = build_harness()
    sink = Broken()
    directory = harness.controller.dispatcher.center.floor.directory
    feed = QueueLogFeed(QueueLog(directory), [(sink, in_thread)], limit=2)
    for now in (1.0, 2.0, 3.0):
        feed.start(now)
    sink.fail = False
    await feed.flush()
    assert [line.time for line in sink.written] == [1, 2]
    assert "1 lines dropped" in caplog.text
    harness.controller.engine.dispose()


async def test_the_job_writes_what_is_left_when_it_is_stopped(tmp_path: Path) -> None:
    harness = build_harness()
    path = tmp_path / "queue_log"
    directory = harness.controller.dispatcher.center.floor.directory
    feed = QueueLogFeed(QueueLog(directory), [(QueueLogFile(path), in_thread)], interval_s=60)
    job = asyncio.create_task(feed.run())
    feed.start(1.0)
    for _ in range(50):  # the job's first round (the next is a minute away)
        if path.exists() and path.read_text():
            break
        await asyncio.sleep(0.02)
    feed.start(2.0)  # buffered for the round that will not come
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    assert [e.time for e in read_queue_log(path)] == [1, 2]
    harness.controller.engine.dispose()
