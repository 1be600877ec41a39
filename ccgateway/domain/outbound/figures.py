"""A campaign's figures right now, with their definitions.

    dials              calls placed today (agent-first ones count when the customer is dialled)
    outcomes           how they ended: connected, abandoned, hung_up, machine, no_answer,
                       busy, failed, lost (and skipped previews, which are not dials)
    connect_rate       connected / dials
    abandon rate       by the campaign's rule set: the ledger's window (the UK calendar day
                       with the AMD estimate, the US 30 days) - see ledger.py
    talk_per_agent_h   talk minutes of connected calls per hour the campaign's agents were
                       logged in and working (available or busy, not paused) today
    wait               a person on the line to their agent: mean and 95th percentile, s
    refusals           dials the law refused today, by rule
Counters are today's (UTC day, like the queues' figures); a restart counts today's records
again (`OutboundDesk.load_history`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.ledger import LedgerView
from ccgateway.domain.outbound.runs import CampaignRun


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    campaign_id: str
    dials: int
    outcomes: dict[str, int]
    connect_rate: float | None
    ledger: LedgerView
    talk_s: float
    agent_hours: float
    talk_minutes_per_agent_hour: float | None
    wait_mean_s: float | None
    wait_p95_s: float | None
    refusals: dict[str, int]
    lines_now: int
    peak_lines: int
    hopper: int
    threshold: float  # the pacer's learned marginal abandon chance
    throttle: float  # the ledger's easing (1: none, 0: predictive stopped)


def campaign_figures(run: CampaignRun, floor: Floor, lines_now: int, now: float) -> CampaignFigures:
    counters = run.counters
    connected = counters.outcomes.get("connected", 0)
    queue = floor.directory.queues.get(run.campaign.queue_id)
    members = floor.engine.members(queue) if queue is not None else set()
    worked = 0.0
    for agent_id in members:
        status = floor.status.get(agent_id)
        if status is not None:
            status.count(now)
            worked += status.busy_s + status.available_s
    hours = worked / 3600.0
    waits = sorted(counters.waits)
    return CampaignFigures(
        campaign_id=run.campaign.id,
        dials=counters.dials,
        outcomes=dict(counters.outcomes),
        connect_rate=round(connected / counters.dials, 4) if counters.dials else None,
        ledger=run.ledger.view(now),
        talk_s=round(counters.talk_s, 3),
        agent_hours=round(hours, 4),
        talk_minutes_per_agent_hour=round(counters.talk_s / 60.0 / hours, 3) if hours else None,
        wait_mean_s=round(sum(waits) / len(waits), 3) if waits else None,
        wait_p95_s=waits[min(len(waits) - 1, int(0.95 * len(waits)))] if waits else None,
        refusals=dict(counters.refusals),
        lines_now=lines_now,
        peak_lines=counters.peak_lines,
        hopper=len(run.hopper),
        threshold=round(run.pacer.threshold, 5),
        throttle=round(run.ledger.throttle(now), 4),
    )
