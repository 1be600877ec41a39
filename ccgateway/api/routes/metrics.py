"""Prometheus text exposition of the live centre and today's figures (no client library)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from ccgateway.api.deps import Reader, Service
from ccgateway.domain.agents import AgentState

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(service: Service, _: Reader) -> str:
    """Scrape with `authorization: {credentials: <key>}` (bearer) in Prometheus."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    queues = service.queues()
    status = {q.id: service.queue_status(q.id) for q in queues}
    figures = {q.id: service.figures(q.id) for q in queues}

    def per_queue(value: dict[str, float | None]) -> list[tuple[str, float]]:
        return [(f'{{queue="{q}"}}', v) for q, v in value.items() if v is not None]

    family(
        "ccgw_queue_waiting",
        "gauge",
        "Callers waiting now.",
        per_queue({q: s.waiting for q, s in status.items()}),
    )
    family(
        "ccgw_queue_longest_wait_seconds",
        "gauge",
        "The longest current wait.",
        per_queue({q: s.longest_wait_s for q, s in status.items()}),
    )
    family(
        "ccgw_queue_agents_available",
        "gauge",
        "Qualified agents available now.",
        per_queue({q: s.agents_available for q, s in status.items()}),
    )
    family(
        "ccgw_queue_offered_today",
        "gauge",
        "Calls offered today (UTC).",
        per_queue({q: f.offered for q, f in figures.items()}),
    )
    family(
        "ccgw_queue_answered_today",
        "gauge",
        "Calls answered today (UTC).",
        per_queue({q: f.answered for q, f in figures.items()}),
    )
    family(
        "ccgw_queue_abandoned_today",
        "gauge",
        "Calls abandoned today (UTC).",
        per_queue({q: f.abandoned for q, f in figures.items()}),
    )
    family(
        "ccgw_queue_service_level_ratio",
        "gauge",
        "Answered within 20 s over offered.",
        per_queue({q: f.service_level for q, f in figures.items()}),
    )
    family(
        "ccgw_queue_asa_seconds",
        "gauge",
        "Average speed of answer today.",
        per_queue({q: f.asa_s for q, f in figures.items()}),
    )
    family(
        "ccgw_queue_aht_seconds",
        "gauge",
        "Average talk time today.",
        per_queue({q: f.aht_s for q, f in figures.items()}),
    )
    agents = service.agents()
    family(
        "ccgw_agents",
        "gauge",
        "Agents by state.",
        [(f'{{state="{s.value}"}}', sum(a.state is s for a in agents)) for s in AgentState],
    )
    return "\n".join(lines) + "\n"
