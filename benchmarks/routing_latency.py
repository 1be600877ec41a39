"""Routing decision latency and memory as the centre grows, against a naive router.

What is measured
    A centre with 200 skills, 200 queues, N agents (2-4 skills each at levels 1-10) and N
    waiting calls. Every agent is busy (logged out, then paused), so the line is full and
    nobody can be served. One routing decision is then one agent becoming available:
    `Center.set_agent_state(agent, AVAILABLE, ...)` returns the RingAgent for the best
    waiting call the agent qualifies for. `time.perf_counter_ns` is read around that one
    call, so a decision's time includes everything the centre does for it: the agent's
    state, the engine's indexes, the offer, its timers and notices. Between decisions, and
    untimed, the offered call is answered and hung up, the agent is paused again, a new
    caller joins the same queue and the clock moves on 0.25 s through `Center.tick` (which
    applies the relaxation steps that fall due), so the sizes stay constant.

    The engine builds its agent pools when a queue is saved, so no decision builds one;
    the first decisions after a start still run on cold caches (each class's first look at
    its pool, the relaxation steps falling due). Two warm-up decisions, one before the
    relaxation steps apply and one after, are reported on their own and left out of the
    percentiles, which describe the centre in its steady state.

    Memory is the `tracemalloc` size (current, and peak while building) of the built centre
    with its waiting line and every agent pool, after the warm-up; the same for the
    baseline's own structures. The configuration objects (Skill, Agent, Queue) are shared by
    both and counted on their own.

Why this baseline
    `NaiveRouter` is what a first implementation does: one waiting line kept sorted by
    priority then arrival; for a decision, walk the line from its head and, for each call,
    scan every agent for the free ones who meet the call's requirement at its relaxation
    step (`Queue.requirement_at(step).matches(...)`, the same compiled requirement the engine
    uses), pick among them by the queue's strategy, and serve the first call that has one.
    It checks the cheap thing first (is the agent free?) and keeps its line sorted on
    arrival, outside the timed decision, so it is a fair baseline and not a straw man. Its
    cost is (calls walked before one fits) x (agents); the engine's is the number of
    (queue, step) classes with waiting calls, whatever the number of calls or agents.

The workload
    Skills are Zipf-popular, so queues have very unequal pools. Queues need 1-2 skills at
    levels 1-5; some (58 of 200 with this seed) have one step that lowers the requirement to
    the first skill at level 1 after 60-600 s (steps change only the requirement, so the
    baseline's line keeps its order); strategies are longest_idle or most_skilled, and one
    queue in ten has priority 5. The agent who becomes available is drawn, with the seed,
    among those who meet some queue's own requirement, and every queue keeps its number of
    callers, so each decision ends in exactly one offer.

Both routers go through the same decisions on the same data: the centre first, recording
them, then the baseline (separately, so neither warms the CPU caches for the other). After
each decision the baseline is put in the centre's state (the call the centre served leaves
its line), so a differing pick never makes the two drift apart; the picks are compared and
the share that agree is printed. At the larger sizes the baseline is timed on one decision
in n only (the output says so) and just follows the centre on the others.

    python -m benchmarks.routing_latency [--quick]
"""

from __future__ import annotations

import argparse
import bisect
import gc
import math
import os
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import count

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.model import Agent, Queue, RelaxationStep, Skill, Strategy

SEED = 2026
SKILLS = 200
QUEUES = 200
RELAXING_SHARE = 0.4  # queues with a relaxation step
STRATEGIES = (Strategy.LONGEST_IDLE, Strategy.MOST_SKILLED)
BACKLOG_S = 1800.0  # the initial callers arrived over the half hour before the first decision
DECISION_EVERY_S = 0.25
FULL_SIZES = (1_000, 3_000, 10_000)
QUICK_SIZES = (500, 1_000, 2_000)
FULL_DECISIONS = 2_000
QUICK_DECISIONS = 300
WARM_UP = 2  # decisions before the measured ones, reported on their own
# The baseline costs about (calls walked) x (agents) per decision, so it is timed on one
# decision in (agents // BASELINE_STRIDE_PER) only, and follows the centre on the others.
BASELINE_STRIDE_PER = 400


# --- the workload --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    skills: list[Skill]
    agents: list[Agent]
    queues: list[Queue]

    def requirements(self) -> set[str]:
        """Distinct requirements over every queue and step: the engine's voice pools."""
        return {
            q.requirement_at(step).source
            for q in self.queues
            for step in range(len(q.relaxation) + 1)
        }


