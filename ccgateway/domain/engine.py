"""The routing engine: which waiting call goes to which free agent, and why.

Two indexes keep a routing decision independent of the size of the centre:

- waiting calls are grouped in *classes*, one per (queue, relaxation step). Within a class
  every call has the same requirement, weight and priority boost, so a heap ordered by
  (priority, arrival) gives its head in O(log n);
- agents are grouped in *pools*, one per (PBX, requirement): the agents who meet it, and
  which of them are free right now. A pool is built the first time a class needs it and
  kept current as agents change, so qualification is evaluated once per agent and pool,
  never per decision.

A decision looks at the head of every class that has waiting calls and a free agent in its
pool, takes the one that ranks first (higher priority, then longer wait times the queue's
weight, then earlier arrival, then call id) and lets the call's queue pick the agent by its
strategy. That is O(classes) per decision (queues x their steps, not calls or agents),
plus O(log n) heap work for the longest-idle and most-skilled strategies; least-occupied
and round-robin scan the pool's free agents. After `next_match` returns None no waiting
call has a free agent who meets its requirement: nobody waits while a qualified agent idles.

The engine is told when an agent becomes free or stops being free (`set_free`); what
"free" means (state, device, PBX link) is the centre's business.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.model import Agent, Queue, Strategy
from ccgateway.domain.requirements import Requirement

ClassKey = tuple[str, int]  # (queue id, relaxation steps applied)
PoolKey = tuple[str, Requirement]  # (PBX, requirement)


@dataclass(frozen=True, slots=True)
class Decision:
    """One routing decision with its reasons, kept for the API and the logs.

    kind is "offer" (a call offered to an agent), "relax" (a relaxation step applied to a
    waiting call) or "overflow" (a waiting call moved to another queue).
    """

    at: float
    kind: str
    call_id: str
    queue_id: str
    agent_id: str | None
    rule: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Match:
    call_id: str
    agent_id: str
    decision: Decision


@dataclass(slots=True)
class Waiting:
    """The engine's record of a waiting call."""

    call_id: str
    queue_id: str
    priority: int
    arrived_at: float
    queued_at: float  # when it entered its current queue; relaxation counts from here
    step: int = 0
    stamp: int = 0  # changes whenever the call is re-filed, so old heap entries go stale
    # Last-agent routing: only `sticky_agent` may take the call until `sticky_until`.
    sticky_agent: str | None = None
    sticky_until: float | None = None


@dataclass(slots=True)
class _Class:
    heap: list[tuple[int, float, str, int]] = field(default_factory=list)
    live: int = 0


@dataclass(slots=True)
class _Pool:
    requirement: Requirement
    members: set[str] = field(default_factory=set)
    free: set[str] = field(default_factory=set)
    by_idle: list[tuple[float, str, int]] | None = None
    by_skill: list[tuple[int, float, str, int]] | None = None


