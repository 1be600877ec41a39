"""ccgateway's own pacing in the simulator, composed and fed exactly as the live dialer does.

The live dialer (domain/outbound/book.py, placer.py, settler.py, tracker.py) gives each
campaign a `new_pacer(target, grace)` (the grace a person waits, less AMD's listening when
the law counts it) and an `AbandonLedger(rules, amd false-positive share, target)`, asks
`decide(pacer, ledger, state, now)` at every pacing round, and tells them:
- `pacer.dial_ended(end, ring_s)` when a dial's outcome is known (LIVE when the person is on
  the line, after AMD; ring_s from the dial to that moment);
- `pacer.busy_ended(talk + wrap)` when an agent frees after a conversation;
- `pacer.live_handled(abandoned)` for a person on the line, only if no agent was kept for
  the call (a kept call cannot be abandoned and teaches the threshold nothing);
- `ledger.live(at, abandoned)` for every person on the line, `ledger.machine(at)` for every
  machine verdict.
Simulation time is mapped to real epochs (`start_epoch` + seconds into the shift), so the
UK calendar-day ledger and the US rolling-30-day ledger count as they do live.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.pacing import DialEnd, PaceDecision, PaceState, decide, new_pacer
from ccgateway.domain.outbound.rules import UK, RuleSet

FIRST_DAY = (2026, 12, 1)
SHIFT_STARTS = (9, 0)


def shift_start(rules: RuleSet, day: int) -> float:
    """The epoch of day `day`'s shift: 09:00 in the rule set's ledger zone, from 1 Dec 2026."""
    zone = ZoneInfo(rules.ledger_timezone)
    first = datetime(*FIRST_DAY, *SHIFT_STARTS, tzinfo=zone)
    local = (first.replace(tzinfo=None) + timedelta(days=day)).replace(tzinfo=zone)
    return local.timestamp()


class PacerPolicy:
    """The live dialer's pacing for one campaign: its pacer and its abandon ledger."""

    def __init__(
        self,
        rules: RuleSet = UK,
        target: float = 0.03,
        amd_share: float = 0.0,
        start_epoch: float | None = None,
        ledger: AbandonLedger | None = None,
        grace_s: float = 0.0,
    ) -> None:
        """`amd_share`: the campaign's estimate of the share of machine verdicts that were
        people (the UK ledger's AMD estimate). `ledger`: one carried over from earlier days
        of the same campaign (the US rolling window), else a new one. `grace_s`: how long a
        person the pacer counts as live still waits for an agent."""
        self.rules = rules
        self.pacer = new_pacer(target, grace_s)
        self.ledger = ledger if ledger is not None else AbandonLedger(rules, amd_share, target)
        self.epoch0 = shift_start(rules, 0) if start_epoch is None else start_epoch
        self.decisions = 0
        self.decide_s = 0.0  # wall time spent in decide()
        self.stopped = 0  # decisions with the ledger at its limit (agents kept)
        self.throttled = 0  # decisions with the ledger easing the pacer off

    def decide(self, state: PaceState, now: float) -> PaceDecision:
        started = time.perf_counter()
        decision = decide(self.pacer, self.ledger, state, self.epoch0 + now)
        self.decide_s += time.perf_counter() - started
        self.decisions += 1
        if decision.keep_agents:
            self.stopped += 1
        elif self.pacer.throttle < 1.0:
            self.throttled += 1
        return decision

    def dial_ended(self, end: DialEnd, ring_s: float, now: float) -> None:
        self.pacer.dial_ended(end, ring_s)
        if end is DialEnd.MACHINE:
            self.ledger.machine(self.epoch0 + now)

    def busy_ended(self, busy_s: float, now: float) -> None:
        self.pacer.busy_ended(busy_s)

    def live_handled(self, abandoned: bool, kept: bool, now: float) -> None:
        self.ledger.live(self.epoch0 + now, abandoned)
        if not kept:
            self.pacer.live_handled(abandoned)

    def wake_at(self, now: float) -> float | None:
        return None
