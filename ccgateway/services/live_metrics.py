"""The live centre as Prometheus metrics, read at each scrape (a custom `Collector`).

Nothing is copied ahead of time: `collect` reads the centre's views, today's figures and the
dispatcher's queues when Prometheus asks. It runs in the event loop's thread (the /metrics
route is async and renders at once), like every other read of the centre, so each scrape is
one consistent picture.

Today's figures are counters (`_total`): they count from 0 at midnight UTC (Prometheus takes
that for a counter reset, which `rate()` and `increase()` handle) and are rebuilt from the
records after a restart, so a restart is no reset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ccgateway.domain.administration import campaign_ids, live_campaign_figures
from ccgateway.domain.agents import AgentState
from ccgateway.domain.figures import AgentFigures, QueueFigures
from ccgateway.domain.views import AgentView, QueueStatus, agent_view, queue_status

if TYPE_CHECKING:
    from ccgateway.services.dispatcher import Dispatcher

T = TypeVar("T")
# name, help, and how to read one queue's value from its live status
QUEUE_LIVE: list[tuple[str, str, Callable[[QueueStatus], float | None]]] = [
    ("ccgw_queue_waiting", "Callers waiting now.", lambda s: s.waiting),
    ("ccgw_queue_longest_wait_seconds", "The longest current wait.", lambda s: s.longest_wait_s),
    (
        "ccgw_queue_agents_available",
        "Qualified agents available now.",
        lambda s: s.agents_available,
    ),
    (
        "ccgw_queue_agents_logged_in",
        "Qualified agents logged in now.",
        lambda s: s.agents_logged_in,
    ),
    (
        "ccgw_queue_occupancy_ratio",
        "Mean occupancy today of the logged-in qualified agents.",
        lambda s: s.occupancy,
    ),
]
# ... from today's figures (UTC): gauges
QUEUE_TODAY: list[tuple[str, str, Callable[[QueueFigures], float | None]]] = [
    (
        "ccgw_queue_service_level_ratio",
        "Calls answered within the service level threshold over calls offered, today (UTC).",
        lambda f: f.service_level,
    ),
    ("ccgw_queue_asa_seconds", "Average speed of answer today (UTC).", lambda f: f.asa_s),
    ("ccgw_queue_aht_seconds", "Average talk time today (UTC).", lambda f: f.aht_s),
]
# ... and today's counts (UTC): counters from 0 at midnight UTC
QUEUE_COUNTS: list[tuple[str, str, Callable[[QueueFigures], float | None]]] = [
    ("ccgw_queue_offered", "Calls offered today (UTC).", lambda f: f.offered),
    ("ccgw_queue_answered", "Calls answered today (UTC).", lambda f: f.answered),
    ("ccgw_queue_abandoned", "Calls abandoned today (UTC).", lambda f: f.abandoned),
    ("ccgw_queue_timed_out", "Callers past the max wait today (UTC).", lambda f: f.timed_out),
    ("ccgw_queue_deflected", "Callers sent on at arrival today (UTC).", lambda f: f.deflected),
    (
        "ccgw_queue_callbacks_requested",
        "Callers who left the line for a callback today (UTC).",
        lambda f: f.callbacks_requested,
    ),
    (
        "ccgw_queue_callbacks_completed",
        "Callbacks that reached the customer today (UTC).",
        lambda f: f.callbacks_completed,
    ),
    ("ccgw_queue_tasks_completed", "Tasks completed today (UTC).", lambda f: f.tasks_completed),
    # Callers taken out of the centre's hands while they waited: not offered (figures.py)
    (
        "ccgw_queue_redirected",
        "Waiting callers taken out of the controller's hands today (UTC): moved out of its "
        "dialplan by another tool, or not bridged by the PBX to the agent who answered.",
        lambda f: f.redirected,
    ),
    (
        "ccgw_queue_cut_off",
        "Waiting callers the PBX ended as it restarted or shut down today (UTC).",
        lambda f: f.cut_off,
    ),
]
AGENT_COUNTS: list[tuple[str, str, Callable[[AgentFigures], float | None]]] = [
    ("ccgw_agent_calls_answered", "Calls answered today (UTC).", lambda f: f.calls_answered),
    ("ccgw_agent_talk_seconds", "Talk time today (UTC).", lambda f: f.talk_s),
    ("ccgw_agent_tasks_completed", "Tasks completed today (UTC).", lambda f: f.tasks_completed),
]
# A pause reason is a label only when it is one of the centre's pause codes (a closed list);
# free text would make a new series of every reason typed.
OTHER_REASON = "other"


class LiveCollector(Collector):
    """Queues, agents, campaigns' abandon ledgers, PBX links and the dispatcher's queues,
    as they are at the scrape."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def collect(self) -> Iterator[Metric]:
        dispatcher = self._dispatcher
        center, now = dispatcher.center, dispatcher.clock.now()
        queues = sorted(center.directory.queues)
        statuses = {q: queue_status(center, q, now) for q in queues}
        figures = {q: dispatcher.figures.queue(q) for q in queues}
        yield from _per("queue", statuses, QUEUE_LIVE, GaugeMetricFamily)
        yield from _per("queue", figures, QUEUE_TODAY, GaugeMetricFamily)
        yield from _per("queue", figures, QUEUE_COUNTS, CounterMetricFamily)
        agents = [agent_view(center, a, now) for a in sorted(center.directory.agents)]
        yield from _agents(agents, center.policy.pause_codes)
        today = {a.agent.id: dispatcher.figures.agent(a.agent.id) for a in agents}
        yield from _per("agent", today, AGENT_COUNTS, CounterMetricFamily)
        yield from _campaigns(dispatcher, now)
        up = GaugeMetricFamily(
            "ccgw_pbx_up",
            "1 while the PBX's link is up and its picture loaded (calls are offered), else 0.",
            labels=["pbx"],
        )
        for name in sorted(dispatcher.pbxes):
            up.add_metric([name], 1.0 if name in center.ready else 0.0)
        yield up
        passive = GaugeMetricFamily(
            "ccgw_pbx_passive",
            "1 while another controller owns the PBX (its mark, pbx/ownership.py) and this "
            "one stays passive; `owner` names it.",
            labels=["pbx", "owner"],
        )
        for name, pbx in sorted(dispatcher.pbxes.items()):
            owner = getattr(pbx, "passive_to", None)
            if isinstance(owner, str):
                passive.add_metric([name, owner], 1.0)
        yield passive
        yield GaugeMetricFamily(
            "ccgw_writer_queue_depth",
            "Database writes queued for the one writer and not yet started.",
            value=dispatcher.pending_writes,
        )
        yield GaugeMetricFamily(
            "ccgw_database_up",
            "1 while the database takes the writer's writes; 0 while they wait in the journal.",
            value=1.0 if dispatcher.database_available else 0.0,
        )
        yield CounterMetricFamily(
            "ccgw_writes_refused",
            "The centre's writes refused because the journal was full (the database away).",
            value=dispatcher.refused_writes,
        )
        yield GaugeMetricFamily(
            "ccgw_dispatcher_inbox_depth",
            "PBX events and requests waiting for the dispatcher's turn.",
            value=dispatcher.pending_inputs,
        )


