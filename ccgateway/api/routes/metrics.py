"""Prometheus text exposition of the live centre and today's figures (no client library)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from ccgateway.api.deps import Reader, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.domain.agents import AgentState

router = APIRouter(tags=["metrics"], route_class=GuardedRoute)

# name, help, and how to read one queue's value from its live status or today's figures
LIVE: list[tuple[str, str, Callable[[Any], float | None]]] = [
    ("ccgw_queue_waiting", "Callers waiting now.", lambda s: s.waiting),
    ("ccgw_queue_longest_wait_seconds", "The longest current wait.", lambda s: s.longest_wait_s),
    (
        "ccgw_queue_agents_available",
        "Qualified agents available now.",
        lambda s: s.agents_available,
    ),
    (
        "ccgw_queue_occupancy_ratio",
        "Mean occupancy today of the logged-in qualified agents.",
        lambda s: s.occupancy,
    ),
]
TODAY: list[tuple[str, str, Callable[[Any], float | None]]] = [
    ("ccgw_queue_offered_today", "Calls offered today (UTC).", lambda f: f.offered),
    ("ccgw_queue_answered_today", "Calls answered today (UTC).", lambda f: f.answered),
    ("ccgw_queue_abandoned_today", "Calls abandoned today (UTC).", lambda f: f.abandoned),
    (
        "ccgw_queue_service_level_ratio",
        "Answered within 20 s over offered.",
        lambda f: f.service_level,
    ),
    ("ccgw_queue_asa_seconds", "Average speed of answer today.", lambda f: f.asa_s),
    ("ccgw_queue_aht_seconds", "Average talk time today.", lambda f: f.aht_s),
    ("ccgw_queue_timed_out_today", "Callers past the max wait today.", lambda f: f.timed_out),
    ("ccgw_queue_deflected_today", "Callers sent on at arrival today.", lambda f: f.deflected),
    (
        "ccgw_queue_callbacks_requested_today",
        "Callers who left the line for a callback today.",
        lambda f: f.callbacks_requested,
    ),
    (
        "ccgw_queue_callbacks_completed_today",
        "Callbacks that reached the customer today.",
        lambda f: f.callbacks_completed,
    ),
    ("ccgw_queue_tasks_completed_today", "Tasks completed today.", lambda f: f.tasks_completed),
]
AGENT_TODAY: list[tuple[str, str, Callable[[Any], float | None]]] = [
    ("ccgw_agent_calls_answered_today", "Calls answered today (UTC).", lambda f: f.calls_answered),
    ("ccgw_agent_talk_seconds_today", "Talk time today (UTC).", lambda f: f.talk_s),
    (
        "ccgw_agent_tasks_completed_today",
        "Tasks completed today (UTC).",
        lambda f: f.tasks_completed,
    ),
]


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(service: Service, _: Reader) -> str:
    """Scrape with `authorization: {credentials: <key>}` (bearer) in Prometheus."""
    lines: list[str] = []

    def family(name: str, help_text: str, samples: list[tuple[str, float | None]]) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge"])
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples if value is not None)

    queues = [q.id for q in service.queues()]
    for sources, table in (
        ({q: service.queue_status(q) for q in queues}, LIVE),
        ({q: service.figures(q) for q in queues}, TODAY),
    ):
        for name, help_text, read in table:
            family(name, help_text, [(f'{{queue="{q}"}}', read(v)) for q, v in sources.items()])
    agents = service.agents()
    family(
        "ccgw_agents",
        "Agents by state.",
        [(f'{{state="{s.value}"}}', sum(a.state is s for a in agents)) for s in AgentState],
    )
    family(
        "ccgw_agent_occupancy_ratio",
        "Busy / (busy + available) today, pauses excluded.",
        [(f'{{agent="{a.agent.id}"}}', a.occupancy) for a in agents],
    )
    family(
        "ccgw_agent_calls_answered",
        "Calls answered since the controller started.",
        [(f'{{agent="{a.agent.id}"}}', a.calls_answered) for a in agents],
    )
    figures = {a.agent.id: service.agent_figures(a.agent.id)[0] for a in agents}
    for name, help_text, read in AGENT_TODAY:
        family(name, help_text, [(f'{{agent="{a}"}}', read(f)) for a, f in figures.items()])
    return "\n".join(lines) + "\n"
