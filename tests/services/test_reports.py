"""Interval reports on the real controller (the harness: composition root, in-memory
database, FakePbx, ManualClock): calls driven through the centre, then the reports read
over the API agree with the live figures and with a recount of the stored records."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import ValidationError

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.figures import Figures
from ccgateway.domain.model import Agent, Queue
from ccgateway.domain.reports import BUCKET_S, bucket_of
from ccgateway.persistence.stores import SqlInteractionStore
from ccgateway.ports import InteractionQuery
from ccgateway.settings import Settings
from ccgateway.testing import build_harness
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import Harness
from tests.harness_api import request

DAY = 1_700_000_000 // 86_400 * 86_400  # 2023-11-14, UTC
QUEUE_FIELDS = [
    *("offered", "answered", "abandoned", "short_abandoned", "timed_out", "service_level"),
    *("asa_s", "aht_s", "abandonment_rate", "longest_wait_answered_s", "callbacks_requested"),
]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


async def report(harness: Harness, kind: str, **query: Any) -> dict[str, Any]:
    response = await request(harness, "GET", f"/v1/reports/{kind}?{urlencode(query)}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def drive_a_morning(h: Harness) -> None:
    """One agent, one queue: answered calls with various waits, long and short abandons
    while the agent is paused, across several quarter hours."""
    service = h.controller.service
    await service.create_queue(Queue("q", "Q", "200", ring_timeout_s=60, wrapup_s=30))
    await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
    await service.set_agent_state("a1", AgentState.AVAILABLE, None)
    await h.emit(PbxResynced())
    for n, (wait, talk) in enumerate([(3, 100), (12, 240), (25, 60), (8, 400), (40, 90)]):
        await h.emit(CallWaiting(f"in{n}", "200", "+4930123"))
        ring = (await h.pbx.wait_for(RingAgent, n + 1))[-1]
        await h.advance(wait)
        await h.emit(AgentLegAnswered(ring.leg_id))
        await h.advance(talk)
        await h.emit(ChannelHungUp(f"in{n}"), ChannelHungUp(ring.leg_id))
        await h.advance(30)
        await h.advance(200)  # wrap-up, then idle
    await service.set_agent_state("a1", AgentState.PAUSED, "lunch")
    for n, wait in enumerate([2, 30, 70]):
        await h.emit(CallWaiting(f"ab{n}", "200", "+4930999"))
        await h.advance(wait)
        await h.emit(ChannelHungUp(f"ab{n}"))
        await h.advance(400)
    await service.set_agent_state("a1", AgentState.AVAILABLE, None)
    await h.advance(600)


async def test_a_days_report_is_the_live_figures_and_a_recount() -> None:
    harness = build_harness(clock=ManualClock(DAY + 8 * 3600 + 100))
    async with harness.running() as h:
        await drive_a_morning(h)
        live = h.controller.service.figures("q")
        live_agent, _ = h.controller.service.agent_figures("a1")
        window = {"from": iso(DAY), "to": iso(DAY + 86_400), "time_zone": "UTC"}
        day = await report(h, "queues", interval="day", **window)
        quarters = await report(h, "queues", interval="15m", **window)
        agents = await report(h, "agents", interval="day", **window)
        stored = SqlInteractionStore(h.controller.engine)  # the raw records, as written
        records = stored.query(InteractionQuery(limit=10_000))
        rules = h.controller.dispatcher.figures.rules

    [row] = day["rows"]
    assert row["queue_id"] == "q" and row["start"] == "2023-11-14T00:00:00+00:00"
    assert live.offered == 7 and live.short_abandoned == 1  # the drive did what it meant
    for name in QUEUE_FIELDS:
        assert row[name] == getattr(live, name), name
    [agent] = agents["rows"]
    assert agent["calls_answered"] == live_agent.calls_answered == 5
    assert agent["talk_s"] == live_agent.talk_s and agent["aht_s"] == live_agent.aht_s

    # A recount: the stored records folded through the live figures' Figures, per 15 minutes.
    per_bucket: dict[int, Figures] = defaultdict(lambda: Figures(rules))
    for record in records:
        per_bucket[bucket_of(record.ended_at)].add(record)
    recount = {iso(b): f.queue("q") for b, f in per_bucket.items() if "q" in f.queue_ids()}
    assert {r["start"] for r in quarters["rows"]} == set(recount)
    for quarter in quarters["rows"]:
        expected = recount[quarter["start"]]
        for name in QUEUE_FIELDS:
            assert quarter[name] == getattr(expected, name), (quarter["start"], name)
    whole = Figures(rules)
    whole.add_all(records)
    assert whole.queue("q") == live


async def test_agents_time_by_state_adds_up_to_the_clock() -> None:
    start = DAY + 8 * 3600 + 100
    harness = build_harness(clock=ManualClock(start))
    async with harness.running() as h:
        await drive_a_morning(h)
        end = h.clock.now()
        await h.controller.service.set_agent_state("a1", AgentState.LOGGED_OUT, None)
        window = {"from": iso(DAY), "to": iso(DAY + 86_400), "time_zone": "UTC"}
        [agent] = (await report(h, "agents", interval="day", **window))["rows"]
        hours = (await report(h, "agents", interval="1h", **window))["rows"]
        csv = await request(
            h,
            "GET",
            f"/v1/reports/agents?{urlencode(window | {'interval': '1h', 'format': 'csv'})}",
        )

    assert agent["logged_in_s"] == round(end - start, 3)
    assert agent["wrap_up_s"] == 5 * 30 and agent["paused_s"] == 3 * 400 + 102
    assert agent["on_call_s"] == 100 + 240 + 60 + 400 + 90
    assert agent["pauses"] == {"lunch": agent["paused_s"]} and agent["logouts"] == 1
    assert agent["acw_per_call_s"] == 30
    busy = agent["reserved_s"] + agent["on_call_s"] + agent["wrap_up_s"]
    assert agent["occupancy"] == round(busy / (busy + agent["available_s"]), 4)
    assert sum(h["logged_in_s"] for h in hours) == agent["logged_in_s"]
    assert all(bucket_of(datetime.fromisoformat(h["start"]).timestamp()) % 3600 == 0 for h in hours)
    lines = csv.text.splitlines()
    assert csv.headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("agent_id,start,calls_answered") and lines[0].endswith("pause:lunch")
    assert len(lines) == 1 + len(hours) and BUCKET_S == 900


def test_the_centres_time_zone_is_checked_at_start() -> None:
    assert Settings(reports={"time_zone": "Europe/Berlin"}).reports.time_zone == "Europe/Berlin"
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Base'"):
        Settings(reports={"time_zone": "Mars/Base"})
