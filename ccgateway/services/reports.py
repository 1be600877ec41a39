"""Interval reports: the tap that folds finished work as it ends, its flushes to the store,
and the report use cases (per queue, agent and campaign, any range, any interval).

Aggregation as work ends: `ReportTap` sees every command the dispatcher carries out (after
redaction) and folds the finished call records, agents' state changes and the dialer's
dial and disposition records into 15-minute tallies in memory (domain/reports.py). Every
`flush_every_s` (and before each report, and when the controller stops) the tallies go to
the store in one transaction through the dispatcher's writer, as additive upserts.

What a crash loses: the tallies folded since the last flush (a few seconds), and the time
of each agent's state since then (open states are counted up to each flush). The raw
records (interactions, dials, dispositions) are written apart and are complete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial

from ccgateway.domain.agents import AgentState
from ccgateway.domain.calendar import Zone, zone
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, Notify, RecordInteraction
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.figures import (
    AgentFigures,
    FigureRules,
    QueueFigures,
    agent_figures,
    queue_figures,
)
from ccgateway.domain.outbound.commands import RecordDial, RecordDisposition
from ccgateway.domain.outbound.scripts import QuestionKind, Script
from ccgateway.domain.reports import (
    AbandonDefinition,
    ActivityFigures,
    CampaignReportFigures,
    Count,
    ReportFold,
    Span,
    activity_figures,
    campaign_figures,
    interval,
    span,
)
from ccgateway.ports import Clock, ReportStore
from ccgateway.services.dispatcher import Dispatcher

log = logging.getLogger(__name__)

MAX_ROWS = 200_000  # intervals x ids in one report
MAX_IDS = 500


class ReportTap:
    """Folds what the dispatcher carries out into the reports' tallies (in its turn: no
    I/O here; the service flushes them)."""

    def __init__(self, fold: ReportFold, center: Center) -> None:
        self.fold = fold
        self._center = center

    def observe(self, command: Command, now: float) -> None:
        match command:
            case RecordInteraction(interaction=record):
                self.fold.add_interaction(record)
            case Notify(topic="agent.state", data=data):
                reason = data.get("reason")
                self.fold.agent_state(
                    str(data["agent_id"]),
                    AgentState(str(data["state"])),
                    reason if isinstance(reason, str) else None,
                    now,
                )
            case RecordDial(record=record):
                self.fold.add_dial(record)
            case RecordDisposition(record=record):
                self.fold.add_disposition(record, script_of(self._center, record.campaign_id))

    def seed(self, center: Center, now: float) -> None:
        """Every agent's state as the controller starts (their time counts from now)."""
        for agent_id, status in center.floor.status.items():
            self.fold.seed(agent_id, status.state, status.reason, now)


def script_of(center: Center, campaign_id: str) -> Script | None:
    run = center.outbound.runs.get(campaign_id)
    return run.campaign.script if run is not None else None


def abandon_definition(center: Center, campaign_id: str) -> AbandonDefinition:
    """The campaign's rule set's way to count abandons, as configured now."""
    run = center.outbound.runs.get(campaign_id)
    if run is None:
        return AbandonDefinition()
    return AbandonDefinition(
        run.rules.count_amd_false_positives, run.campaign.amd.false_positive_share
    )


@dataclass(frozen=True, slots=True)
class QueueRow:
    queue_id: str
    start: int
    figures: QueueFigures
    transferred: int


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: str
    start: int
    figures: AgentFigures
    activity: ActivityFigures
    pauses: dict[str, float]


