"""The figures a call centre runs on, per queue and per agent, folded from finished records.

Definitions (stated because peers differ, and the API documents them). For a queue:
- offered: callers who entered the queue's line, minus short abandons (callers who hung up
  within `short_abandon_s`, usually misdials; counted apart and excluded everywhere else).
  Callers sent on at arrival (closed, full, no agents) are `deflected`, not offered;
  callers who left the line for a callback are `callbacks_requested`, not offered (their
  callback is counted when it is made: `callbacks_completed`, `callbacks_not_reached`);
- answered: offered callers an agent talked to (a part that ended in a transfer counts: the
  caller was answered in this queue; the next queue counts its own part);
- service level: answered within `service_level_s` over offered (abandons included in the
  denominator, the stricter of the common definitions);
- ASA: mean wait of answered callers; AHT: mean talk time of answered callers (wrap-up is
  not measured per call);
- abandonment rate: abandoned (after the short-abandon threshold) over offered;
- timed out (max wait, or the PBX's hold timer) and unstaffed (the last qualified agent
  left) count as offered and not answered;
- redirected: callers taken out of the controller's hands while they waited: someone else
  (another AMI tool, an operator) moved them out of the controller's dialplan, or the PBX
  could not bridge them to the agent who answered; cut off: waiting callers the PBX itself
  ended (it restarted or shut down). Both are counted apart, per queue, and in no rate:
  they are not offered, answered or abandoned (neither the queue's failure nor the
  caller's choice). So each caller who entered the line is in one count: offered, short
  abandoned, callbacks requested, redirected or cut off. A conversation moved away or cut
  off was answered, and counts so;
- tasks (chats, emails): completed, cancelled, mean wait until accepted and mean handling
  time, apart from calls.
For an agent: calls answered (inbound, transferred to them, callbacks), their talk time and
AHT, transfers made, and tasks completed with their handling time; occupancy is live state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccgateway.domain.commands import Interaction, Outcome

NOT_OFFERED = frozenset({Outcome.REJECTED, Outcome.CLOSED, Outcome.REFUSED})
ANSWERED = frozenset({Outcome.ANSWERED, Outcome.TRANSFERRED})


@dataclass(frozen=True, slots=True)
class FigureRules:
    service_level_s: float = 20.0
    short_abandon_s: float = 5.0


@dataclass(slots=True)
class QueueTally:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    transferred: int = 0  # answered parts that ended in a transfer (the interval reports')
    abandoned: int = 0
    short_abandoned: int = 0
    timed_out: int = 0
    unstaffed: int = 0
    deflected: int = 0
    callbacks_requested: int = 0
    callbacks_completed: int = 0
    callbacks_not_reached: int = 0
    wait_answered_s: float = 0.0
    talk_s: float = 0.0
    longest_wait_answered_s: float = 0.0
    tasks_completed: int = 0
    tasks_cancelled: int = 0
    task_wait_s: float = 0.0
    task_handle_s: float = 0.0
    # Taken out of the centre's hands while waiting: counted apart, in no rate. Last, as
    # the report table's columns added by migration 0004 are last in an upgraded database.
    redirected: int = 0
    cut_off: int = 0


@dataclass(slots=True)
class AgentTally:
    calls_answered: int = 0
    talk_s: float = 0.0
    transfers: int = 0
    callbacks: int = 0
    tasks_completed: int = 0
    task_handle_s: float = 0.0


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue_id: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    service_level: float | None  # 0..1, None before the first offered call
    asa_s: float | None
    aht_s: float | None
    abandonment_rate: float | None
    longest_wait_answered_s: float
    unstaffed: int = 0
    deflected: int = 0
    callbacks_requested: int = 0
    callbacks_completed: int = 0
    callbacks_not_reached: int = 0
    redirected: int = 0
    cut_off: int = 0
    tasks_completed: int = 0
    tasks_cancelled: int = 0
    task_asa_s: float | None = None
    task_aht_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentFigures:
    agent_id: str
    calls_answered: int
    talk_s: float
    aht_s: float | None
    transfers: int
    callbacks: int
    tasks_completed: int
    task_aht_s: float | None


class Figures:
    """Per-queue and per-agent tallies; add each finished record once, read at any time."""

    def __init__(self, rules: FigureRules | None = None) -> None:
        self.rules = rules or FigureRules()
        self._tallies: dict[str, QueueTally] = {}
        self._agents: dict[str, AgentTally] = {}

    def add(self, record: Interaction) -> None:
        if record.agent_id is not None:
            add_to_agent(self._agents.setdefault(record.agent_id, AgentTally()), record)
        if reaches_queue(record):
            assert record.queue_id is not None
            tally = self._tallies.setdefault(record.queue_id, QueueTally())
            add_to_queue(tally, record, self.rules)

    def add_all(self, records: Iterable[Interaction]) -> None:
        for record in records:
            self.add(record)

    def queue(self, queue_id: str) -> QueueFigures:
        return queue_figures(queue_id, self._tallies.get(queue_id, QueueTally()))

    def agent(self, agent_id: str) -> AgentFigures:
        return agent_figures(agent_id, self._agents.get(agent_id, AgentTally()))

    def queue_ids(self) -> list[str]:
        return sorted(self._tallies)


# The fold and the derivation, as functions: the interval reports (reports.py) fold each
# record into a tally per queue and 15 minutes with these same functions, sum the tallies
# and derive their figures with `queue_figures`, so a report's day and the live day agree.


def reaches_queue(record: Interaction) -> bool:
    """Does the record count for its queue (a rejected call never reached one)?"""
    return record.queue_id is not None and record.outcome is not Outcome.REJECTED


def add_to_queue(tally: QueueTally, record: Interaction, rules: FigureRules) -> None:
    """Fold one record of the queue into its tally."""
    if record.kind == "task":
        _add_task(tally, record)
    elif record.kind == "callback":
        if record.outcome is Outcome.ANSWERED:
            tally.callbacks_completed += 1
        else:
            tally.callbacks_not_reached += 1
    else:
        _add_call(tally, record, rules)


def _add_call(tally: QueueTally, record: Interaction, rules: FigureRules) -> None:
    outcome = record.outcome
    if outcome in NOT_OFFERED:
        tally.deflected += 1
        return
    # Out of the centre's hands (someone else moved them, the PBX cut them off): neither
    # the queue's failure nor the caller's choice, so apart from offered.
    if outcome is Outcome.REDIRECTED:
        tally.redirected += 1
        return
    if outcome is Outcome.CUT_OFF:
        tally.cut_off += 1
        return
    if outcome is Outcome.CALLBACK:
        tally.callbacks_requested += 1
        return
    if outcome is Outcome.ABANDONED and record.wait_s < rules.short_abandon_s:
        tally.short_abandoned += 1
        return
    tally.offered += 1
    if outcome in ANSWERED:
        tally.answered += 1
        tally.transferred += outcome is Outcome.TRANSFERRED
        tally.wait_answered_s += record.wait_s
        tally.talk_s += record.talk_s
        tally.longest_wait_answered_s = max(tally.longest_wait_answered_s, record.wait_s)
        if record.wait_s <= rules.service_level_s:
            tally.answered_in_time += 1
    elif outcome is Outcome.ABANDONED:
        tally.abandoned += 1
    elif outcome is Outcome.TIMED_OUT:
        tally.timed_out += 1
    elif outcome is Outcome.UNSTAFFED:
        tally.unstaffed += 1


def _add_task(tally: QueueTally, record: Interaction) -> None:
    if record.outcome is Outcome.COMPLETED:
        tally.tasks_completed += 1
        tally.task_wait_s += record.wait_s
        tally.task_handle_s += record.talk_s
    elif record.outcome is Outcome.CANCELLED:
        tally.tasks_cancelled += 1


def add_to_agent(tally: AgentTally, record: Interaction) -> None:
    """Fold one record of the agent's into its tally."""
    if record.kind == "task":
        if record.outcome is Outcome.COMPLETED:
            tally.tasks_completed += 1
            tally.task_handle_s += record.talk_s
        return
    if record.answered_at is None:
        return
    tally.calls_answered += 1
    tally.talk_s += record.talk_s
    if record.outcome is Outcome.TRANSFERRED:
        tally.transfers += 1
    if record.kind == "callback":
        tally.callbacks += 1