class RoutingEngine:
    def __init__(
        self,
        agents: Mapping[str, Agent],
        queues: Mapping[str, Queue],
        idle_since: Callable[[str], float],
        occupancy: Callable[[str, float], float],
    ) -> None:
        self._agents = agents
        self._queues = queues
        self._idle_since = idle_since
        self._occupancy = occupancy
        self._free: dict[str, int] = {}  # free agent id -> stamp of this free spell
        self._stamps = itertools.count(1)
        self._pools: dict[PoolKey, _Pool] = {}
        self._agent_pools: dict[str, set[PoolKey]] = {}
        self._calls: dict[str, Waiting] = {}
        self._classes: dict[ClassKey, _Class] = {}
        self._due: list[tuple[float, str, int]] = []  # next relaxation step per call
        self._last_offered: dict[str, str] = {}  # queue id -> agent id (round robin)
        self._sticky: dict[str, dict[str, Waiting]] = {}  # agent id -> calls kept for them

    # --- agents ------------------------------------------------------------------------

    def agent_changed(self, agent_id: str) -> None:
        """Re-check the agent against every pool after its skills, attributes or PBX changed."""
        agent = self._agents[agent_id]
        pools = self._agent_pools.setdefault(agent_id, set())
        for key, pool in self._pools.items():
            member = agent.pbx == key[0] and pool.requirement.matches(
                agent.skills, agent.attributes
            )
            if member and key not in pools:
                pools.add(key)
                pool.members.add(agent_id)
                if agent_id in self._free:
                    self._add_free(pool, agent_id, self._free[agent_id])
            elif not member and key in pools:
                pools.discard(key)
                pool.members.discard(agent_id)
                pool.free.discard(agent_id)

    def agent_removed(self, agent_id: str) -> None:
        self.set_free(agent_id, False)
        for key in self._agent_pools.pop(agent_id, set()):
            self._pools[key].members.discard(agent_id)

    def set_free(self, agent_id: str, free: bool) -> None:
        """The agent may (or may no longer) be offered a call."""
        if free == (agent_id in self._free):
            return
        if not free:
            del self._free[agent_id]
            for key in self._agent_pools.get(agent_id, ()):
                self._pools[key].free.discard(agent_id)
            return
        stamp = next(self._stamps)
        self._free[agent_id] = stamp
        for key in self._agent_pools.get(agent_id, ()):
            self._add_free(self._pools[key], agent_id, stamp)

    def is_free(self, agent_id: str) -> bool:
        return agent_id in self._free

    # --- calls -------------------------------------------------------------------------

    def add_call(
        self,
        call_id: str,
        queue_id: str,
        priority: int,
        arrived_at: float,
        queued_at: float,
        keep_for: tuple[str, float] | None = None,
    ) -> None:
        """File a waiting call; its relaxation steps are applied by `advance`. `keep_for`
        (agent id, until) keeps it for one agent for a while (last-agent routing)."""
        waiting = Waiting(call_id, queue_id, priority, arrived_at, queued_at)
        self._calls[call_id] = waiting
        if keep_for is None:
            self._file(waiting)
            return
        waiting.sticky_agent, waiting.sticky_until = keep_for
        waiting.stamp = next(self._stamps)
        self._sticky.setdefault(waiting.sticky_agent, {})[call_id] = waiting
        heapq.heappush(self._due, (waiting.sticky_until, call_id, waiting.stamp))

    def remove_call(self, call_id: str) -> Waiting | None:
        waiting = self._calls.pop(call_id, None)
        if waiting is not None:
            self._unfile(waiting)
        return waiting

    def set_priority(self, call_id: str, priority: int) -> None:
        waiting = self._calls[call_id]
        waiting.priority = priority
        if waiting.sticky_agent is None:
            self._classes[(waiting.queue_id, waiting.step)].live -= 1
            self._file(waiting)

    def _unfile(self, waiting: Waiting) -> None:
        if waiting.sticky_agent is None:
            self._classes[(waiting.queue_id, waiting.step)].live -= 1
            return
        kept = self._sticky[waiting.sticky_agent]
        del kept[waiting.call_id]
        if not kept:
            del self._sticky[waiting.sticky_agent]
        waiting.sticky_agent = waiting.sticky_until = None

    def waiting(self, call_id: str) -> Waiting | None:
        return self._calls.get(call_id)

    def waiting_calls(self) -> Iterator[Waiting]:
        return iter(self._calls.values())

    def queue_changed(self, queue_id: str) -> None:
        """Re-file the queue's waiting calls: its steps may have changed."""
        for waiting in [
            w for w in self._calls.values() if w.queue_id == queue_id and w.sticky_agent is None
        ]:
            self._classes[(waiting.queue_id, waiting.step)].live -= 1
            waiting.step = 0
            self._file(waiting)
        self._drop_unused_pools()

    # --- time --------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next relaxation step falls due."""
        while self._due:
            when, call_id, stamp = self._due[0]
            waiting = self._calls.get(call_id)
            if waiting is not None and waiting.stamp == stamp:
                return when
            heapq.heappop(self._due)
        return None

    def advance(self, now: float) -> list[Decision]:
        """Apply every relaxation step that has fallen due, in time order."""
        decisions: list[Decision] = []
        while (when := self.next_due()) is not None and when <= now:
            _, call_id, _ = heapq.heappop(self._due)
            waiting = self._calls[call_id]
            if waiting.sticky_agent is not None:
                agent_id = waiting.sticky_agent
                self._unfile(waiting)
                self._file(waiting)
                text = f"{agent_id} did not become free in time: any qualified agent now"
                rule = f"queue {waiting.queue_id}: last agent"
                decisions.append(
                    Decision(now, "release", call_id, waiting.queue_id, None, rule, text)
                )
                continue
            queue = self._queues[waiting.queue_id]
            step = queue.relaxation[waiting.step]
            self._classes[(waiting.queue_id, waiting.step)].live -= 1
            rule = f"queue {queue.id} step {waiting.step + 1}: after {step.after_s:g} s"
            if step.overflow_to is not None and step.overflow_to in self._queues:
                # The boosts earned so far go with the caller: the next queue has its own steps.
                waiting.priority += queue.boost_at(waiting.step) + step.priority_boost
                waiting.queue_id, waiting.queued_at, waiting.step = step.overflow_to, now, 0
                kind, text = "overflow", f"moved to queue {step.overflow_to}, keeping its place"
            else:
                waiting.step += 1
                kind = "relax"
                text = f"now needs {queue.requirement_at(waiting.step).source}"
                if step.priority_boost:
                    text += f", priority +{step.priority_boost}"
            self._file(waiting)
            decisions.append(Decision(now, kind, call_id, waiting.queue_id, None, rule, text))
        return decisions

    # --- the decision ------------------------------------------------------------------

    def next_match(self, now: float) -> Match | None:
        """The best (call, agent) pair right now, or None when nobody can be served."""
        if not self._free:
            return None
        for agent_id, kept in self._sticky.items():
            if agent_id in self._free:
                kept_call = min(kept.values(), key=lambda w: (-w.priority, w.arrived_at, w.call_id))
                text = f"a returning caller, kept for {agent_id}, the agent who served them last"
                rule = f"queue {kept_call.queue_id}: last agent"
                decision = Decision(
                    now, "offer", kept_call.call_id, kept_call.queue_id, agent_id, rule, text
                )
                return Match(kept_call.call_id, agent_id, decision)
        best: tuple[tuple[int, float, float, str], Waiting, _Pool] | None = None
        contenders = 0
        for key, klass in self._classes.items():
            if klass.live <= 0:
                continue
            queue = self._queues.get(key[0])
            if queue is None:
                continue
            pool = self._pool(queue.pbx, queue.requirement_at(key[1]))
            if not pool.free:
                continue
            head = self._head(key, klass)
            if head is None:
                continue
            contenders += 1
            priority = head.priority + queue.boost_at(head.step)
            rank = (
                -priority,
                -(now - head.arrived_at) * queue.weight,
                head.arrived_at,
                head.call_id,
            )
            if best is None or rank < best[0]:
                best = (rank, head, pool)
        if best is None:
            return None
        rank, head, pool = best
        queue = self._queues[head.queue_id]
        agent_id, why_agent = self._choose(queue, pool, now)
        self._last_offered[queue.id] = agent_id
        explanation = (
            f"call ranked first of {contenders} waiting class(es) with a free qualified agent "
            f"(priority {-rank[0]}, waited {now - head.arrived_at:.1f} s x weight "
            f"{queue.weight:g}); agent {why_agent} among {len(pool.free)} free agent(s) "
            f"meeting `{pool.requirement.source}`"
        )
        rule = f"queue {queue.id}" + (f" step {head.step}" if head.step else "")
        decision = Decision(now, "offer", head.call_id, queue.id, agent_id, rule, explanation)
        return Match(head.call_id, agent_id, decision)

    def _choose(self, queue: Queue, pool: _Pool, now: float) -> tuple[str, str]:
        """The agent the queue's strategy picks from the pool's free agents, and why."""
        strategy = queue.strategy
        if strategy is Strategy.MOST_SKILLED:
            proficiency, idle, agent_id = self._top_by_skill(pool)
            return agent_id, f"{agent_id} has the highest proficiency ({-proficiency})"
        if strategy is Strategy.LEAST_OCCUPIED:
            agent_id = min(
                pool.free, key=lambda a: (self._occupancy(a, now), self._idle_since(a), a)
            )
            share = self._occupancy(agent_id, now)
            return agent_id, f"{agent_id} is the least occupied ({share:.0%} today)"
        if strategy is Strategy.ROUND_ROBIN:
            last = self._last_offered.get(queue.id, "")
            after = [a for a in pool.free if a > last]
            agent_id = min(after) if after else min(pool.free)
            return agent_id, f"{agent_id} is next in turn after {last or 'nobody'}"
        idle, agent_id = self._top_by_idle(pool)
        return agent_id, f"{agent_id} has been idle longest ({now - idle:.1f} s)"

    # --- indexes -----------------------------------------------------------------------

    def _file(self, waiting: Waiting) -> None:
        waiting.stamp = next(self._stamps)
        key = (waiting.queue_id, waiting.step)
        klass = self._classes.setdefault(key, _Class())
        klass.live += 1
        heapq.heappush(
            klass.heap, (-waiting.priority, waiting.arrived_at, waiting.call_id, waiting.stamp)
        )
        queue = self._queues.get(waiting.queue_id)
        if queue is not None and waiting.step < len(queue.relaxation):
            when = waiting.queued_at + queue.relaxation[waiting.step].after_s
            heapq.heappush(self._due, (when, waiting.call_id, waiting.stamp))

    def _head(self, key: ClassKey, klass: _Class) -> Waiting | None:
        while klass.heap:
            _, _, call_id, stamp = klass.heap[0]
            waiting = self._calls.get(call_id)
            if waiting is not None and waiting.stamp == stamp:
                return waiting
            heapq.heappop(klass.heap)
        return None

    def _pool(self, pbx: str, requirement: Requirement) -> _Pool:
        key = (pbx, requirement)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(requirement)
            for agent in self._agents.values():
                if agent.pbx == pbx and requirement.matches(agent.skills, agent.attributes):
                    pool.members.add(agent.id)
                    self._agent_pools.setdefault(agent.id, set()).add(key)
                    if agent.id in self._free:
                        pool.free.add(agent.id)
        return pool

    def _add_free(self, pool: _Pool, agent_id: str, stamp: int) -> None:
        pool.free.add(agent_id)
        if pool.by_idle is not None:
            heapq.heappush(pool.by_idle, (self._idle_since(agent_id), agent_id, stamp))
        if pool.by_skill is not None:
            heapq.heappush(pool.by_skill, self._skill_entry(pool, agent_id, stamp))

    def _skill_entry(self, pool: _Pool, agent_id: str, stamp: int) -> tuple[int, float, str, int]:
        proficiency = pool.requirement.proficiency(self._agents[agent_id].skills)
        return (-proficiency, self._idle_since(agent_id), agent_id, stamp)

    def _top_by_idle(self, pool: _Pool) -> tuple[float, str]:
        if pool.by_idle is None or len(pool.by_idle) > 2 * len(pool.free) + 32:
            pool.by_idle = [(self._idle_since(a), a, self._free[a]) for a in pool.free]
            heapq.heapify(pool.by_idle)
        while True:
            idle, agent_id, stamp = pool.by_idle[0]
            if agent_id in pool.free and self._free.get(agent_id) == stamp:
                return idle, agent_id
            heapq.heappop(pool.by_idle)

    def _top_by_skill(self, pool: _Pool) -> tuple[int, float, str]:
        if pool.by_skill is None or len(pool.by_skill) > 2 * len(pool.free) + 32:
            pool.by_skill = [self._skill_entry(pool, a, self._free[a]) for a in pool.free]
            heapq.heapify(pool.by_skill)
        while True:
            proficiency, idle, agent_id, stamp = pool.by_skill[0]
            if agent_id in pool.free and self._free.get(agent_id) == stamp:
                return proficiency, idle, agent_id
            heapq.heappop(pool.by_skill)

    def _drop_unused_pools(self) -> None:
        """Forget pools no queue step asks for any more (a queue changed or went away)."""
        used = {
            (queue.pbx, queue.requirement_at(step))
            for queue in self._queues.values()
            for step in range(len(queue.relaxation) + 1)
        }
        for key in [k for k in self._pools if k not in used]:
            for agent_id in self._pools.pop(key).members:
                self._agent_pools[agent_id].discard(key)
        for empty in [k for k, c in self._classes.items() if c.live <= 0]:
            del self._classes[empty]
