"""Interval reports from `ccgateway serve` as installed, over a real socket: an agent's day
as JSON and CSV in the centre's time zone, and the tallies held in memory written when the
controller stops (flushes are hourly here), so a restart loses none of them."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from tests.installed.conftest import ServedController

SETTINGS = '[reports]\ntime_zone = "Europe/Berlin"\nflush_every_s = 3600\n'


def test_an_agents_day_over_http_outlives_a_restart(
    launch_controller: Callable[..., ServedController],
) -> None:
    served = launch_controller(SETTINGS)
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        made = client.post("/v1/agents", json={"id": "a1", "name": "A1", "device": "PJSIP/a1"})
        assert made.status_code == 201, made.text
        for state, reason in (("available", None), ("paused", "-lunch"), ("logged_out", None)):
            changed = client.post("/v1/agents/a1/state", json={"state": state, "reason": reason})
            assert changed.status_code == 200, changed.text
            time.sleep(0.3)
    served.restart()  # nothing flushed yet (hourly): the stop writes what was folded

    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=2)).isoformat(),
    }
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        found = client.get("/v1/reports/agents", params=window | {"interval": "day"})
        as_csv = client.get(
            "/v1/reports/agents",
            params=window | {"interval": "day"},
            headers={"Accept": "text/csv"},
        )
        bad = client.get(
            "/v1/reports/agents", params=window | {"interval": "day", "time_zone": "Mars/Base"}
        )
    assert found.status_code == 200, found.text
    report = found.json()
    assert report["time_zone"] == "Europe/Berlin"
    rows = [r for r in report["rows"] if r["agent_id"] == "a1"]
    assert len(rows) in (1, 2), served.log()  # two if midnight in Berlin fell between the changes
    assert rows[0]["start"].endswith(("T00:00:00+01:00", "T00:00:00+02:00"))
    assert sum(r["logins"] for r in rows) == 1 and sum(r["logouts"] for r in rows) == 1
    assert 0.25 < sum(r["available_s"] for r in rows) < 5
    assert 0.25 < sum(r["pauses"].get("-lunch", 0) for r in rows) < 5

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    [header, *lines] = list(csv.reader(io.StringIO(as_csv.text)))
    assert header[:3] == ["agent_id", "start", "calls_answered"] and header[-1] == "pause:-lunch"
    assert [line[0] for line in lines] == ["a1"] * len(rows)
    assert bad.status_code == 422 and bad.json()["error_id"] == "invalid-value"
