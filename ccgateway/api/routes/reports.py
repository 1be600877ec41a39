"""Interval reports per queue, agent and campaign: `from`, `to` (ISO 8601 with a zone),
`interval` (15m, 30m, 1h, day, week, month) in the centre's time zone ([reports]
time_zone, or `time_zone` for this request), optional `ids`, as JSON or CSV (`format=csv`
or `Accept: text/csv`).

Supervisors and admins read every report; an agent reads only its own agent report.
Definitions: the live figures' (GET /v1/queues/{id}/figures; domain/figures.py), summed
over the interval; agents' time by state and occupancy, campaigns' rates: domain/reports.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ccgateway.api.auth import Permission, Principal
from ccgateway.api.deps import Caller, Reader
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.report_schemas import (
    ReportOut,
    agent_row,
    agents_csv,
    campaign_row,
    campaigns_csv,
    queue_row,
    queues_csv,
)
from ccgateway.api.times import Moment
from ccgateway.domain.calendar import zone
from ccgateway.services.reports import ReportRequest, ReportService

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=GuardedRoute)
R = TypeVar("R")


async def _reports(request: Request) -> ReportService:
    reports: ReportService = request.app.state.reports
    return reports


Reports = Annotated[ReportService, Depends(_reports)]
IntervalName = Literal["15m", "30m", "1h", "day", "week", "month"]  # reports.Interval
IDS = "ids to report on, comma-separated (default: every id with data in the range)"


async def _ask(
    start: Annotated[Moment, Query(alias="from", description="ISO 8601 with a zone")],
    to: Annotated[Moment, Query(description="ISO 8601 with a zone; not included")],
    interval: Annotated[IntervalName, Query(description="in the report's time zone")],
    ids: Annotated[str | None, Query(max_length=40_000, description=IDS)] = None,
    time_zone: Annotated[
        str | None, Query(max_length=64, description="IANA name; default: the centre's")
    ] = None,
) -> ReportRequest:
    wanted = tuple(i.strip() for i in ids.split(",") if i.strip()) if ids else ()
    return ReportRequest(start.timestamp(), to.timestamp(), interval, wanted, time_zone)


Asked = Annotated[ReportRequest, Depends(_ask)]
Format = Annotated[Literal["json", "csv"] | None, Query(description="default: by Accept")]


async def _report(
    kind: str,
    reports: ReportService,
    asked: ReportRequest,
    request: Request,
    form: str | None,
    read: Callable[[ReportRequest], Awaitable[Sequence[R]]],
    shape: Callable[[R, ZoneInfo], dict[str, Any]],
    as_csv: Callable[[Sequence[dict[str, Any]]], str],
) -> ReportOut | Response:
    found = await read(asked)
    tz = zone(asked.time_zone or reports.time_zone)
    rows = [shape(row, tz) for row in found]
    wants_csv = form == "csv" or (form is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        return Response(
            as_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}-report.csv"'},
        )
    return ReportOut(
        kind=kind,
        time_zone=tz.key,
        interval=asked.interval,
        start=datetime.fromtimestamp(asked.start, tz),
        end=datetime.fromtimestamp(asked.end, tz),
        rows=rows,
    )


@router.get("/queues", response_model=None)
async def queue_report(
    reports: Reports, asked: Asked, request: Request, _: Reader, format: Format = None
) -> ReportOut | Response:
    """Per queue and interval: offered, answered, abandoned and short abandons, service
    level (answered within the service-level time over offered), ASA, AHT, the longest
    wait, transfers, callbacks, tasks, as the live figures define them; redirected (moved
    out of the controller's dialplan by someone else while waiting) and cut_off (waiting
    when the PBX restarted or shut down), counted apart and in no rate.
    CSV: queue_id, start, then the JSON's fields in a fixed order."""
    return await _report(
        "queues", reports, asked, request, format, reports.queues, queue_row, queues_csv
    )


@router.get("/agents", response_model=None)
async def agent_report(
    reports: Reports, asked: Asked, request: Request, caller: Caller, format: Format = None
) -> ReportOut | Response:
    """Per agent and interval: calls answered, talk time, AHT, transfers, callbacks, tasks;
    time in each state (logged in, available, reserved, on call, wrap-up = after-call work,
    paused, and per pause reason), logins and logouts; occupancy = (reserved + on call +
    wrap-up) / (available + reserved + on call + wrap-up). An agent asks for its own only.
    CSV: agent_id, start, the fields, then `pause:<reason>` seconds."""
    asked = _own_agent_only(caller, asked)
    return await _report(
        "agents", reports, asked, request, format, reports.agents, agent_row, agents_csv
    )


@router.get("/campaigns", response_model=None)
async def campaign_report(
    reports: Reports, asked: Asked, request: Request, _: Reader, format: Format = None
) -> ReportOut | Response:
    """Per campaign and interval: dials (placed; skipped previews apart) at their end, by
    outcome; connect rate = connected / dials; the abandon rate over the interval by the
    rule set's definition (UK, DE: people AMD took for machines estimated in); talk, the
    mean wait for an agent, dispositions by code and the script's answers summed.
    CSV: campaign_id, start, the fields, `disposition:<code>`, `answer:...` columns."""
    return await _report(
        "campaigns", reports, asked, request, format, reports.campaigns, campaign_row,
        campaigns_csv,
    )  # fmt: skip


def _own_agent_only(caller: Principal, asked: ReportRequest) -> ReportRequest:
    """A supervisor or admin reads any agent; an agent only itself (the default for one)."""
    if caller.can(Permission.READ):
        return asked
    own = caller.agent_id
    if not caller.can(Permission.OWN_AGENT) or own is None:
        raise Forbidden(f"the {caller.role.value} role may not read agents' reports")
    if asked.ids and set(asked.ids) != {own}:
        raise Forbidden(f"this key or account reads only agent {own!r}'s report")
    return ReportRequest(asked.start, asked.end, asked.interval, (own,), asked.time_zone)