@dataclass(frozen=True, slots=True)
class Arrival:
    call_id: str
    queue: Queue
    at: float


def _pick_skills(
    rng: random.Random, ids: Sequence[str], weights: Sequence[float], n: int
) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < n:
        [skill] = rng.choices(ids, weights)
        if skill not in chosen:
            chosen.append(skill)
    return chosen


def make_config(rng: random.Random, agents: int) -> Config:
    """Skills are Zipf-popular (a few languages and products most agents have, a long tail of
    niche skills), so queues have very unequal pools, as in a real centre. Queues come first,
    so every size has the same 200 queues and the first agents of a larger centre are the
    agents of a smaller one."""
    skills = [Skill(f"s{k:03d}", f"skill {k}") for k in range(SKILLS)]
    ids = [s.id for s in skills]
    weights = [1.0 / (k + 1) for k in range(SKILLS)]
    queues: list[Queue] = []
    for q in range(QUEUES):
        names = _pick_skills(rng, ids, weights, rng.randint(1, 2))
        requires = {name: rng.randint(1, 5) for name in names}
        relaxation: tuple[RelaxationStep, ...] = ()
        first = names[0]
        if rng.random() < RELAXING_SHARE and (len(names) > 1 or requires[first] > 1):
            after_s = float(rng.choice((60, 120, 300, 600)))
            relaxation = (RelaxationStep(after_s, requirement=f"{first} >= 1"),)
        queues.append(
            Queue(
                f"q{q:03d}",
                f"queue {q}",
                str(2000 + q),
                requires,
                wrapup_s=0.0,
                strategy=rng.choice(STRATEGIES),
                priority=5 if rng.random() < 0.1 else 0,
                relaxation=relaxation,
            )
        )
    staff = []
    for i in range(agents):
        names = _pick_skills(rng, ids, weights, rng.randint(2, 4))
        levels = {name: rng.randint(1, 10) for name in names}
        staff.append(Agent(f"a{i:05d}", f"agent {i}", f"PJSIP/a{i:05d}", levels))
    return Config(skills, staff, queues)


def make_arrivals(rng: random.Random, config: Config, calls: int) -> list[Arrival]:
    """`calls` callers over BACKLOG_S, every queue with at least one."""
    queues = config.queues
    arrivals = []
    for i in range(calls):
        queue = queues[i] if i < len(queues) else rng.choice(queues)
        at = math.floor(i * BACKLOG_S / calls * 16) / 16  # exact in binary: no rounding ties
        arrivals.append(Arrival(f"c{i:07d}", queue, at))
    return arrivals


def qualified_agents(config: Config) -> list[str]:
    """Agents who meet some queue's own requirement: each has a call to be offered (every
    queue keeps its callers). The others are never chosen to become available."""
    return [
        a.id
        for a in config.agents
        if any(q.compiled.matches(a.skills, a.attributes) for q in config.queues)
    ]


# --- the centre ----------------------------------------------------------------------------


def build_centre(config: Config, arrivals: Sequence[Arrival]) -> Center:
    legs = count(1)
    centre = Center(new_leg_id=lambda: f"leg-{next(legs)}")
    for skill in config.skills:
        centre.put_skill(skill)
    for agent in config.agents:
        centre.put_agent(agent, now=0.0)  # logged out: busy
    for queue in config.queues:
        centre.put_queue(queue, now=0.0, loading=True)
    centre.handle(PbxResynced(), now=0.0)
    for agent in config.agents:
        centre.set_agent_state(agent.id, AgentState.PAUSED, None, 0.0)
    for arrival in arrivals:
        centre.handle(CallWaiting(arrival.call_id, arrival.queue.extension), arrival.at)
    assert len(centre.calls) == len(arrivals), "every caller waits"
    return centre


def centre_decides(centre: Center, agent_id: str, now: float) -> tuple[RingAgent, int]:
    """One decision, timed: the agent becomes available and is offered one call."""
    started = time.perf_counter_ns()
    out = centre.set_agent_state(agent_id, AgentState.AVAILABLE, None, now)
    took = time.perf_counter_ns() - started
    rings = [c for c in out if isinstance(c, RingAgent)]
    assert len(rings) == 1 and rings[0].agent_id == agent_id, f"{agent_id}: {rings}"
    return rings[0], took


