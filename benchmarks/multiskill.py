"""Multi-skill routing on one workload: ccgateway's engine against app_queue-style penalty
routing with the same staff and the same callers, and the wait estimator against a plain
average of past waits.

The workload (the issue's): 6 call types with unequal Poisson arrivals, agents with two
skills in a chain (group i serves types i and i+1, mod 6, primary i), exponential talk times
and patience. Every policy sees the same callers (same seed): same arrivals, patience, talk.

Policies:
- ccgateway, any qualified: each queue needs its skill at level 1+; the engine offers the
  caller who has waited longest across all queues (weights equal) to the longest-idle agent.
- ccgateway, most skilled: the same, but the queue's strategy takes the free agent with the
  highest level in its skill (a primary agent before a secondary one, like penalties).
- ccgateway, primary first: each queue needs its skill at level 8+ (the primary group),
  and a relaxation step widens it to level 1+ after 10 s of waiting.
- app_queue-style: each queue on its own, primary members at penalty 0 and secondary at
  penalty 1; a new caller rings the free member with the lowest penalty (least recent
  among equals); when an agent frees, the callers of their queues compete the way app_queue's
  do: each waiting caller retries every `retry` (5 s, app_queue's default) and the first to
  try gets the agent, so the pick among queues is not by wait and comes up to 5 s late.
  This is an emulation from app_queue's documented behaviour, not Asterisk itself.

Figures use ccgateway's own definitions (domain/figures.py): service level is answered
within 20 s over offered, abandons included; abandons under 5 s are excluded.

The wait estimate is checked on the "any qualified" runs: at each arrival that has to wait,
the queue-length estimator (domain/estimator.py) and a plain average (the mean wait of the
queue's last 50 answered callers) each predict the wait; both are scored against the actual
wait of the callers who were answered.

    python -m benchmarks.multiskill [--quick] [--replications N] [--hours H]
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.events import PbxResynced
from ccgateway.domain.figures import Figures
from ccgateway.domain.model import Agent, Queue, RelaxationStep, Skill, Strategy
from ccgateway.sim.inbound import Arrival, CentreRouter, InboundSim, Offer, QueueLoad

TYPES = 6
CALLS_PER_HOUR = (80, 70, 60, 50, 40, 30)  # unequal on purpose: chaining has work to do
MEAN_TALK_S = 280.0
MEAN_PATIENCE_S = 150.0
AGENTS_PER_GROUP = 5
APP_QUEUE_RETRY_S = 5.0


def extension(i: int) -> str:
    return str(300 + i)


def loads(factor: float = 1.0) -> list[QueueLoad]:
    return [
        QueueLoad(extension(i), CALLS_PER_HOUR[i] * factor, MEAN_TALK_S, MEAN_PATIENCE_S)
        for i in range(TYPES)
    ]


def staff() -> list[tuple[str, int, int]]:
    """(agent id, primary type, secondary type) for every agent."""
    return [
        (f"g{i}a{k}", i, (i + 1) % TYPES) for i in range(TYPES) for k in range(AGENTS_PER_GROUP)
    ]


# --- ccgateway ---------------------------------------------------------------------------


def centre(primary_first: bool, strategy: Strategy = Strategy.LONGEST_IDLE) -> Center:
    ids = count()
    c = Center(new_leg_id=lambda: f"leg{next(ids)}")
    for i in range(TYPES):
        c.put_skill(Skill(f"s{i}", f"type {i}"))
    for agent_id, primary, secondary in staff():
        skills = {f"s{primary}": 10, f"s{secondary}": 5}
        c.put_agent(Agent(agent_id, agent_id, f"PJSIP/{agent_id}", skills), 0.0)
    for i in range(TYPES):
        if primary_first:
            widen = (RelaxationStep(10.0, requirement=f"s{i} >= 1"),)
            queue = Queue(f"q{i}", f"q{i}", extension(i), {f"s{i}": 8}, 15, 0, relaxation=widen)
        else:
            queue = Queue(f"q{i}", f"q{i}", extension(i), {f"s{i}": 1}, 15, 0, strategy=strategy)
        c.put_queue(queue, 0.0)
    c.handle(PbxResynced(), 0.0)
    for agent_id, _, _ in staff():
        c.set_agent_state(agent_id, AgentState.AVAILABLE, None, 0.0)
    return c


# --- app_queue-style penalty routing (an emulation) ----------------------------------------


@dataclass
class _Member:
    agent_id: str
    penalties: dict[str, int]  # extension -> penalty
    free: bool = True
    idle_since: float = 0.0


@dataclass
class _Caller:
    call_id: str
    extension: str
    arrived_at: float
    agent_id: str | None = None
    answered_at: float | None = None
    offers: int = 0


@dataclass
class AppQueueRouter:
    seed: int
    records: list[Interaction] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed ^ 0x5EED)
        self._members = {a: _Member(a, {extension(p): 0, extension(s): 1}) for a, p, s in staff()}
        self._waiting: dict[str, deque[_Caller]] = defaultdict(deque)
        self._calls: dict[str, _Caller] = {}
        self._pending: list[tuple[float, str, str]] = []  # (when, call, agent): a retry hit

    def arrive(self, arrival: Arrival, now: float) -> list[Offer]:
        caller = _Caller(arrival.call_id, arrival.extension, now)
        self._calls[caller.call_id] = caller
        free = [m for m in self._members.values() if m.free and caller.extension in m.penalties]
        if not free:
            self._waiting[caller.extension].append(caller)
            return []
        best = min(free, key=lambda m: (m.penalties[caller.extension], m.idle_since, m.agent_id))
        return [self._offer(caller, best)]

    def answered(self, offer: Offer, now: float) -> list[Offer]:
        caller = self._calls.get(offer.call_id)
        if caller is not None and caller.agent_id == offer.agent_id:
            caller.answered_at = now
        return []

    def ended(self, call_id: str, now: float) -> list[Offer]:
        caller = self._calls.pop(call_id, None)
        if caller is None:
            return []
        if caller.agent_id is None:  # abandoned in line
            self._waiting[caller.extension].remove(caller)
            self._record(caller, Outcome.ABANDONED, now)
            return []
        member = self._members[caller.agent_id]
        outcome = Outcome.ANSWERED if caller.answered_at is not None else Outcome.ABANDONED
        self._record(caller, outcome, now)
        member.free, member.idle_since = True, now
        return self._agent_free(member, now)

    def is_answered(self, call_id: str) -> bool:
        caller = self._calls.get(call_id)
        return caller is not None and caller.answered_at is not None

    def next_deadline(self) -> float | None:
        return min((when for when, _, _ in self._pending), default=None)

    def tick(self, now: float) -> list[Offer]:
        due = [p for p in self._pending if p[0] <= now]
        self._pending = [p for p in self._pending if p[0] > now]
        offers = []
        for _, call_id, agent_id in due:
            member = self._members[agent_id]
            caller = self._calls.get(call_id)
            if caller is None:  # the caller left before its retry: the agent is free again
                member.free = True
                offers += self._agent_free(member, now)
            else:
                offers.append(self._offer(caller, member))
        return offers

    def _agent_free(self, member: _Member, now: float) -> list[Offer]:
        """The waiting callers of the agent's queues retry every 5 s: the first retry after
        now gets the agent, whichever queue and whatever its wait."""
        heads = [self._waiting[e][0] for e in member.penalties if self._waiting[e]]
        if not heads:
            return []
        tries = [(now + self._rng.uniform(0, APP_QUEUE_RETRY_S), h) for h in heads]
        when, caller = min(tries, key=lambda t: t[0])
        self._waiting[caller.extension].popleft()
        member.free = False
        caller.agent_id = member.agent_id  # reserved for that caller's attempt
        self._pending.append((when, caller.call_id, member.agent_id))
        return []

    def _offer(self, caller: _Caller, member: _Member) -> Offer:
        member.free = False
        caller.agent_id = member.agent_id
        caller.offers += 1
        return Offer(caller.call_id, member.agent_id, f"leg-{caller.call_id}")

    def _record(self, caller: _Caller, outcome: Outcome, now: float) -> None:
        answered = caller.answered_at
        waited = (answered if answered is not None else now) - caller.arrived_at
        self.records.append(
            Interaction(
                caller.call_id,
                f"q{int(caller.extension) - 300}",
                caller.agent_id if answered is not None else None,
                "",
                outcome,
                caller.arrived_at,
                answered,
                now,
                round(waited, 3),
                round(now - answered, 3) if answered is not None else 0.0,
                caller.offers,
            )
        )


# --- running and scoring -----------------------------------------------------------------


@dataclass
class RunResult:
    service_level: float
    abandonment: float
    asa_s: float
    occupancy: float


@dataclass
class Predictions:
    estimator: list[tuple[float, str]] = field(default_factory=list)  # (predicted, call)
    average: list[tuple[float, str]] = field(default_factory=list)


def score(records: Sequence[Interaction], hours: float) -> RunResult:
    figures = Figures()
    figures.add_all(records)
    offered = answered_in = abandoned = 0
    wait = answered = 0.0
    for i in range(TYPES):
        f = figures.queue(f"q{i}")
        offered += f.offered
        answered_in += round((f.service_level or 0.0) * f.offered)
        abandoned += f.abandoned
        wait += (f.asa_s or 0.0) * f.answered
        answered += f.answered
    talk = sum(r.talk_s for r in records)
    agents = TYPES * AGENTS_PER_GROUP
    return RunResult(
        answered_in / offered,
        abandoned / offered,
        wait / answered if answered else 0.0,
        talk / (agents * hours * 3600.0),
    )


def run_policy(
    name: str, seed: int, hours: float, factor: float, predictions: Predictions | None
) -> RunResult:
    router: CentreRouter | AppQueueRouter
    if name == "app_queue-style":
        router = AppQueueRouter(seed)
        sim = InboundSim(router, loads(factor), hours * 3600.0, seed)
    else:
        strategy = (
            Strategy.MOST_SKILLED if name == "ccgateway most skilled" else Strategy.LONGEST_IDLE
        )
        center = centre(name == "ccgateway primary first", strategy)
        router = CentreRouter(center)
        sim = InboundSim(router, loads(factor), hours * 3600.0, seed)
        if predictions is not None:
            sim.on_arrival = _predictor(center, router, predictions)
    return score(sim.run(), hours)


def _predictor(
    center: Center, router: CentreRouter, predictions: Predictions
) -> Callable[[Arrival, float], None]:
    """Called before the arrival reaches the centre: predict for a caller who will wait."""
    recent: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=50))
    seen = 0

    def predict(arrival: Arrival, now: float) -> None:
        nonlocal seen
        for record in router.records[seen:]:
            if record.outcome is Outcome.ANSWERED and record.queue_id is not None:
                recent[record.queue_id].append(record.wait_s)
        seen = len(router.records)
        queue_id = f"q{int(arrival.extension) - 300}"
        queue = center.directory.queues[queue_id]
        pool_free = center.engine.best_agent(queue_id, now)
        if pool_free is not None:
            return  # will be served at once: no wait to predict
        ahead = sum(1 for w in center.engine.waiting_calls() if w.queue_id == queue_id)
        estimate = center.desk.estimator.expected_wait(queue.id, ahead, now)
        if estimate is not None and recent[queue_id]:
            predictions.estimator.append((estimate, arrival.call_id))
            predictions.average.append((statistics.fmean(recent[queue_id]), arrival.call_id))

    return predict


def errors(pairs: list[tuple[float, str]], actual: dict[str, float]) -> tuple[float, float, int]:
    diffs = [p - actual[c] for p, c in pairs if c in actual]
    if not diffs:
        return math.nan, math.nan, 0
    mae = statistics.fmean(abs(d) for d in diffs)
    rmse = math.sqrt(statistics.fmean(d * d for d in diffs))
    return mae, rmse, len(diffs)


def interval(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:7.3f}"
    half = 1.96 * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:7.3f} ± {half:.3f}"


POLICIES = [
    "ccgateway any qualified",
    "ccgateway most skilled",
    "ccgateway primary first",
    "app_queue-style",
]
BASELINE = "app_queue-style"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 replications of 2 h")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument(
        "--loads", type=float, nargs="+", default=[1.0, 1.1], help="arrival rate factors"
    )
    args = parser.parse_args(argv)
    replications, hours = (3, 2.0) if args.quick else (args.replications, args.hours)
    started = time.perf_counter()
    print(
        f"multi-skill routing: {TYPES} call types, {TYPES * AGENTS_PER_GROUP} agents in a "
        f"chain of two skills, {sum(CALLS_PER_HOUR)} calls/h at load 1.0 {CALLS_PER_HOUR},"
    )
    print(
        f"talk {MEAN_TALK_S:g} s and patience {MEAN_PATIENCE_S:g} s (exponential); {hours:g} h x "
        f"{replications} replications (seeds 1..{replications}) per load;"
    )
    print(f"Python {platform.python_version()} on {platform.machine()}. "
          "Mean ± 95 % interval over replications.")  # fmt: skip
    for factor in args.loads:
        run_load(factor, replications, hours)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


def run_load(factor: float, replications: int, hours: float) -> None:
    offered = sum(CALLS_PER_HOUR) * factor * MEAN_TALK_S / 3600.0
    print(f"\nload {factor:g}: {offered:.1f} erlangs offered to {TYPES * AGENTS_PER_GROUP} agents")
    results: dict[str, list[RunResult]] = {p: [] for p in POLICIES}
    predictions = Predictions()
    actual: dict[str, float] = {}
    for seed in range(1, replications + 1):
        for policy in POLICIES:
            mine = Predictions() if policy == POLICIES[0] else None
            results[policy].append(run_policy(policy, seed, hours, factor, mine))
            if mine is not None:
                tag = f"s{seed}-"
                predictions.estimator += [(p, tag + c) for p, c in mine.estimator]
                predictions.average += [(p, tag + c) for p, c in mine.average]
                waits = _answered_waits(seed, hours, factor)
                actual.update({tag + c: w for c, w in waits.items()})
    header = (
        f"{'policy':26} {'service level':>17} {'abandonment':>17} {'ASA s':>17} {'occupancy':>17}"
    )
    print(header)
    print("-" * len(header))
    for policy in POLICIES:
        rows = results[policy]
        print(
            f"{policy:26} {interval([r.service_level for r in rows]):>17} "
            f"{interval([r.abandonment for r in rows]):>17} "
            f"{interval([r.asa_s for r in rows]):>17} {interval([r.occupancy for r in rows]):>17}"
        )
    for policy in POLICIES[:-1]:  # the same callers: paired by seed
        pairs = list(zip(results[policy], results[BASELINE], strict=True))
        sl = [(a.service_level - b.service_level) * 100 for a, b in pairs]
        ab = [(a.abandonment - b.abandonment) * 100 for a, b in pairs]
        print(
            f"  {policy} - {BASELINE}, paired: service level {interval(sl)} points, "
            f"abandonment {interval(ab)} points"
        )
    print("expected wait at arrival, callers who waited and were answered (any qualified):")
    for name, pairs_ in (("queue-length estimator", predictions.estimator),
                         ("plain average (last 50)", predictions.average)):  # fmt: skip
        mae, rmse, n = errors(pairs_, actual)
        print(f"  {name:24} mean abs error {mae:6.1f} s   rms error {rmse:6.1f} s   ({n} callers)")


def _answered_waits(seed: int, hours: float, factor: float) -> dict[str, float]:
    """Actual waits of the answered callers of the "any qualified" run (rerun: the run is
    deterministic under its seed)."""
    router = CentreRouter(centre(primary_first=False))
    records = InboundSim(router, loads(factor), hours * 3600.0, seed).run()
    return {r.call_id: r.wait_s for r in records if r.outcome is Outcome.ANSWERED}


if __name__ == "__main__":
    sys.exit(main())