def queue_figures(queue_id: str, t: QueueTally) -> QueueFigures:
    """The figures of a queue's tally (one day live, or any sum of a report's tallies)."""
    return QueueFigures(
        queue_id=queue_id,
        offered=t.offered,
        answered=t.answered,
        abandoned=t.abandoned,
        short_abandoned=t.short_abandoned,
        timed_out=t.timed_out,
        service_level=_ratio(t.answered_in_time, t.offered),
        asa_s=_mean(t.wait_answered_s, t.answered),
        aht_s=_mean(t.talk_s, t.answered),
        abandonment_rate=_ratio(t.abandoned, t.offered),
        longest_wait_answered_s=round(t.longest_wait_answered_s, 3),
        unstaffed=t.unstaffed,
        deflected=t.deflected,
        callbacks_requested=t.callbacks_requested,
        callbacks_completed=t.callbacks_completed,
        callbacks_not_reached=t.callbacks_not_reached,
        redirected=t.redirected,
        cut_off=t.cut_off,
        tasks_completed=t.tasks_completed,
        tasks_cancelled=t.tasks_cancelled,
        task_asa_s=_mean(t.task_wait_s, t.tasks_completed),
        task_aht_s=_mean(t.task_handle_s, t.tasks_completed),
    )


def agent_figures(agent_id: str, t: AgentTally) -> AgentFigures:
    """The figures of an agent's tally."""
    return AgentFigures(
        agent_id=agent_id,
        calls_answered=t.calls_answered,
        talk_s=round(t.talk_s, 3),
        aht_s=_mean(t.talk_s, t.calls_answered),
        transfers=t.transfers,
        callbacks=t.callbacks,
        tasks_completed=t.tasks_completed,
        task_aht_s=_mean(t.task_handle_s, t.tasks_completed),
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None