def _per(
    label: str,
    sources: dict[str, T],
    table: Iterable[tuple[str, str, Callable[[T], float | None]]],
    kind: type[GaugeMetricFamily] | type[CounterMetricFamily],
) -> Iterator[Metric]:
    """One family per row of `table`, one sample per source (none where the value is
    unknown yet, such as a service level before the first call)."""
    for name, help_text, read in table:
        family = kind(name, help_text, labels=[label])
        for key, source in sources.items():
            value = read(source)
            if value is not None:
                family.add_metric([key], float(value))
        yield family


def _agents(agents: list[AgentView], pause_codes: tuple[str, ...]) -> Iterator[Metric]:
    by_state = GaugeMetricFamily("ccgw_agents", "Agents by state, now.", labels=["state"])
    for state in AgentState:
        by_state.add_metric([state.value], float(sum(a.state is state for a in agents)))
    yield by_state
    paused = GaugeMetricFamily(
        "ccgw_agents_paused",
        f"Paused agents by pause code, now (a reason that is no pause code: {OTHER_REASON}).",
        labels=["reason"],
    )
    counts = dict.fromkeys(pause_codes, 0)
    for a in agents:
        if a.state is AgentState.PAUSED:
            reason = a.reason if a.reason in counts else OTHER_REASON
            counts[reason] = counts.get(reason, 0) + 1
    for reason, count in counts.items():
        paused.add_metric([reason], float(count))
    yield paused
    occupancy = GaugeMetricFamily(
        "ccgw_agent_occupancy_ratio",
        "Busy over busy and available, today (UTC), pauses excluded.",
        labels=["agent"],
    )
    for a in agents:
        occupancy.add_metric([a.agent.id], a.occupancy)
    yield occupancy


def _campaigns(dispatcher: Dispatcher, now: float) -> Iterator[Metric]:
    """Each campaign's abandon ledger (by its rule set's definition) against its limit."""
    center = dispatcher.center
    rate = GaugeMetricFamily(
        "ccgw_campaign_abandon_ratio",
        "The campaign's abandon rate by its rule set's definition (UK: the day, with the "
        "AMD estimate; US: 30 days); absent before its first live call.",
        labels=["campaign"],
    )
    limit = GaugeMetricFamily(
        "ccgw_campaign_abandon_limit_ratio",
        "The abandon rate at which predictive dialling stops (the rule set's limit or the "
        "campaign's lower target).",
        labels=["campaign"],
    )
    throttle = GaugeMetricFamily(
        "ccgw_campaign_throttle_ratio",
        "The ledger's easing of the pacer: 1 none, 0 predictive dialling stopped.",
        labels=["campaign"],
    )
    lines = GaugeMetricFamily(
        "ccgw_campaign_lines", "Calls out for the campaign now.", labels=["campaign"]
    )
    for campaign_id in campaign_ids(center):
        figures = live_campaign_figures(center, campaign_id, now)
        ledger = figures.ledger
        if ledger.rate is not None:
            rate.add_metric([campaign_id], ledger.rate)
        if ledger.limit is not None:
            limit.add_metric([campaign_id], ledger.limit)
        throttle.add_metric([campaign_id], figures.throttle)
        lines.add_metric([campaign_id], float(figures.lines_now))
    yield from (rate, limit, throttle, lines)
