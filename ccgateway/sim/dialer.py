"""A discrete-event simulation of outbound dialing (the benchmark of the project's dialer
note), deterministic under its seed, driving a pacing policy.

N agents work a shift. Every dial ends in one of four ways: a person answers (probability
p, after a ring-to-answer time), an answering machine answers (0.15), nobody answers (the
line is held 25 s), or the line is busy or invalid (4 s). A person is connected to a free
agent at once; with nobody free they wait up to the grace period (2 s) and are then
abandoned with a 5 s message. An agent's talk and wrap-up follow lognormal laws. Variants:
answering-machine detection with a decision delay and false positives (a person taken for a
machine is hung up on, which the UK ledger must estimate), an answer rate drifting down
during the day, agents logging in and out, and a cap on lines. The Markov tier makes every
duration exponential (ring outcome mean 15 s, talk+wrap 135 s) and abandons at once, so the
exact optimum (sim/optimum.py) applies.

Policies see what a live dialer sees (PaceState) and say how many calls to place now; the
same `Pacer` as the live dialer (domain/outbound/pacing.py) is one of them.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from ccgateway.domain.outbound.pacing import DialEnd, Pacer, PaceState

ENDS = {
    "live": DialEnd.LIVE,
    "machine": DialEnd.MACHINE,
    "no_answer": DialEnd.NO_ANSWER,
    "busy": DialEnd.BUSY,
    "gone": DialEnd.NO_ANSWER,
}


@dataclass(frozen=True, slots=True)
class Workload:
    agents: int
    p_live: float
    hours: float = 8.0
    p_machine: float = 0.15
    no_answer_share: float = 0.7  # of the rest: no answer (held 25 s); else busy (4 s)
    markov: bool = False
    grace_s: float = 2.0
    message_s: float = 5.0
    amd_false_positive: float | None = None  # None: no AMD; else the share of people lost
    amd_delay_s: tuple[float, float] = (1.5, 3.0)
    drift_to: float | None = None  # the answer rate falls linearly to this by the shift's end
    login_churn: bool = False  # agents log out and back in during the shift
    max_lines: int | None = None


@dataclass
class Result:
    dials: int = 0
    live: int = 0  # people reached (connected + abandoned + lost to AMD)
    connected: int = 0
    abandoned: int = 0
    amd_lost: int = 0  # people AMD took for a machine
    machines: int = 0
    busy_s: float = 0.0  # talk + wrap within the shift
    talk_s: float = 0.0
    staffed_s: float = 0.0  # agents logged in x time
    waits: list[float] = field(default_factory=list)  # answer to agent, connected calls
    peak_lines: int = 0
    silent: int = 0  # abandoned without the message: must stay 0

    @property
    def utilisation(self) -> float:
        return self.busy_s / self.staffed_s if self.staffed_s else 0.0

    @property
    def abandon_rate(self) -> float:
        """Abandoned over live answered calls (the US definition)."""
        live = self.connected + self.abandoned
        return self.abandoned / live if live else 0.0

    @property
    def uk_abandon_rate(self) -> float:
        """Abandoned plus AMD's false positives over live calls (the UK definition)."""
        live = self.connected + self.abandoned + self.amd_lost
        return (self.abandoned + self.amd_lost) / live if live else 0.0

    @property
    def talk_minutes_per_agent_hour(self) -> float:
        return self.talk_s / 60 / (self.staffed_s / 3600) if self.staffed_s else 0.0

    @property
    def connects_per_agent_hour(self) -> float:
        return self.connected / (self.staffed_s / 3600) if self.staffed_s else 0.0

    @property
    def dials_per_connect(self) -> float:
        return self.dials / self.connected if self.connected else math.inf

    @property
    def wait_mean(self) -> float:
        return sum(self.waits) / len(self.waits) if self.waits else 0.0

    @property
    def wait_p95(self) -> float:
        if not self.waits:
            return 0.0
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