def centre_settles(centre: Center, ring: RingAgent, new_call: Arrival, now: float) -> None:
    """Untimed: the offered call is answered and ends, the agent pauses, a caller joins."""
    centre.handle(AgentLegAnswered(ring.leg_id), now)
    centre.handle(ChannelHungUp(ring.call_id), now)
    centre.set_agent_state(ring.agent_id, AgentState.PAUSED, None, now)
    centre.handle(CallWaiting(new_call.call_id, new_call.queue.extension), now)


# --- the baseline --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pick:
    call_id: str
    agent_id: str
    queue: Queue
    queued_at: float
    walked: int  # calls of the line looked at, the served one included


@dataclass(slots=True)
class NaiveRouter:
    """One sorted line of waiting calls and a list of agents, scanned for every decision."""

    agents: list[Agent]
    # (-priority, arrival, call id, queue, queued at), kept sorted: the head is served first
    line: list[tuple[int, float, str, Queue, float]] = field(default_factory=list)
    idle_since: dict[str, float] = field(default_factory=dict)  # free agents only

    def add_call(self, call_id: str, queue: Queue, at: float) -> None:
        bisect.insort(self.line, (-queue.priority, at, call_id, queue, at))

    def remove_call(self, call_id: str) -> None:
        index = next(i for i, entry in enumerate(self.line) if entry[2] == call_id)
        del self.line[index]

    @staticmethod
    def step(queue: Queue, queued_at: float, now: float) -> int:
        """Relaxation steps applied after waiting until `now` (as the engine's `advance`)."""
        return sum(1 for s in queue.relaxation if queued_at + s.after_s <= now)

    def decide(self, agent_id: str, now: float) -> Pick | None:
        """The agent becomes free; serve the first call in line with a free qualified agent."""
        self.idle_since[agent_id] = now
        idle_since = self.idle_since
        for index, (_, _, call_id, queue, queued_at) in enumerate(self.line):
            requirement = queue.requirement_at(self.step(queue, queued_at, now))
            most_skilled = queue.strategy is Strategy.MOST_SKILLED
            best: tuple[int, float, str] | None = None
            for agent in self.agents:
                idle = idle_since.get(agent.id)
                if idle is None or not requirement.matches(agent.skills, agent.attributes):
                    continue
                skill = -requirement.proficiency(agent.skills) if most_skilled else 0
                if best is None or (skill, idle, agent.id) < best:
                    best = (skill, idle, agent.id)
            if best is not None:
                del self.line[index]
                del idle_since[best[2]]
                return Pick(call_id, best[2], queue, queued_at, index + 1)
        return None


def build_baseline(config: Config, arrivals: Sequence[Arrival]) -> NaiveRouter:
    router = NaiveRouter(list(config.agents))
    for arrival in arrivals:
        router.add_call(arrival.call_id, arrival.queue, arrival.at)
    return router


# --- one size ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Turn:
    """One decision of the sequence both routers go through."""

    at: float
    agent_id: str  # becomes available
    served: str  # the call the centre offered them
    joins: Arrival  # the caller who joins the served call's queue afterwards


@dataclass(slots=True)
class Memory:
    config: int = 0
    centre: int = 0
    centre_peak: int = 0
    baseline: int = 0
    baseline_peak: int = 0


@dataclass(slots=True)
class Result:
    agents: int
    calls: int
    classes: int
    pools: int
    qualified: int
    relaxing: int  # queues with a relaxation step
    most_skilled: int  # queues with that strategy (the others: longest idle)
    build_s: float = 0.0
    cold_ns: list[int] = field(default_factory=list)
    ours: list[int] = field(default_factory=list)
    naive: list[int] = field(default_factory=list)
    naive_stride: int = 1
    walked: list[int] = field(default_factory=list)
    same: int = 0
    memory: Memory = field(default_factory=Memory)


def workload(size: int) -> tuple[random.Random, Config, list[Arrival], list[str]]:
    rng = random.Random(SEED)
    config = make_config(rng, size)
    arrivals = make_arrivals(rng, config, size)
    return rng, config, arrivals, qualified_agents(config)


