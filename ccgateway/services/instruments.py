"""What the controller measures as it runs, for Prometheus: the histograms the code feeds.

One `Instruments` per controller, on a registry of its own (never prometheus_client's
global one), so tests and two controllers in one process do not collide. app.py builds it
with `Instruments.for_controller()` (the registry, with the process and Python collectors)
and hands it to the dispatcher and to each PBX adapter; `watch` adds the figures read from
the live centre at scrape time (services/live_metrics.py). Everything else takes
`Instruments()`, unregistered: its observations cost a few microseconds and go nowhere, so
unit tests need none.

The names follow Prometheus' conventions: the `ccgw_` prefix, base units (`_seconds`),
counters ending in `_total`, snake_case labels, and only bounded label values (a PBX's name,
an action's name, a step's cause: never a call id or a caller's number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from ccgateway.services.live_metrics import LiveCollector

if TYPE_CHECKING:
    from ccgateway.services.dispatcher import Dispatcher

# A step of the centre takes tens of microseconds; a slow one is milliseconds.
STEP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# A PBX on the same network answers in a millisecond or two; its action timeout is 5 s.
ROUND_TRIP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# An event waits in the inbox behind what came before it (a burst, a slow step).
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
# A webhook is retried with back-off for minutes when its receiver is down.
WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass
class Instruments:
    """The registry and the metrics the code feeds; `Instruments()` is registered nowhere."""

    registry: CollectorRegistry | None = None
    routing: Histogram = field(init=False)
    event_lag: Histogram = field(init=False)
    round_trips: Histogram = field(init=False)
    timeouts: Counter = field(init=False)
    webhook_delays: Histogram = field(init=False)
    # The labelled series the dispatcher feeds at every step, looked up once each: the
    # client's `labels()` takes a lock and builds a key on every call.
    _steps: dict[tuple[str, ...], Histogram] = field(init=False, default_factory=dict)
    _lags: dict[tuple[str, ...], Histogram] = field(init=False, default_factory=dict)
    _trips: dict[tuple[str, ...], Histogram] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        registry = self.registry
        self.routing = Histogram(
            "ccgw_routing_decision_seconds",
            "Time the dispatcher spends in the centre per step (the step and the settle that "
            "ends it: matching, offers, pacing), by what caused the step; an API request's own "
            "work, which may wait for the database, is not counted.",
            ["cause"],
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self.event_lag = Histogram(
            "ccgw_pbx_event_lag_seconds",
            "From a PBX event's arrival in the dispatcher's inbox to its handling.",
            ["pbx"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.round_trips = Histogram(
            "ccgw_pbx_round_trip_seconds",
            "From sending an AMI action or an ESL command to its answer (an error answer "
            "included), by PBX and action.",
            ["pbx", "action"],
            buckets=ROUND_TRIP_BUCKETS,
            registry=registry,
        )
        self.timeouts = Counter(
            "ccgw_pbx_timeouts_total",
            "AMI actions and ESL commands left unanswered within their timeout.",
            ["pbx", "action"],
            registry=registry,
        )
        self.webhook_delays = Histogram(
            "ccgw_webhook_delivery_delay_seconds",
            "From the event a webhook carries to its delivery accepted by the receiver "
            "(retries included).",
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )

    @classmethod
    def for_controller(cls) -> Instruments:
        """On a registry of its own, with the process, platform and garbage collector's
        metrics (process_*, python_info, python_gc_*)."""
        # No `_created` series beside every counter and histogram: in the text format each
        # is a gauge family of its own that no dashboard reads (a switch for the process,
        # which is the controller's).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        return cls(registry)

    def watch(self, dispatcher: Dispatcher) -> None:
        """Add what is read from the live centre at each scrape (queues, agents,
        campaigns, PBX links, the writer's queue)."""
        if self.registry is not None:
            self.registry.register(LiveCollector(dispatcher))

    # --- what the code reports -------------------------------------------------------------

    def step_taken(self, cause: str, seconds: float) -> None:
        """One step of the dispatcher in the centre: `cause` is pbx_event, timer, request
        or store."""
        _child(self._steps, self.routing, cause).observe(seconds)

    def event_handled(self, pbx: str, lag_s: float) -> None:
        _child(self._lags, self.event_lag, pbx).observe(lag_s)

    def round_trip(self, pbx: str, action: str, seconds: float) -> None:
        """An answer came `seconds` after the action was sent (the PBX adapters' clients)."""
        _child(self._trips, self.round_trips, pbx, action).observe(seconds)

    def timed_out(self, pbx: str, action: str) -> None:
        self.timeouts.labels(pbx, action).inc()

    def webhook_delivered(self, delay_s: float) -> None:
        """A webhook accepted by its receiver `delay_s` after the event it carries (for the
        webhook deliverer)."""
        self.webhook_delays.observe(delay_s)


def _child(
    children: dict[tuple[str, ...], Histogram], metric: Histogram, *labels: str
) -> Histogram:
    child = children.get(labels)
    if child is None:
        child = children[labels] = metric.labels(*labels)
    return child