class Policy(Protocol):
    """How many calls to place now, from what the dialer sees; told what happens."""

    def calls_to_place(self, state: PaceState, now: float) -> int: ...

    def dial_ended(self, end: DialEnd, ring_s: float) -> None: ...

    def busy_ended(self, busy_s: float) -> None: ...

    def live_handled(self, abandoned: bool, now: float) -> None: ...


class PacerPolicy:
    """ccgateway's pacing, as the live dialer runs it."""

    def __init__(self, target: float = 0.03, pacer: Pacer | None = None) -> None:
        self.pacer = pacer or Pacer(target)

    def calls_to_place(self, state: PaceState, now: float) -> int:
        return self.pacer.calls_to_place(state)

    def dial_ended(self, end: DialEnd, ring_s: float) -> None:
        self.pacer.dial_ended(end, ring_s)

    def busy_ended(self, busy_s: float) -> None:
        self.pacer.busy_ended(busy_s)

    def live_handled(self, abandoned: bool, now: float) -> None:
        self.pacer.live_handled(abandoned)


def lognormal(rng: random.Random, mean: float, sd: float) -> float:
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    kind: str = field(compare=False)
    item: int = field(compare=False, default=0)


class DialerSim:
    """One shift of one workload under one policy: `DialerSim(w, seed).run(policy)`."""

    def __init__(self, workload: Workload, seed: int) -> None:
        self.w = workload
        self.seed = seed

    def run(self, policy: Policy) -> Result:
        self.policy = policy
        self.rng = random.Random(self.seed)
        self.end_at = self.w.hours * 3600.0
        self.heap: list[_Due] = []
        self.seq = itertools.count()
        self.ids = itertools.count()
        self.result = Result()
        self.ringing: dict[int, float] = {}  # call -> when dialled
        self.waiting: dict[int, float] = {}  # person on the line -> when they went live
        self.verdict: dict[int, float] = {}  # person AMD is still listening to -> went live
        self.busy: dict[int, tuple[float, float]] = {}  # agent -> (since, talk + wrap)
        self.free: set[int] = set(range(self.w.agents))
        self.staffed_since: dict[int, float] = {a: 0.0 for a in self.free}
        self.leaving: set[int] = set()
        self._at(1.0, "tick")
        if self.w.login_churn:
            for agent in range(self.w.agents):
                self._at(self.rng.uniform(0, self.end_at), "logout", agent)
        self._decide(0.0)
        while self.heap:
            due = heapq.heappop(self.heap)
            self._handle(due.kind, due.item, due.at)
            self._decide(due.at)
        for since in self.staffed_since.values():
            self.result.staffed_s += max(0.0, self.end_at - since)
        return self.result

    # --- the world ---------------------------------------------------------------------

    def _at(self, when: float, kind: str, item: int = 0) -> None:
        heapq.heappush(self.heap, _Due(when, next(self.seq), kind, item))

    def _p_live(self, now: float) -> float:
        w = self.w
        if w.drift_to is None:
            return w.p_live
        return w.p_live + (w.drift_to - w.p_live) * min(1.0, now / self.end_at)

    def _dial(self, now: float) -> None:
        w, rng = self.w, self.rng
        call = next(self.ids)
        self.ringing[call] = now
        self.result.dials += 1
        lines = len(self.ringing) + len(self.waiting) + len(self.verdict)
        self.result.peak_lines = max(self.result.peak_lines, lines)
        u, live = rng.random(), self._p_live(now)
        if w.markov:
            self._at(now + rng.expovariate(1 / 15.0), "live" if u < live else "gone", call)
        elif u < live:
            self._at(now + min(25.0, lognormal(rng, 9.0, 4.0)), "live", call)
        elif u < live + w.p_machine:
            self._at(now + min(25.0, lognormal(rng, 14.0, 4.0)), "machine", call)
        elif rng.random() < w.no_answer_share:
            self._at(now + 25.0, "no_answer", call)
        else:
            self._at(now + 4.0, "busy", call)

    def _handle(self, kind: str, item: int, now: float) -> None:
        if kind == "tick":
            if now < self.end_at:
                self._at(now + 1.0, "tick")
        elif kind in ENDS:
            self._dial_ended(kind, item, now)
        elif kind == "verdict":  # AMD has decided: a person
            self._person(item, self.verdict.pop(item), now)
        elif kind == "grace":
            if item in self.waiting:
                del self.waiting[item]
                self._abandoned(now)
        elif kind == "free":
            self._agent_free(item, now)
        elif kind == "logout":
            if item in self.busy:
                self.leaving.add(item)  # after this call
            else:
                self._log_out(item, now)
        elif kind == "login" and now < self.end_at:
            self.staffed_since[item] = now
            self.free.add(item)
            self._take_waiting(item, now)

    def _dial_ended(self, kind: str, call: int, now: float) -> None:
        ring_s = now - self.ringing.pop(call)
        if kind == "machine":
            self.result.machines += 1
        if kind != "live":
            self.policy.dial_ended(ENDS[kind], ring_s)
            return
        self.result.live += 1
        fp = self.w.amd_false_positive
        if fp is not None:
            if self.rng.random() < fp:  # taken for a machine and hung up on
                self.result.amd_lost += 1
                self.policy.dial_ended(DialEnd.MACHINE, ring_s)
                return
            self.verdict[call] = now
            self.policy.dial_ended(DialEnd.LIVE, ring_s)
            self._at(now + self.rng.uniform(*self.w.amd_delay_s), "verdict", call)
            return
        self.policy.dial_ended(DialEnd.LIVE, ring_s)
        self._person(call, now, now)

    def _person(self, call: int, went_live: float, now: float) -> None:
        """A person is on the line (and AMD, if any, has let them through)."""
        if now - went_live > self.w.grace_s:  # AMD took longer than the grace
            self._abandoned(now)
        elif self.free:
            self._connect(min(self.free), went_live, now)
        elif self.w.markov:  # no grace on the Markov tier
            self._abandoned(now)
        else:
            self.waiting[call] = went_live
            self._at(went_live + self.w.grace_s, "grace", call)

    def _abandoned(self, now: float) -> None:
        """The message plays: never a silent call."""
        self.result.abandoned += 1
        self.policy.live_handled(True, now)

    def _connect(self, agent: int, went_live: float, now: float) -> None:
        self.free.discard(agent)
        if self.w.markov:
            talk, wrap = self.rng.expovariate(1 / 135.0), 0.0
        else:
            talk, wrap = lognormal(self.rng, 120.0, 120.0), lognormal(self.rng, 15.0, 7.5)
        self.busy[agent] = (now, talk + wrap)
        self.result.connected += 1
        self.result.talk_s += min(talk, max(0.0, self.end_at - now))
        self.result.busy_s += min(talk + wrap, max(0.0, self.end_at - now))
        self.result.waits.append(now - went_live)
        self.policy.live_handled(False, now)
        self._at(now + talk + wrap, "free", agent)

    def _agent_free(self, agent: int, now: float) -> None:
        _, spent = self.busy.pop(agent)
        self.policy.busy_ended(spent)
        if agent in self.leaving:
            self.leaving.discard(agent)
            self._log_out(agent, now)
            return
        self.free.add(agent)
        self._take_waiting(agent, now)

    def _take_waiting(self, agent: int, now: float) -> None:
        if self.waiting:  # the person waiting longest, within the grace
            call = min(self.waiting, key=lambda c: self.waiting[c])
            self._connect(agent, self.waiting.pop(call), now)

    def _log_out(self, agent: int, now: float) -> None:
        self.free.discard(agent)
        since = self.staffed_since.pop(agent, None)
        if since is not None:
            self.result.staffed_s += max(0.0, min(now, self.end_at) - since)
        self._at(now + self.rng.uniform(600, 3600), "login", agent)

    def _decide(self, now: float) -> None:
        if now >= self.end_at:
            return
        state = PaceState(
            len(self.free),
            [now - t for t in self.ringing.values()],
            [now - since for since, _ in self.busy.values()],
            self.w.max_lines,
            len(self.waiting) + len(self.verdict),
        )
        for _ in range(max(0, self.policy.calls_to_place(state, now))):
            self._dial(now)