def run_centre(centre: Center, pick: Callable[[], str], turns: int) -> tuple[list[Turn], list[int]]:
    """Go through `turns` decisions on a built centre: the turns, and each decision's time."""
    serial = count(len(centre.calls))
    done: list[Turn] = []
    took: list[int] = []
    for i in range(turns):
        now = BACKLOG_S + i * DECISION_EVERY_S
        if i > 0:  # the first decision comes before the relaxation steps, the second after
            centre.tick(now)
        agent_id = pick()
        ring, ns = centre_decides(centre, agent_id, now)
        queue = centre.directory.queues[centre.calls[ring.call_id].queue_id]
        turn = Turn(now, agent_id, ring.call_id, Arrival(f"c{next(serial):07d}", queue, now))
        centre_settles(centre, ring, turn.joins, now)
        done.append(turn)
        took.append(ns)
    return done, took


def run_baseline(
    config: Config, arrivals: Sequence[Arrival], turns: Sequence[Turn], stride: int, result: Result
) -> NaiveRouter:
    """The same turns through the baseline, timed on every `stride`-th measured one; on the
    others (and the warm-up ones) it only follows the centre."""
    baseline = build_baseline(config, arrivals)
    agents = {a.id: a for a in config.agents}
    for i, turn in enumerate(turns):
        measured = i - WARM_UP
        if measured < 0 or measured % stride:
            baseline.remove_call(turn.served)
        else:
            started = time.perf_counter_ns()
            pick = baseline.decide(turn.agent_id, turn.at)
            result.naive.append(time.perf_counter_ns() - started)
            assert pick is not None, f"the baseline found no call for {turn.agent_id}"
            requirement = pick.queue.requirement_at(
                NaiveRouter.step(pick.queue, pick.queued_at, turn.at)
            )
            agent = agents[pick.agent_id]
            assert requirement.matches(agent.skills, agent.attributes), pick
            result.walked.append(pick.walked)
            if (pick.call_id, pick.agent_id) == (turn.served, turn.agent_id):
                result.same += 1
            else:  # back to the centre's state: its own pick waits again, the centre's goes
                baseline.add_call(pick.call_id, pick.queue, pick.queued_at)
                baseline.remove_call(turn.served)
        baseline.add_call(turn.joins.call_id, turn.joins.queue, turn.joins.at)
        assert len(baseline.line) == len(arrivals)
    return baseline


def measure_memory(size: int, warm_up: Sequence[Turn]) -> Memory:
    """Build both again under tracemalloc, the centre through the warm-up decisions, and
    take the size each adds."""
    memory = Memory()
    tracemalloc.start()
    rng = random.Random(SEED)
    config = make_config(rng, size)
    memory.config = tracemalloc.get_traced_memory()[0]
    arrivals = make_arrivals(rng, config, size)
    agent_ids = iter([turn.agent_id for turn in warm_up])
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    centre = build_centre(config, arrivals)
    run_centre(centre, lambda: next(agent_ids), len(warm_up))
    current, peak = tracemalloc.get_traced_memory()
    memory.centre, memory.centre_peak = current - before, peak - before
    before = current
    tracemalloc.reset_peak()
    baseline = build_baseline(config, arrivals)
    current, peak = tracemalloc.get_traced_memory()
    memory.baseline, memory.baseline_peak = current - before, peak - before
    tracemalloc.stop()
    del centre, baseline
    return memory