@dataclass(frozen=True, slots=True)
class CampaignRow:
    campaign_id: str
    start: int
    figures: CampaignReportFigures
    dispositions: dict[str, int]
    answers: dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A report asked for: moments in epoch seconds, the interval's name, the zone's."""

    start: float
    end: float
    interval: str
    ids: tuple[str, ...] = ()
    time_zone: str | None = None


class ReportService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: ReportStore,
        clock: Clock,
        time_zone: str = "UTC",
        flush_every_s: float = 5.0,
    ) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._clock = clock
        self.time_zone = zone(time_zone).key
        self.flush_every_s = flush_every_s
        self.tap = ReportTap(ReportFold(dispatcher.figures.rules), dispatcher.center)
        dispatcher.taps.append(self.tap)
        self.tap.seed(dispatcher.center, clock.now())

    @property
    def rules(self) -> FigureRules:
        return self.tap.fold.rules

    # --- folding and flushing --------------------------------------------------------------

    async def flush(self) -> None:
        """What was folded so far, to the store in one transaction (in the writer's order);
        on a failure the tallies are kept for the next flush."""
        now = self._clock.now()
        self.tap.fold.keep_only(self._dispatcher.center.floor.status.keys(), now)
        deltas = self.tap.fold.take(now)
        if not deltas:
            return
        try:
            await self._dispatcher.write(partial(self._store.add, deltas))
        except Exception:
            self.tap.fold.give_back(deltas)
            raise

    async def run(self) -> None:
        """The controller's job: a flush every few seconds (the last one is a stop step:
        Controller.stops)."""
        while True:
            await asyncio.sleep(self.flush_every_s)
            try:
                await self.flush()
            except Exception:
                log.exception("the reports' flush failed; tried again at the next")

    # --- reports ---------------------------------------------------------------------------

    async def queues(self, request: ReportRequest) -> list[QueueRow]:
        found_span, ids = self._check(request, len(self._dispatcher.center.floor.directory.queues))
        await self.flush()
        found = await asyncio.to_thread(self._store.queues, found_span, ids)
        return [
            QueueRow(queue_id, start, queue_figures(queue_id, tally), tally.transferred)
            for (queue_id, start), tally in sorted(found.items())
        ]

    async def agents(self, request: ReportRequest) -> list[AgentRow]:
        found_span, ids = self._check(request, len(self._dispatcher.center.floor.directory.agents))
        await self.flush()
        found = await asyncio.to_thread(self._store.agents, found_span, ids)
        return [
            AgentRow(
                agent_id,
                start,
                agent_figures(agent_id, tally),
                activity_figures(activity, tally.calls_answered),
                {reason: round(s, 3) for reason, s in sorted(pauses.items())},
            )
            for (agent_id, start), (tally, activity, pauses) in sorted(found.items())
        ]

    async def campaigns(self, request: ReportRequest) -> list[CampaignRow]:
        center = self._dispatcher.center
        found_span, ids = self._check(request, len(center.outbound.runs))
        await self.flush()
        found = await asyncio.to_thread(self._store.campaigns, found_span, ids)
        rows = []
        for (campaign_id, start), (tally, counts) in sorted(found.items()):
            figures = campaign_figures(tally, abandon_definition(center, campaign_id))
            dispositions = {
                what.removeprefix("disposition:"): c.count
                for what, c in sorted(counts.items())
                if what.startswith("disposition:")
            }
            answers = summarise_answers(counts, script_of(center, campaign_id))
            rows.append(CampaignRow(campaign_id, start, figures, dispositions, answers))
        return rows

    def _check(self, request: ReportRequest, known: int) -> tuple[Span, Collection[str] | None]:
        tz: Zone = zone(request.time_zone or self.time_zone)
        found = span(interval(request.interval), request.start, request.end, tz)
        if len(request.ids) > MAX_IDS:
            raise InvalidValue(f"at most {MAX_IDS} ids in one report")
        ids = sorted(set(request.ids)) or None
        rows = found.groups * (len(ids) if ids else max(known, 1))
        if rows > MAX_ROWS:
            raise InvalidValue(
                f"up to {rows} rows: at most {MAX_ROWS} per report (fewer ids, a longer "
                "interval or a shorter range)"
            )
        return found, ids


def summarise_answers(
    counts: dict[str, Count], script: Script | None
) -> dict[str, dict[str, object]]:
    """Per question: how many answered, each option's count, and for numbers their sum and
    mean (the kind from the campaign's script as it is now)."""
    kinds = {q.id: q.kind for q in script.questions} if script is not None else {}
    out: dict[str, dict[str, object]] = {}
    for what, count in sorted(counts.items()):
        if not what.startswith("answer:"):
            continue
        question, _, option = what.removeprefix("answer:").partition("=")
        summary = out.setdefault(question, {"answered": 0})
        if option:
            options = summary.setdefault("counts", {})
            assert isinstance(options, dict)
            options[option] = count.count
            continue
        summary["answered"] = count.count
        if kinds.get(question) in (QuestionKind.NUMBER, QuestionKind.SCALE):
            summary["sum"] = round(count.total, 4)
            summary["mean"] = round(count.total / count.count, 4) if count.count else None
    return out
