"""The Grafana dashboard (docker/grafana/ccgateway-dashboard.json) reads only what the
controller exposes: every metric and label its PromQL names is in a scrape of a real
controller (the harness) with a queue, an agent and a campaign."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import AgentLegAnswered, ChannelHungUp, OutboundAnswered, OutboundLive
from ccgateway.domain.model import Agent
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.testing import build_harness
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import ADMIN_KEY, Harness
from tests.api.dialer_helpers import NOON, screened_and_listed
from tests.services.test_metrics import a_centre_with_one_answered_call, scrape

DASHBOARD = Path(__file__).resolve().parents[1] / "docker/grafana/ccgateway-dashboard.json"
METRIC = re.compile(r"\b((?:ccgw|process|python)_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\b([a-z_][a-z0-9_]*)\{([^}]*)\}")
MATCHER = re.compile(r"([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\bby \(([^)]*)\)")
# Prometheus adds these to every series it scrapes; `le` is every histogram bucket's
ADDED_BY_PROMETHEUS = {"instance", "job"}
# What the issue asks the dashboard to show
WANTED = {
    "ccgw_queue_service_level_ratio",
    "ccgw_queue_waiting",
    "ccgw_queue_longest_wait_seconds",
    "ccgw_agents",
    "ccgw_campaign_abandon_ratio",
    "ccgw_campaign_abandon_limit_ratio",
    "ccgw_pbx_up",
    "ccgw_pbx_round_trip_seconds_bucket",
    "ccgw_routing_decision_seconds_bucket",
    "ccgw_pbx_event_lag_seconds_bucket",
    "ccgw_writer_queue_depth",
    "ccgw_webhook_delivery_delay_seconds_bucket",
}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression: the panels' targets and the variables' queries."""
    found = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            found.append(variable["query"]["query"])
    return found


async def a_live_outbound_call_and_a_pause(harness: Harness) -> None:
    """Agent a2 paused; the TPS register screened, campaign renewals started once a1's
    wrap-up is over, its one contact dialled, answered by a person, put through to a1 and
    hung up (the ledger's first live call, counted at its end)."""
    service = harness.controller.service
    await service.create_agent(Agent("a2", "A2", "PJSIP/agent2"))
    await service.set_agent_state("a2", AgentState.PAUSED, "meeting")
    await harness.advance(600)
    transport = httpx.ASGITransport(app=harness.controller.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        await screened_and_listed(client, ADMIN_KEY, "renewals")
        started = await client.post("/v1/campaigns/renewals/start", headers=auth)
        assert started.status_code == 200, started.text
        for _ in range(20):  # the pacer runs every 0.5 s
            if harness.pbx.sent(DialCustomer):
                break
            await harness.advance(0.5)
        campaign = (await client.get("/v1/campaigns/renewals/figures", headers=auth)).json()
    assert harness.pbx.sent(DialCustomer), campaign
    [dial] = harness.pbx.sent(DialCustomer)
    await harness.emit(OutboundAnswered(dial.dial_id), OutboundLive(dial.dial_id, "human"))
    _, ring = await harness.pbx.wait_for(RingAgent, count=2)  # the first: the inbound call
    await harness.emit(AgentLegAnswered(ring.leg_id))
    await harness.advance(20)
    await harness.emit(ChannelHungUp(dial.dial_id))  # the dial ends: the ledger counts it


async def exposed() -> dict[str, set[str]]:
    """Each series name a scrape of the harness's controller has, with its labels."""
    harness = build_harness(clock=ManualClock(NOON))  # the UK's calling window is open
    async with harness.running() as h:
        await a_centre_with_one_answered_call(h)
        await a_live_outbound_call_and_a_pause(h)
        instruments = h.controller.dispatcher.instruments
        instruments.round_trip("asterisk", "Originate", 0.002)  # no AMI on the fake PBX
        instruments.timed_out("asterisk", "Originate")
        instruments.webhook_delivered(0.5)
        text = await scrape(h)
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        suffixes = {
            "counter": ["_total"],
            "histogram": ["_bucket", "_sum", "_count"],
        }.get(family.type, [""])
        labels = {label for s in family.samples for label in s.labels}
        for suffix in suffixes:
            names[family.name + suffix] = labels
    return names


async def test_every_metric_and_label_the_dashboard_reads_is_exposed() -> None:
    names = await exposed()
    board = dashboard()
    used: set[str] = set()
    bad: list[str] = []
    for expr in queries(board):
        used |= set(METRIC.findall(expr))
        for metric, matchers in SELECTOR.findall(expr):
            for label in MATCHER.findall(matchers):
                if label not in names.get(metric, set()) | ADDED_BY_PROMETHEUS:
                    bad.append(f"{expr}: {metric} has no label {label}")
        for grouping in GROUPING.findall(expr):
            metrics = METRIC.findall(expr)
            for label in (part.strip() for part in grouping.split(",")):
                known = set().union(*(names.get(m, set()) for m in metrics))
                if label not in known | ADDED_BY_PROMETHEUS:
                    bad.append(f"{expr}: grouped by {label}, which no series of it has")
    bad += [f"{name}: not exposed" for name in sorted(used - set(names))]
    assert not bad, "\n".join(bad)
    assert used >= WANTED, WANTED - used


def test_every_panel_reads_the_prometheus_chosen_for_the_dashboard_and_none_overlap() -> None:
    board = dashboard()
    [source] = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert source["name"] == "DS_PROMETHEUS" and source["query"] == "prometheus"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    for panel in panels:
        assert panel["title"] and panel["description"], panel
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
