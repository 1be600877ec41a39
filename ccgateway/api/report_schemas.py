"""The interval reports as the API shows them: JSON rows, and the same rows as CSV cells.

One row per (id, interval start); intervals in which nothing happened are left out. A
row's `start` is the interval's first moment on the centre's wall clock, with its offset
(`2026-03-29T00:00:00+01:00`); the interval ends where the next one starts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from ccgateway.api.routes.privacy import FORMULA, PLAIN_NUMBER
from ccgateway.services.reports import AgentRow, CampaignRow, QueueRow

QUEUE_COLUMNS = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "unstaffed",
    "deflected",
    "transferred",
    "service_level",
    "asa_s",
    "aht_s",
    "abandonment_rate",
    "longest_wait_answered_s",
    "callbacks_requested",
    "callbacks_completed",
    "callbacks_not_reached",
    "tasks_completed",
    "tasks_cancelled",
    "task_asa_s",
    "task_aht_s",
    # Added last, so a reader that counts columns finds the older ones where they were.
    "redirected",
    "cut_off",
]
AGENT_COLUMNS = [
    "calls_answered",
    "talk_s",
    "aht_s",
    "transfers",
    "callbacks",
    "tasks_completed",
    "task_aht_s",
    "logged_in_s",
    "available_s",
    "reserved_s",
    "on_call_s",
    "wrap_up_s",
    "paused_s",
    "acw_per_call_s",
    "occupancy",
    "logins",
    "logouts",
]
CAMPAIGN_COLUMNS = [
    "dials",
    "connect_rate",
    "live",
    "abandon_rate",
    "talk_s",
    "wait_mean_s",
    "dispositions",
    "connected",
    "abandoned",
    "hung_up",
    "machine",
    "no_answer",
    "busy",
    "failed",
    "lost",
    "skipped",
]


class ReportOut(BaseModel):
    """A report: its range and interval in its time zone, and its rows (ordered by id,
    then start)."""

    kind: str
    time_zone: str
    interval: str
    start: datetime
    end: datetime
    rows: list[dict[str, Any]]


def queue_row(row: QueueRow, tz: ZoneInfo) -> dict[str, Any]:
    figures = asdict(row.figures)
    figures.pop("queue_id")
    return (
        {"queue_id": row.queue_id, "start": _moment(row.start, tz)}
        | figures
        | {"transferred": row.transferred}
    )


def agent_row(row: AgentRow, tz: ZoneInfo) -> dict[str, Any]:
    figures = asdict(row.figures)
    figures.pop("agent_id")
    head = {"agent_id": row.agent_id, "start": _moment(row.start, tz)}
    return head | figures | asdict(row.activity) | {"pauses": row.pauses}


def campaign_row(row: CampaignRow, tz: ZoneInfo) -> dict[str, Any]:
    head = {"campaign_id": row.campaign_id, "start": _moment(row.start, tz)}
    figures = asdict(row.figures)
    return head | figures | {"disposition_counts": row.dispositions, "answers": row.answers}


def _moment(epoch: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, tz).isoformat()


# --- CSV -------------------------------------------------------------------------------------


def queues_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Header: queue_id, start, then QUEUE_COLUMNS."""
    return _csv(["queue_id", "start", *QUEUE_COLUMNS], rows)


def agents_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Header: agent_id, start, AGENT_COLUMNS, then `pause:<reason>` seconds for each reason
    in the report."""
    reasons = sorted({reason for r in rows for reason in r["pauses"]})
    flat = [r | {f"pause:{reason}": r["pauses"].get(reason, 0) for reason in reasons} for r in rows]
    columns = ["agent_id", "start", *AGENT_COLUMNS, *(f"pause:{r}" for r in reasons)]
    return _csv(columns, flat)


def campaigns_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Header: campaign_id, start, CAMPAIGN_COLUMNS (the outcomes' counts among them), then
    `disposition:<code>` for each code and `answer:<question>` (answered),
    `answer:<question>=<option>` (counts) and `answer:<question>:sum` for each answer."""
    flat = []
    for r in rows:
        cells = dict(r) | r["outcomes"]
        cells |= {f"disposition:{code}": n for code, n in r["disposition_counts"].items()}
        for question, summary in r["answers"].items():
            cells[f"answer:{question}"] = summary["answered"]
            for option, n in summary.get("counts", {}).items():
                cells[f"answer:{question}={option}"] = n
            if "sum" in summary:
                cells[f"answer:{question}:sum"] = summary["sum"]
        flat.append(cells)
    fixed = ["campaign_id", "start", *CAMPAIGN_COLUMNS]
    extra = sorted(
        {k for cells in flat for k in cells if k.startswith(("disposition:", "answer:"))}
    )
    return _csv([*fixed, *extra], flat)


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_guard(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return _guard(value if isinstance(value, str) else json.dumps(value))


def _guard(text: str) -> str:
    """A spreadsheet would run a cell starting with = + - @ (a pause reason, a code, an
    option someone typed): such a cell is quoted with a leading apostrophe."""
    return "'" + text if FORMULA.match(text) and not PLAIN_NUMBER.match(text) else text
