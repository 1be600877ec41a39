"""A discrete-event simulation of outbound dialing (the benchmark of the project's dialer
note), deterministic under its seed, driving a pacing policy.

N agents work a shift. Every dial ends in one of four ways: a person answers (probability
p, after a ring-to-answer time), an answering machine answers (0.15), nobody answers (the
line is held 25 s), or the line is busy or invalid (4 s). A person is connected to a free
agent at once; with nobody free they wait up to the grace period (2 s) and are then
abandoned with a 5 s message (never a silent call). An agent's talk and wrap-up follow
lognormal laws. The Markov tier makes every duration exponential (ring outcome mean 15 s,
talk+wrap 135 s) and abandons at once, so the exact optimum (sim/optimum.py) applies.

A call may be placed with an agent kept for it (progressive dialing, or the ledger's
fallback at the legal limit): the agent is reserved while it rings, takes the person at
once, and is free again if the dial ends otherwise. Such a call cannot be abandoned.

Variants: answering-machine detection (AMD) that listens 1.5-3 s before its verdict and
takes a share of the people for machines (they are hung up on: the UK counts them as
abandoned). Where the rule set's grace counts AMD's listening (UK), AMD is cut off at the
grace, so a person it passes then needs an agent at once; elsewhere (US) the grace starts
at the verdict. Machines are detected at once without the AMD variant. An answer rate
drifting down during the day, agents logging out and back in, and a cap on lines (calls in
flight: ringing, AMD listening, people waiting for an agent).

Policies see what the live dialer sees (`PaceState`, built as
domain/outbound/placer.py `Placer._pace_state` builds it: calls with a kept agent are left out of
the ringing and waiting counts, their agents are not free, and the line cap is reduced by
them) and answer with a `PaceDecision`. They are told what the live dialer's pacer and
ledger are told (`Policy`). ccgateway's own pacing, as the live dialer composes it, is
`ccgateway.sim.policies.PacerPolicy`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from ccgateway.domain.outbound.pacing import DialEnd, PaceDecision, PaceState

_EPS = 1e-9


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
    grace_counts_amd: bool = True  # UK: the grace runs from the answer; US: from the verdict
    drift_to: float | None = None  # the answer rate falls linearly to this by the shift's end
    login_churn: bool = False  # agents log out and back in during the shift
    max_lines: int | None = None  # calls in flight (ringing, AMD, waiting), at most
    pace_every_s: float = 1.0  # the policy is asked after every event and this often

    @property
    def amd_share(self) -> float:
        """The share of AMD's machine verdicts that are people (the UK ledger's estimate)."""
        fp = self.amd_false_positive
        if not fp:
            return 0.0
        people = self.p_live * fp
        return people / (people + self.p_machine)


@dataclass
class Result:
    """One shift (one day) of one policy."""

    dials: int = 0
    kept_dials: int = 0  # placed with an agent kept for them
    live: int = 0  # people reached (connected + abandoned + lost to AMD)
    connected: int = 0
    abandoned: int = 0
    amd_lost: int = 0  # people AMD took for a machine
    machines: int = 0  # machine verdicts (real machines and people taken for one)
    busy_s: float = 0.0  # talk + wrap within the shift
    talk_s: float = 0.0
    staffed_s: float = 0.0  # agents logged in x time
    waits: list[float] = field(default_factory=list)  # grace start to agent, connected calls
    peak_lines: int = 0
    over_cap: int = 0  # calls a policy asked for beyond the line cap (not placed)
    silent: int = 0  # people left with neither an agent nor the message: must stay 0
    waits_over_grace: int = 0  # connected after the grace: must stay 0

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
        """Abandoned plus AMD's false positives over live calls (the UK definition, with the
        true count of the people AMD hung up on where the law takes a reasoned estimate)."""
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


class Policy(Protocol):
    """How many calls to place now, from what the dialer sees; told what happens, as the
    live dialer tells its pacer and ledger. `now` is seconds since the shift began."""

    def decide(self, state: PaceState, now: float) -> PaceDecision: ...

    def dial_ended(self, end: DialEnd, ring_s: float, now: float) -> None:
        """A dial's outcome is known: LIVE when the person is on the line (after AMD),
        MACHINE at a machine verdict (AMD's false positives included)."""

    def busy_ended(self, busy_s: float, now: float) -> None:
        """An agent is free after a connected call's talk and wrap-up."""

    def live_handled(self, abandoned: bool, kept: bool, now: float) -> None:
        """A person on the line got an agent or the message; `kept`: the call was placed
        with an agent kept for it."""

    def wake_at(self, now: float) -> float | None:
        """When to be asked again at the latest (None: at the next event or tick)."""


class QuietPolicy:
    """A policy's hooks that do nothing: baselines override what they use."""

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        return PaceDecision(0, False)

    def dial_ended(self, end: DialEnd, ring_s: float, now: float) -> None:
        return None

    def busy_ended(self, busy_s: float, now: float) -> None:
        return None

    def live_handled(self, abandoned: bool, kept: bool, now: float) -> None:
        return None

    def wake_at(self, now: float) -> float | None:
        return None


def lognormal(rng: random.Random, mean: float, sd: float) -> float:
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(slots=True)
class _Call:
    dialled_at: float
    agent: int | None  # the agent kept for it
    grace_from: float = 0.0  # when the person's 2 s began


class DialerSim:
    """One shift of one workload under one policy: `DialerSim(w, seed).run(policy)`."""

    def __init__(self, workload: Workload, seed: int) -> None:
        self.w = workload
        self.seed = seed

    def run(self, policy: Policy) -> Result:
        w = self.w
        self.policy = policy
        self.rng = random.Random(self.seed)
        self.end_at = w.hours * 3600.0
        self.heap: list[tuple[float, int, str, int]] = []
        self.seq = itertools.count()
        self.ids = itertools.count()
        self.result = Result()
        self.calls: dict[int, _Call] = {}  # in flight: ringing, AMD listening, waiting
        self.listening: set[int] = set()  # answered, AMD has not decided yet
        self.waiting: dict[int, float] = {}  # at-risk person on the line -> grace start
        self.busy: dict[int, tuple[float, float]] = {}  # agent -> (since, talk + wrap)
        self.free: set[int] = set(range(w.agents))
        self.kept: dict[int, int] = {}  # agent -> the call it is kept for
        self.staffed_since: dict[int, float] = {a: 0.0 for a in self.free}
        self.leaving: set[int] = set()
        self.wake: float = math.inf
        self._at(w.pace_every_s, "tick")
        if w.login_churn:
            for agent in range(w.agents):
                self._at(self.rng.uniform(0, self.end_at), "logout", agent)
        self._decide(0.0)
        while self.heap:
            at, _, kind, item = heapq.heappop(self.heap)
            self._handle(kind, item, at)
            self._decide(at)
        for since in self.staffed_since.values():
            self.result.staffed_s += max(0.0, self.end_at - since)
        return self.result

    # --- the world ---------------------------------------------------------------------

    def _at(self, when: float, kind: str, item: int = 0) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), kind, item))

    def _p_live(self, now: float) -> float:
        w = self.w
        if w.drift_to is None:
            return w.p_live
        return w.p_live + (w.drift_to - w.p_live) * min(1.0, now / self.end_at)

    def _dial(self, now: float, agent: int | None) -> None:
        w, rng = self.w, self.rng
        call = next(self.ids)
        self.calls[call] = _Call(now, agent)
        if agent is not None:
            self.free.discard(agent)
            self.kept[agent] = call
            self.result.kept_dials += 1
        self.result.dials += 1
        self.result.peak_lines = max(self.result.peak_lines, len(self.calls))
        u, live = rng.random(), self._p_live(now)
        if w.markov:
            self._at(now + rng.expovariate(1 / 15.0), "answer" if u < live else "gone", call)
        elif u < live:
            self._at(now + min(25.0, lognormal(rng, 9.0, 4.0)), "answer", call)
        elif u < live + w.p_machine:
            self._at(now + min(25.0, lognormal(rng, 14.0, 4.0)), "machine", call)
        elif rng.random() < w.no_answer_share:
            self._at(now + 25.0, "no_answer", call)
        else:
            self._at(now + 4.0, "busy", call)

    def _handle(self, kind: str, item: int, now: float) -> None:
        if kind == "tick":
            if now < self.end_at:
                self._at(now + self.w.pace_every_s, "tick")
        elif kind == "wake":
            if now >= self.wake:
                self.wake = math.inf
        elif kind == "answer":
            self._answered(item, now)
        elif kind == "machine":
            self._machine_answered(item, now)
        elif kind == "verdict":  # AMD let a person through
            self.listening.discard(item)
            self._person(item, now)
        elif kind == "verdict_machine":
            self.listening.discard(item)
            self._ended(item, DialEnd.MACHINE, now)
        elif kind in ("no_answer", "gone"):
            self._ended(item, DialEnd.NO_ANSWER, now)
        elif kind == "busy":
            self._ended(item, DialEnd.BUSY, now)
        elif kind == "grace":
            if item in self.waiting:
                del self.waiting[item]
                self._abandon(item, now)
        elif kind == "free":
            self._agent_free(item, now)
        elif kind == "logout":
            if item in self.busy or item in self.kept:
                self.leaving.add(item)  # after this call
            else:
                self._log_out(item, now)
        elif kind == "login" and now < self.end_at:
            self.staffed_since[item] = now
            self._agent_ready(item, now)

    def _amd_delay(self) -> float:
        delay = self.rng.uniform(*self.w.amd_delay_s)
        # Where the grace counts AMD's listening, AMD must decide within it.
        return min(delay, self.w.grace_s) if self.w.grace_counts_amd else delay

    def _answered(self, call: int, now: float) -> None:
        """A person picks up."""
        self.result.live += 1
        self.calls[call].grace_from = now
        fp = self.w.amd_false_positive
        if fp is None:
            self._person(call, now)
            return
        lost = self.rng.random() < fp
        if lost:
            self.result.amd_lost += 1
        self.listening.add(call)
        self._at(now + self._amd_delay(), "verdict_machine" if lost else "verdict", call)

    def _machine_answered(self, call: int, now: float) -> None:
        if self.w.amd_false_positive is None:
            self._ended(call, DialEnd.MACHINE, now)  # detected at once
            return
        self.listening.add(call)
        self._at(now + self._amd_delay(), "verdict_machine", call)

    def _ended(self, call: int, end: DialEnd, now: float) -> None:
        """The dial is over with nobody to connect."""
        record = self.calls.pop(call)
        if end is DialEnd.MACHINE:
            self.result.machines += 1
        self.policy.dial_ended(end, now - record.dialled_at, now)
        if record.agent is not None:
            del self.kept[record.agent]
            self._agent_ready(record.agent, now)

    def _person(self, call: int, now: float) -> None:
        """A person is on the line, AMD (if any) has let them through."""
        record = self.calls[call]
        if not self.w.grace_counts_amd:
            record.grace_from = now
        self.policy.dial_ended(DialEnd.LIVE, now - record.dialled_at, now)
        if record.agent is not None:
            del self.kept[record.agent]
            self._connect(record.agent, call, now)
        elif self.free:
            self._connect(min(self.free), call, now)
        elif self.w.markov or record.grace_from + self.w.grace_s <= now + _EPS:
            self._abandon(call, now)  # no grace on the Markov tier; or AMD used it up
        else:
            self.waiting[call] = record.grace_from
            self._at(record.grace_from + self.w.grace_s, "grace", call)

    def _abandon(self, call: int, now: float) -> None:
        """The message plays: never a silent call."""
        self.calls.pop(call)
        self.result.abandoned += 1
        self.policy.live_handled(True, False, now)

    def _connect(self, agent: int, call: int, now: float) -> None:
        record = self.calls.pop(call)
        self.free.discard(agent)
        if self.w.markov:
            talk, wrap = self.rng.expovariate(1 / 135.0), 0.0
        else:
            talk, wrap = lognormal(self.rng, 120.0, 120.0), lognormal(self.rng, 15.0, 7.5)
        self.busy[agent] = (now, talk + wrap)
        result = self.result
        result.connected += 1
        result.talk_s += min(talk, max(0.0, self.end_at - now))
        result.busy_s += min(talk + wrap, max(0.0, self.end_at - now))
        wait = now - record.grace_from
        result.waits.append(wait)
        if wait > self.w.grace_s + _EPS:
            result.waits_over_grace += 1
        self.policy.live_handled(False, record.agent is not None, now)
        self._at(now + talk + wrap, "free", agent)

    def _agent_free(self, agent: int, now: float) -> None:
        _, spent = self.busy.pop(agent)
        self.policy.busy_ended(spent, now)
        self._agent_ready(agent, now)

    def _agent_ready(self, agent: int, now: float) -> None:
        """After a call or a kept dial, or at login: free, or gone if leaving."""
        if agent in self.leaving:
            self.leaving.discard(agent)
            self._log_out(agent, now)
            return
        self.free.add(agent)
        if self.waiting:  # the person waiting longest, within the grace
            call = min(self.waiting, key=lambda c: self.waiting[c])
            del self.waiting[call]
            self._connect(agent, call, now)

    def _log_out(self, agent: int, now: float) -> None:
        self.free.discard(agent)
        since = self.staffed_since.pop(agent, None)
        if since is not None:
            self.result.staffed_s += max(0.0, min(now, self.end_at) - since)
        self._at(now + self.rng.uniform(600, 3600), "login", agent)

    # --- the policy --------------------------------------------------------------------

    def pace_state(self, now: float) -> PaceState:
        """What the live dialer's pacer would see now (placer.py `Placer._pace_state`)."""
        ringing = [
            now - c.dialled_at
            for call, c in self.calls.items()
            if c.agent is None and call not in self.waiting
        ]
        cap = self.w.max_lines
        return PaceState(
            len(self.free),
            ringing,
            [now - since for since, _ in self.busy.values()],
            None if cap is None else cap - len(self.kept),
            len(self.waiting),
        )

    def _decide(self, now: float) -> None:
        if now >= self.end_at:
            return
        decision = self.policy.decide(self.pace_state(now), now)
        count = max(0, decision.calls)
        cap = self.w.max_lines
        if cap is not None and len(self.calls) + count > cap:
            allowed = max(0, cap - len(self.calls))
            self.result.over_cap += count - allowed
            count = allowed
        if decision.keep_agents:
            for _ in range(min(count, len(self.free))):
                self._dial(now, min(self.free))
        else:
            for _ in range(count):
                self._dial(now, None)
        wake = self.policy.wake_at(now)
        if wake is not None and now < wake < self.wake and wake < self.end_at:
            self.wake = wake
            self._at(wake, "wake")