def run_size(size: int, decisions: int) -> Result:
    rng, config, arrivals, qualified = workload(size)
    classes = {(a.queue.id, NaiveRouter.step(a.queue, a.at, BACKLOG_S)) for a in arrivals}
    result = Result(
        size,
        len(arrivals),
        len(classes),
        len(config.requirements()),
        len(qualified),
        sum(1 for q in config.queues if q.relaxation),
        sum(1 for q in config.queues if q.strategy is Strategy.MOST_SKILLED),
    )
    started = time.perf_counter()
    centre = build_centre(config, arrivals)
    result.build_s = time.perf_counter() - started
    turns, took = run_centre(centre, lambda: rng.choice(qualified), WARM_UP + decisions)
    result.cold_ns, result.ours = took[:WARM_UP], took[WARM_UP:]
    assert len(centre.calls) == len(arrivals)
    del centre
    gc.collect()
    result.naive_stride = max(1, size // BASELINE_STRIDE_PER)
    run_baseline(config, arrivals, turns, result.naive_stride, result)
    gc.collect()
    result.memory = measure_memory(size, turns[:WARM_UP])
    return result


# --- the report ----------------------------------------------------------------------------


def percentile(values: Sequence[int], share: float) -> int:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def duration(ns: float) -> str:
    if ns < 1e6:
        return f"{ns / 1e3:.0f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


def size_of(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} kB"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], groups: Sequence[int]) -> None:
    """Right-aligned columns; a bar before each column index in `groups`."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            parts.append(("| " if i in groups else "") + cell.rjust(width))
        return " ".join(parts)

    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))


def report(results: Sequence[Result], decisions: int, quick: bool) -> None:
    first = results[0]  # every size has the same queues
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("Routing decision latency and memory: ccgateway's engine against a naive scan")
    print(f"date       {date.today().isoformat()}{'  (--quick)' if quick else ''}")
    print(f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average {load}")
    print(f"python     {platform.python_implementation()} {sys.version.split()[0]}")
    print(
        f"workload   seed {SEED}; {SKILLS} skills; {QUEUES} queues: {first.relaxing} with a "
        f"relaxation step,\n           {first.most_skilled} most_skilled, "
        f"{QUEUES - first.most_skilled} longest_idle; agents with 2-4 skills at levels 1-10;\n"
        f"           as many waiting calls as agents, all agents busy; {decisions:,} decisions"
        " per size"
    )
    print()
    print("Decision latency (steady state: after the warm-up decisions)")
    table(
        ["agents", "calls", "ours p50", "p99", "max", "naive p50", "p99", "max", "timed", "same"],
        [
            [
                f"{r.agents:,}",
                f"{r.calls:,}",
                *(duration(v) for v in (percentile(r.ours, 0.5), percentile(r.ours, 0.99))),
                duration(max(r.ours)),
                *(duration(v) for v in (percentile(r.naive, 0.5), percentile(r.naive, 0.99))),
                duration(max(r.naive)),
                f"{len(r.naive):,}",
                f"{100 * r.same / len(r.naive):.0f}%",
            ]
            for r in results
        ],
        groups=(2, 5, 8),
    )
    print()
    print("Memory (tracemalloc; peak while building in brackets)")
    table(
        ["agents", "centre", "(peak)", "naive", "(peak)", "config, shared"],
        [
            [
                f"{r.agents:,}",
                size_of(r.memory.centre),
                f"({size_of(r.memory.centre_peak)})",
                size_of(r.memory.baseline),
                f"({size_of(r.memory.baseline_peak)})",
                size_of(r.memory.config),
            ]
            for r in results
        ],
        groups=(1, 3, 5),
    )
    print()
    print("Start-up and the naive walk")
    table(
        ["agents", "classes", "pools", "can serve", "build", "1st", "2nd", "walked p50", "p99"],
        [
            [
                f"{r.agents:,}",
                str(r.classes),
                str(r.pools),
                f"{r.qualified:,}",
                f"{r.build_s:.1f} s",
                *(duration(ns) for ns in r.cold_ns),
                str(percentile(r.walked, 0.5)),
                str(percentile(r.walked, 0.99)),
            ]
            for r in results
        ],
        groups=(4, 5, 7),
    )
    print()
    strides = [
        f"1 in {r.naive_stride} at {r.agents:,} agents" for r in results if r.naive_stride > 1
    ]
    print(
        "ours: Center.set_agent_state(AVAILABLE) up to its RingAgent. naive: the sorted line\n"
        "walked from its head, every agent scanned for each call. timed: decisions timed for\n"
        "the naive router, which follows the centre's picks on the others\n"
        f"({', '.join(strides) or 'it was timed on every decision'}).\n"
        "same: timed decisions where both offered the same call to the same agent; with one\n"
        "free agent per decision and every queue weight 1, the engine's rank (priority, wait\n"
        "x weight, arrival) orders calls as the line does, so they are expected to agree.\n"
        "classes: (queue, step) with waiting calls at the start; pools: distinct requirements;\n"
        "can serve: agents meeting some queue (those drawn to become free); build: the centre\n"
        "with its agents, queues and callers (pools included); 1st, 2nd: the warm-up\n"
        "decisions; walked: calls of the line the naive router looked at per decision."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, a ~10 s run")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    decisions = QUICK_DECISIONS if args.quick else FULL_DECISIONS
    results = []
    for size in sizes:
        started = time.perf_counter()
        results.append(run_size(size, decisions))
        took = time.perf_counter() - started
        print(f"... {size:,} agents done in {took:.0f} s", file=sys.stderr, flush=True)
        gc.collect()
    report(results, decisions, args.quick)


if __name__ == "__main__":
    main()
