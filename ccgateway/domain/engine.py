"""The routing engine: which waiting item goes to which free agent, and why.

An item is anything an agent works on: a caller on hold, a queued callback, a chat, an
email. Each belongs to a queue and a *channel* ("voice" for calls and callbacks, any other
name for non-voice work), and agents are free or not per channel (the centre decides, from
their state and their capacity on each channel).

Two indexes keep a routing decision independent of the size of the centre:

- waiting items are grouped in *classes*, one per (queue, relaxation step, channel, whether
  it may cross a trunk). Within a class every item has the same requirement, weight,
  priority boost and pool, so a heap ordered by (priority, arrival) gives its head in
  O(log n);
- agents are grouped in *pools*, one per (channel, PBXs, requirement): the agents who meet
  it, and which of them are free on that channel right now. A pool is built the first time
  a class needs it and kept current as agents change, so qualification is evaluated once per
  agent and pool, never per decision. A voice pool holds the agents on the queue's PBX and
  on the PBXs it reaches over a trunk (`Queue.scope`) for an item filed `trunked` (a caller
  who rang in), and on the queue's own PBX for any other (a campaign's live call, a
  callback: their legs are dialled as only their own PBX can); non-voice pools ignore the
  PBX (`ANY_PBX`). The dialer's picks and a consult's "whoever is free" stay on the
  queue's own PBX too.

A decision first serves items kept for one agent (last-agent routing, a transfer to a named
agent) whose agent is free; then looks at the head of every class that has waiting items and
a free agent in its pool, takes the one that ranks first (higher priority, then longer wait
times the queue's weight, then earlier arrival, then id) and lets the item's queue pick the
agent by its strategy. That is O(classes) per decision (queues x steps x channels, not items
or agents), plus O(log n) heap work for the longest-idle and most-skilled strategies;
least-occupied and round-robin scan the pool's free agents. After `next_match` returns None
no waiting item has a free agent who meets its requirement: nobody waits while a qualified
agent idles.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.agents import VOICE
from ccgateway.domain.model import Agent, Queue, Strategy
from ccgateway.domain.requirements import Requirement

# The PBX part of a non-voice pool's key: any agent, whatever their PBX.
ANY_PBX: frozenset[str] = frozenset()
# (queue id, relaxation steps applied, channel, may be rung over a trunk)
ClassKey = tuple[str, int, str, bool]
PoolKey = tuple[str, frozenset[str], Requirement]  # (channel, PBXs or ANY_PBX, requirement)


@dataclass(frozen=True, slots=True)
class Decision:
    """One routing decision with its reasons, kept for the API and the logs.

    kind is "offer" (an item offered to an agent), "relax" (a relaxation step applied to a
    waiting item), "overflow" (moved to another queue), "release" (no longer kept for one
    agent) or "action" (a queue's limit or hours sent a caller elsewhere).
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
    """The engine's record of a waiting item."""

    call_id: str
    queue_id: str
    priority: int
    arrived_at: float
    queued_at: float  # when it entered its current queue; relaxation counts from here
    step: int = 0
    stamp: int = 0  # changes whenever the item is re-filed, so old heap entries go stale
    channel: str = VOICE
    trunked: bool = False  # may go to the agents the queue reaches over a trunk
    # Kept for one agent: only `sticky_agent` may take it until `sticky_until`.
    sticky_agent: str | None = None
    sticky_until: float | None = None
    sticky_why: str = ""


@dataclass(slots=True)
class _Class:
    heap: list[tuple[int, float, str, int]] = field(default_factory=list)
    live: int = 0
    pool: _Pool | None = None  # the pool of its requirement, found once


@dataclass(slots=True)
class _Pool:
    requirement: Requirement
    channel: str
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
        # channel -> free agent id -> stamp of this free spell
        self._free: dict[str, dict[str, int]] = {VOICE: {}}
        self._stamps = itertools.count(1)
        self._pools: dict[PoolKey, _Pool] = {}
        self._agent_pools: dict[str, set[PoolKey]] = {}
        self._calls: dict[str, Waiting] = {}
        self._classes: dict[ClassKey, _Class] = {}
        self._due: list[tuple[float, str, int]] = []  # next relaxation step or release per item
        self._last_offered: dict[str, str] = {}  # queue id -> agent id (round robin)
        # (channel, agent id) -> items kept for that agent
        self._sticky: dict[tuple[str, str], dict[str, Waiting]] = {}

    # --- agents ------------------------------------------------------------------------

    def agent_changed(self, agent_id: str) -> None:
        """Re-check the agent against every pool after its skills, attributes or PBX changed."""
        agent = self._agents[agent_id]
        pools = self._agent_pools.setdefault(agent_id, set())
        for key, pool in self._pools.items():
            member = self._qualifies(agent, key)
            if member and key not in pools:
                pools.add(key)
                pool.members.add(agent_id)
                stamp = self._free.get(pool.channel, {}).get(agent_id)
                if stamp is not None:
                    self._add_free(pool, agent_id, stamp)
            elif not member and key in pools:
                pools.discard(key)
                pool.members.discard(agent_id)
                pool.free.discard(agent_id)

    def agent_removed(self, agent_id: str) -> None:
        for channel in list(self._free):
            self.set_free(agent_id, False, channel)
        for key in self._agent_pools.pop(agent_id, set()):
            self._pools[key].members.discard(agent_id)

    def set_free(self, agent_id: str, free: bool, channel: str = VOICE) -> None:
        """The agent may (or may no longer) be offered an item of `channel`."""
        frees = self._free.setdefault(channel, {})
        if free == (agent_id in frees):
            return
        keys = [k for k in self._agent_pools.get(agent_id, ()) if k[0] == channel]
        if not free:
            del frees[agent_id]
            for key in keys:
                self._pools[key].free.discard(agent_id)
            return
        stamp = next(self._stamps)
        frees[agent_id] = stamp
        for key in keys:
            self._add_free(self._pools[key], agent_id, stamp)

    def is_free(self, agent_id: str, channel: str = VOICE) -> bool:
        return agent_id in self._free.get(channel, {})

    def channels(self) -> set[str]:
        """Every channel an agent has ever been free on."""
        return set(self._free)

    # --- items -------------------------------------------------------------------------

    def add_call(
        self,
        call_id: str,
        queue_id: str,
        priority: int,
        arrived_at: float,
        queued_at: float,
        keep_for: tuple[str, float, str] | None = None,
        channel: str = VOICE,
        *,
        trunked: bool = False,
    ) -> None:
        """File a waiting item; its relaxation steps are applied by `advance`. `keep_for`
        (agent id, until, why) keeps it for one agent for a while: last-agent routing, or a
        transfer to a named agent. `trunked`: it may go to the agents of the PBXs its queue
        reaches over a trunk (a caller who rang in)."""
        waiting = Waiting(
            call_id, queue_id, priority, arrived_at, queued_at, channel=channel, trunked=trunked
        )
        self._calls[call_id] = waiting
        if keep_for is None:
            self._file(waiting)
            return
        waiting.sticky_agent, waiting.sticky_until, waiting.sticky_why = keep_for
        waiting.stamp = next(self._stamps)
        self._sticky.setdefault((channel, waiting.sticky_agent), {})[call_id] = waiting
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
            self._class_of(waiting).live -= 1
            self._file(waiting)

    def move(self, call_id: str, queue_id: str, now: float) -> None:
        """Move a waiting item to another queue, keeping its arrival (its place) and priority;
        the new queue's relaxation steps count from now."""
        waiting = self._calls[call_id]
        self._unfile(waiting)
        waiting.queue_id, waiting.queued_at, waiting.step = queue_id, now, 0
        self._file(waiting)

    def waiting(self, call_id: str) -> Waiting | None:
        return self._calls.get(call_id)

    def waiting_calls(self) -> Iterator[Waiting]:
        return iter(self._calls.values())

    def queue_changed(self, queue_id: str) -> None:
        """Re-file the queue's waiting items (its steps may have changed) and build the
        pools of its steps now, so that no routing decision has to."""
        for key, klass in self._classes.items():
            if key[0] == queue_id:
                klass.pool = None
        for waiting in [
            w for w in self._calls.values() if w.queue_id == queue_id and w.sticky_agent is None
        ]:
            self._class_of(waiting).live -= 1
            waiting.step = 0
            self._file(waiting)
        self._drop_unused_pools()
        queue = self._queues.get(queue_id)
        if queue is not None:
            for step in range(len(queue.relaxation) + 1):
                for pbxes in {queue.scope, _own(queue)}:
                    self._pool(VOICE, pbxes, queue.requirement_at(step))

    # --- time --------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next relaxation step (or the end of a keep-for-one-agent) falls due."""
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
                agent_id, why = waiting.sticky_agent, waiting.sticky_why
                self._unfile(waiting)
                self._file(waiting)
                text = f"{agent_id} did not become free in time: any qualified agent now"
                rule = f"queue {waiting.queue_id}: {why}"
                decisions.append(
                    Decision(now, "release", call_id, waiting.queue_id, None, rule, text)
                )
                continue
            queue = self._queues[waiting.queue_id]
            step = queue.relaxation[waiting.step]
            self._class_of(waiting).live -= 1
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
        """The best (item, agent) pair right now, or None when nobody can be served."""
        if not any(self._free.values()):
            return None
        kept = self._kept_match(now)
        if kept is not None:
            return kept
        best: tuple[tuple[int, float, float, str], Waiting, _Pool] | None = None
        contenders = 0
        for key, klass in self._classes.items():
            if klass.live <= 0:
                continue
            queue = self._queues.get(key[0])
            if queue is None:
                continue
            pool = klass.pool
            if pool is None:
                pbxes = queue.scope if key[3] else _own(queue)
                pool = klass.pool = self._pool(key[2], pbxes, queue.requirement_at(key[1]))
            if not pool.free:
                continue
            head = self._head(klass)
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
            f"{head.channel} item ranked first of {contenders} waiting class(es) with a free "
            f"qualified agent (priority {-rank[0]}, waited {now - head.arrived_at:.1f} s x "
            f"weight {queue.weight:g}); agent {why_agent} among {len(pool.free)} free "
            f"agent(s) meeting `{pool.requirement.source}`"
        )
        rule = f"queue {queue.id}" + (f" step {head.step}" if head.step else "")
        decision = Decision(now, "offer", head.call_id, queue.id, agent_id, rule, explanation)
        return Match(head.call_id, agent_id, decision)

    def best_agent(self, queue_id: str, now: float, channel: str = VOICE) -> str | None:
        """The free agent the queue's strategy would pick for a new item, if any (a consult
        with "whoever is free in billing")."""
        queue = self._queues[queue_id]
        pool = self._pool(channel, _own(queue), queue.compiled)
        return self._choose(queue, pool, now)[0] if pool.free else None

    def members(self, queue: Queue) -> set[str]:
        """The agents on the queue's own PBX who meet its requirement (free or not)."""
        return self._pool(VOICE, _own(queue), queue.compiled).members

    def free_agents(self, queue: Queue) -> list[str]:
        """The queue's free agents on its own PBX, longest idle first (a dialer's picks)."""
        pool = self._pool(VOICE, _own(queue), queue.compiled)
        return sorted(pool.free, key=lambda a: (self._idle_since(a), a))

    def _kept_match(self, now: float) -> Match | None:
        for (channel, agent_id), kept in self._sticky.items():
            if agent_id in self._free.get(channel, {}):
                item = min(kept.values(), key=lambda w: (-w.priority, w.arrived_at, w.call_id))
                text = f"kept for {agent_id}: {item.sticky_why}"
                rule = f"queue {item.queue_id}: {item.sticky_why}"
                decision = Decision(now, "offer", item.call_id, item.queue_id, agent_id, rule, text)
                return Match(item.call_id, agent_id, decision)
        return None

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

    def _class_of(self, waiting: Waiting) -> _Class:
        return self._classes[_class_key(waiting)]

    def _file(self, waiting: Waiting) -> None:
        waiting.stamp = next(self._stamps)
        key = _class_key(waiting)
        klass = self._classes.setdefault(key, _Class())
        klass.live += 1
        heapq.heappush(
            klass.heap, (-waiting.priority, waiting.arrived_at, waiting.call_id, waiting.stamp)
        )
        queue = self._queues.get(waiting.queue_id)
        if queue is not None and waiting.step < len(queue.relaxation):
            when = waiting.queued_at + queue.relaxation[waiting.step].after_s
            heapq.heappush(self._due, (when, waiting.call_id, waiting.stamp))

    def _unfile(self, waiting: Waiting) -> None:
        if waiting.sticky_agent is None:
            self._class_of(waiting).live -= 1
            return
        key = (waiting.channel, waiting.sticky_agent)
        kept = self._sticky[key]
        del kept[waiting.call_id]
        if not kept:
            del self._sticky[key]
        waiting.sticky_agent = waiting.sticky_until = None
        waiting.sticky_why = ""

    def _head(self, klass: _Class) -> Waiting | None:
        while klass.heap:
            _, _, call_id, stamp = klass.heap[0]
            waiting = self._calls.get(call_id)
            if waiting is not None and waiting.stamp == stamp:
                return waiting
            heapq.heappop(klass.heap)
        return None

    def _qualifies(self, agent: Agent, key: PoolKey) -> bool:
        _, pbxes, requirement = key
        on_pbx = pbxes == ANY_PBX or agent.pbx in pbxes
        return on_pbx and requirement.matches(agent.skills, agent.attributes)

    def _pool(self, channel: str, pbxes: frozenset[str], requirement: Requirement) -> _Pool:
        key = (channel, pbxes if channel == VOICE else ANY_PBX, requirement)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(requirement, channel)
            frees = self._free.get(channel, {})
            for agent in self._agents.values():
                if self._qualifies(agent, key):
                    pool.members.add(agent.id)
                    self._agent_pools.setdefault(agent.id, set()).add(key)
                    if agent.id in frees:
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
        frees = self._free[pool.channel]
        if pool.by_idle is None or len(pool.by_idle) > 2 * len(pool.free) + 32:
            pool.by_idle = [(self._idle_since(a), a, frees[a]) for a in pool.free]
            heapq.heapify(pool.by_idle)
        while True:
            idle, agent_id, stamp = pool.by_idle[0]
            if agent_id in pool.free and frees.get(agent_id) == stamp:
                return idle, agent_id
            heapq.heappop(pool.by_idle)

    def _top_by_skill(self, pool: _Pool) -> tuple[int, float, str]:
        frees = self._free[pool.channel]
        if pool.by_skill is None or len(pool.by_skill) > 2 * len(pool.free) + 32:
            pool.by_skill = [self._skill_entry(pool, a, frees[a]) for a in pool.free]
            heapq.heapify(pool.by_skill)
        while True:
            proficiency, idle, agent_id, stamp = pool.by_skill[0]
            if agent_id in pool.free and frees.get(agent_id) == stamp:
                return proficiency, idle, agent_id
            heapq.heappop(pool.by_skill)

    def _drop_unused_pools(self) -> None:
        """Forget pools no queue step asks for any more (a queue changed or went away)."""
        channels = {key[2] for key, klass in self._classes.items() if klass.live > 0} | {VOICE}
        used = {
            (channel, pbxes if channel == VOICE else ANY_PBX, queue.requirement_at(step))
            for queue in self._queues.values()
            for step in range(len(queue.relaxation) + 1)
            for channel in channels
            for pbxes in {queue.scope, _own(queue)}
        }
        for key in [k for k in self._pools if k not in used]:
            for agent_id in self._pools.pop(key).members:
                self._agent_pools[agent_id].discard(key)
        for empty in [k for k, c in self._classes.items() if c.live <= 0]:
            del self._classes[empty]


def _class_key(waiting: Waiting) -> ClassKey:
    return (waiting.queue_id, waiting.step, waiting.channel, waiting.trunked)


def _own(queue: Queue) -> frozenset[str]:
    """The queue's own PBX alone, for the picks that are not rung over a trunk."""
    return _pbx_alone(queue.pbx)


@functools.cache
def _pbx_alone(pbx: str) -> frozenset[str]:
    return frozenset((pbx,))
