"""A discrete-event simulation of inbound traffic, on a virtual clock, driving a router.

Callers arrive in Poisson streams per queue (Erlang's assumption), each with a patience
(exponential) after which they hang up if no agent has answered; an offered call is answered
after a short ring; talk times are exponential. The router decides who takes which call:
`CentreRouter` is the real `Center` (the same routing code as the live controller, fed the
same events a PBX would send), and a benchmark may bring its own (e.g. an emulation of a
peer's routing). Hours of traffic run in seconds: time only moves when an event is due.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, Interaction, RecordInteraction, RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxEvent


@dataclass(frozen=True, slots=True)
class QueueLoad:
    extension: str
    calls_per_hour: float
    mean_talk_s: float
    mean_patience_s: float


@dataclass(frozen=True, slots=True)
class Offer:
    call_id: str
    agent_id: str
    leg_id: str


@dataclass(frozen=True, slots=True)
class Arrival:
    call_id: str
    extension: str
    at: float
    patience_s: float
    talk_s: float


class Router(Protocol):
    """Who serves whom. Every method returns the offers it made (agents to ring) and adds
    the records of calls that ended to `records`."""

    records: list[Interaction]

    def arrive(self, arrival: Arrival, now: float) -> list[Offer]: ...

    def answered(self, offer: Offer, now: float) -> list[Offer]: ...

    def ended(self, call_id: str, now: float) -> list[Offer]:
        """The caller hung up: after talking, or while waiting (abandoned)."""

    def is_answered(self, call_id: str) -> bool: ...

    def next_deadline(self) -> float | None: ...

    def tick(self, now: float) -> list[Offer]: ...


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    kind: str = field(compare=False)
    item: object = field(compare=False)


@dataclass
class InboundSim:
    router: Router
    loads: Sequence[QueueLoad]
    duration_s: float
    seed: int
    ring_s: float = 1.0
    # Seen at each arrival (for the wait predictors); called with the arrival and now.
    on_arrival: Callable[[Arrival, float], None] | None = None
    talk_of: dict[str, float] = field(default_factory=dict)

    def run(self) -> list[Interaction]:
        rng = random.Random(self.seed)
        heap: list[_Due] = []
        seq = itertools.count()

        def at(when: float, kind: str, item: object) -> None:
            heapq.heappush(heap, _Due(when, next(seq), kind, item))

        ids = itertools.count()
        for load in self.loads:
            rate = load.calls_per_hour / 3600.0
            t = rng.expovariate(rate)
            while t < self.duration_s:
                arrival = Arrival(
                    f"c{next(ids)}",
                    load.extension,
                    t,
                    rng.expovariate(1.0 / load.mean_patience_s),
                    rng.expovariate(1.0 / load.mean_talk_s),
                )
                at(t, "arrive", arrival)
                t += rng.expovariate(rate)
        ticking: set[float] = set()
        while heap:
            due = heapq.heappop(heap)
            now = due.at
            offers: list[Offer] = []
            if due.kind == "arrive":
                new = due.item
                assert isinstance(new, Arrival)
                self.talk_of[new.call_id] = new.talk_s
                if self.on_arrival is not None:
                    self.on_arrival(new, now)
                offers = self.router.arrive(new, now)
                at(now + new.patience_s, "patience", new.call_id)
            elif due.kind == "answer":
                offer = due.item
                assert isinstance(offer, Offer)
                offers = self.router.answered(offer, now)
                if self.router.is_answered(offer.call_id):
                    at(now + self.talk_of[offer.call_id], "hangup", offer.call_id)
            elif due.kind in ("hangup", "patience"):
                call_id = due.item
                assert isinstance(call_id, str)
                answered = self.router.is_answered(call_id)
                if due.kind == "hangup" or not answered:
                    offers = self.router.ended(call_id, now)
            elif due.kind == "tick":
                ticking.discard(now)
                offers = self.router.tick(now)
            for offer in offers:
                at(now + self.ring_s, "answer", offer)
            deadline = self.router.next_deadline()
            if deadline is not None and deadline not in ticking:
                ticking.add(deadline)
                at(max(deadline, now), "tick", None)
        return self.router.records


class CentreRouter:
    """The real centre as the router: PBX events in, RingAgent commands out."""

    def __init__(self, center: Center) -> None:
        self.center = center
        self.records: list[Interaction] = []
        self._legs: dict[str, str] = {}  # leg id -> call id
        self._ended: set[str] = set()

    def arrive(self, arrival: Arrival, now: float) -> list[Offer]:
        return self._run(CallWaiting(arrival.call_id, arrival.extension), now)

    def answered(self, offer: Offer, now: float) -> list[Offer]:
        if offer.call_id in self._ended:
            return []  # the caller left while the agent's phone rang
        return self._run(AgentLegAnswered(offer.leg_id), now)

    def ended(self, call_id: str, now: float) -> list[Offer]:
        self._ended.add(call_id)
        return self._run(ChannelHungUp(call_id), now)

    def is_answered(self, call_id: str) -> bool:
        call = self.center.calls.get(call_id)
        return call is not None and call.answered_at is not None

    def next_deadline(self) -> float | None:
        return self.center.next_deadline()

    def tick(self, now: float) -> list[Offer]:
        return self._offers(self.center.tick(now))

    def _run(self, event: PbxEvent, now: float) -> list[Offer]:
        out = self.center.handle(event, now)
        return self._offers(out + self.center.tick(now))

    def _offers(self, commands: list[Command]) -> list[Offer]:
        offers = []
        for command in commands:
            if isinstance(command, RingAgent):
                offers.append(Offer(command.call_id, command.agent_id, command.leg_id))
            elif isinstance(command, RecordInteraction):
                self.records.append(command.interaction)
        return offers
