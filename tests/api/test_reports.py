"""The interval reports' API: who may read which, the 4xx for a bad request, a campaign's
results next to its live figures and answers, and CSV cells a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from ccgateway.api.routes import reports as report_routes
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    OutboundAnswered,
    OutboundLive,
    PbxResynced,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.persistence.report_store import SqlReportStore
from ccgateway.services.reports import ReportService
from ccgateway.testing import ManualClock
from tests.api.conftest import seed
from tests.api.dialer_helpers import CAMPAIGN, NOON, agent_key, csv_of, import_list, number, send
from tests.services.stack import ADMIN, Stack

DAY = {"from": "2026-12-01T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"}


def path(kind: str, **query: str) -> str:
    return f"/v1/reports/{kind}?{urlencode(DAY | query)}"


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Stack]:
    """The dialer tests' stack at noon on a Tuesday, with the reports wired in as the
    composition root does (app.py; the stack wires the rest by hand)."""
    started = await Stack.start(tmp_path / "ccgateway.db", ManualClock(NOON))
    reports = ReportService(started.dispatcher, SqlReportStore(started.engine), started.clock)
    started.api.state.reports = reports
    started.api.include_router(report_routes.router)
    await seed(started)
    yield started
    await started.stop()


async def test_a_bad_request_is_a_4xx_saying_what_is_wrong(day: Stack) -> None:
    for query, (status, error_id, text) in [
        ({"interval": "fortnight"}, (422, "invalid-request", "'15m', '30m'")),
        ({"interval": "day", "time_zone": "Mars/Olympus"}, (422, "invalid-value", "Mars")),
        ({"interval": "day", "to": DAY["from"]}, (422, "invalid-value", "after 'from'")),
        (
            {"interval": "15m", "to": "2027-12-01T00:00:00+01:00"},
            (422, "invalid-value", "at most 10000"),
        ),
        ({"interval": "day", "from": "2026-12-01T00:00:00"}, (422, "invalid-request", "from")),
        (
            {"interval": "day", "ids": ",".join(f"q{n}" for n in range(501))},
            (422, "invalid-value", "500"),
        ),
    ]:
        got = await day.error("GET", path("queues", **query))
        assert got[0] == status and error_id in got[1] and text in got[2], (query, got)


async def test_an_agent_reads_only_its_own_report_and_a_wallboard_none(day: Stack) -> None:
    a1 = await agent_key(day, "a1")
    own = await day.ok("GET", path("agents", interval="day"), key=a1)
    assert {row["agent_id"] for row in own["rows"]} <= {"a1"}
    assert (await day.error("GET", path("agents", interval="day", ids="a2"), key=a1))[0] == 403
    assert (await day.error("GET", path("queues", interval="day"), key=a1))[0] == 403
    everyone = await day.ok("GET", path("agents", interval="day"))
    assert {row["agent_id"] for row in everyone["rows"]} == {"a1", "a2", "a3"}
    assert everyone["time_zone"] == "UTC" and everyone["start"] == "2026-11-30T23:00:00Z"


async def test_a_campaigns_results_agree_with_its_live_figures_and_answers(day: Stack) -> None:
    stack = day
    await stack.emit(PbxResynced())
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "=1+1"})
    assert (await send(stack, "PUT", "/v1/dnc/registers/tps", number(90).encode(), None))[0] == 200
    script = {
        "questions": [
            {"id": "rating", "text": "Happy?", "kind": "scale", "minimum": 1, "maximum": 5},
            {"id": "plan", "text": "Which plan?", "kind": "choice", "options": ["a", "@b"]},
        ]
    }
    await stack.ok("POST", "/v1/campaigns", {**CAMPAIGN, "script": script})
    await import_list(stack, "renewals", "l1", csv_of(f"{number(2)},Bo"))
    await stack.ok("POST", "/v1/campaigns/renewals/start")
    [dial] = await stack.until(lambda: stack.pbx.sent(DialCustomer))
    await stack.emit(OutboundAnswered(dial.dial_id), OutboundLive(dial.dial_id, "human"))
    [ring] = [r for r in stack.pbx.sent(RingAgent) if r.call_id == dial.dial_id]
    await stack.emit(AgentLegAnswered(ring.leg_id))
    await stack.advance(60)
    await stack.emit(ChannelHungUp(dial.dial_id))
    answer = {"code": "sale", "answers": {"rating": 4, "plan": "@b"}}
    await stack.ok(
        "POST", f"/v1/dials/{dial.dial_id}/disposition", answer, await agent_key(stack, "a1")
    )

    live = await stack.ok("GET", "/v1/campaigns/renewals/figures")
    [row] = (await stack.ok("GET", path("campaigns", interval="month", time_zone="Europe/London")))[
        "rows"
    ]
    assert row["start"] == "2026-12-01T00:00:00+00:00"
    assert (row["dials"], row["connect_rate"]) == (live["dials"], live["connect_rate"]) == (1, 1.0)
    assert row["outcomes"]["connected"] == live["outcomes"]["connected"] == 1
    assert (row["live"], row["abandon_rate"], row["talk_s"]) == (1, 0.0, 60.0)
    assert row["disposition_counts"] == {"sale": 1}
    assert row["answers"] == {
        "rating": {"answered": 1, "counts": {"4": 1}, "sum": 4.0, "mean": 4.0},
        "plan": {"answered": 1, "counts": {"@b": 1}},
    }

    [header, cells] = await csv_rows(stack, path("campaigns", interval="day", format="csv"))
    found = dict(zip(header, cells, strict=True))
    assert (found["dials"], found["disposition:sale"], found["answer:rating:sum"]) == (
        "1",
        "1",
        "4.0",
    )
    assert (found["answer:plan=@b"], found["campaign_id"], found["abandon_rate"]) == (
        "1",
        "renewals",
        "0.0",
    )
    rows = await csv_rows(stack, path("agents", interval="day"), {"Accept": "text/csv"})
    assert rows[0][-1] == "pause:=1+1" and rows[0][:3] == ["agent_id", "start", "calls_answered"]
    [a2] = [r for r in rows if r[0] == "a2"]
    assert float(a2[-1]) > 0


async def test_callers_out_of_the_centres_hands_show_in_the_figures_and_the_report(
    day: Stack,
) -> None:
    stack = day
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))
    await stack.advance(3)
    await stack.emit(CallerLeft("c1", "other-tool"))  # moved away by another AMI tool
    await stack.emit(CallWaiting("c2", "200"))
    await stack.advance(4)
    await stack.emit(ChannelHungUp("c2", 0, pbx_down=True))  # the PBX shut down under it

    live = await stack.ok("GET", "/v1/queues/german/figures")
    assert (live["redirected"], live["cut_off"]) == (1, 1)
    assert (live["offered"], live["abandoned"], live["service_level"]) == (0, 0, None)
    [row] = (await stack.ok("GET", path("queues", interval="day")))["rows"]
    assert {k: row[k] for k in ("redirected", "cut_off", "offered")} == {
        "redirected": 1,
        "cut_off": 1,
        "offered": 0,
    }
    header, cells = await csv_rows(stack, path("queues", interval="day", format="csv"))
    assert header[-2:] == ["redirected", "cut_off"] and cells[-2:] == ["1", "1"]
    assert header[:3] == ["queue_id", "start", "offered"]  # the older columns where they were

    spec = await stack.ok("GET", "/openapi.json")
    fields = spec["components"]["schemas"]["QueueFiguresOut"]["properties"]
    assert "another AMI tool" in fields["redirected"]["description"]
    assert "restarted or shut down" in fields["cut_off"]["description"]
    assert {"redirected", "cut_off"} <= set(
        spec["components"]["schemas"]["QueueFiguresOut"]["required"]
    )
    report = spec["paths"]["/v1/reports/queues"]["get"]["description"]
    assert "redirected" in report and "cut_off" in report


async def test_a_cell_that_would_be_a_formula_is_quoted(day: Stack) -> None:
    await day.ok("POST", "/v1/agents", {"id": "x1", "name": "X", "device": "PJSIP/x1"})
    await day.emit(PbxResynced())
    await day.ok("POST", "/v1/agents/x1/state", {"state": "paused", "reason": "=cmd|' /C calc'!A0"})
    await day.advance(120)
    await day.ok("POST", "/v1/agents/x1/state", {"state": "paused", "reason": "@SUM(1)"})
    await day.advance(60)
    rows = await csv_rows(day, path("agents", interval="day", ids="x1", format="csv"))
    header, [x1] = rows[0], rows[1:]
    pauses = {h: v for h, v in zip(header, x1, strict=True) if h.startswith("pause:")}
    assert pauses == {"pause:=cmd|' /C calc'!A0": "120.0", "pause:@SUM(1)": "60.0"}
    for cell in header + x1:  # the reasons only ever behind a prefix: no cell is a formula
        assert not cell.startswith(("=", "+", "-", "@")), cell


async def csv_rows(
    stack: Stack, url: str, headers: dict[str, str] | None = None
) -> list[list[str]]:
    assert stack.client is not None
    response = await stack.client.get(
        url, headers={"Authorization": f"Bearer {ADMIN}", **(headers or {})}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))
