"""The figures a call centre runs on, per queue, folded from finished calls.

Definitions (stated because peers differ, and the API documents them):
- offered: calls that reached the queue, minus short abandons (callers who hung up within
  `short_abandon_s`, usually misdials; they are counted apart and excluded everywhere else);
- service level: calls answered within `service_level_s` over offered (abandons included in
  the denominator, the stricter of the common definitions);
- ASA: mean wait of answered calls; AHT: mean talk time of answered calls (wrap-up is not yet
  measured per call);
- abandonment rate: abandoned (after the short-abandon threshold) over offered;
- timed-out calls (the PBX's hold timer) count as offered and not answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccgateway.domain.commands import Interaction, Outcome


@dataclass(frozen=True, slots=True)
class FigureRules:
    service_level_s: float = 20.0
    short_abandon_s: float = 5.0


@dataclass(slots=True)
class QueueTally:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timed_out: int = 0
    wait_answered_s: float = 0.0
    talk_s: float = 0.0
    longest_wait_answered_s: float = 0.0


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


class Figures:
    """Per-queue tallies; add each finished call once, read figures at any time."""

    def __init__(self, rules: FigureRules | None = None) -> None:
        self.rules = rules or FigureRules()
        self._tallies: dict[str, QueueTally] = {}

    def add(self, interaction: Interaction) -> None:
        if interaction.queue_id is None or interaction.outcome is Outcome.REJECTED:
            return  # never reached a queue
        tally = self._tallies.setdefault(interaction.queue_id, QueueTally())
        if (
            interaction.outcome is Outcome.ABANDONED
            and interaction.wait_s < self.rules.short_abandon_s
        ):
            tally.short_abandoned += 1
            return
        tally.offered += 1
        if interaction.outcome is Outcome.ANSWERED:
            tally.answered += 1
            tally.wait_answered_s += interaction.wait_s
            tally.talk_s += interaction.talk_s
            tally.longest_wait_answered_s = max(tally.longest_wait_answered_s, interaction.wait_s)
            if interaction.wait_s <= self.rules.service_level_s:
                tally.answered_in_time += 1
        elif interaction.outcome is Outcome.ABANDONED:
            tally.abandoned += 1
        elif interaction.outcome is Outcome.TIMED_OUT:
            tally.timed_out += 1

    def add_all(self, interactions: Iterable[Interaction]) -> None:
        for interaction in interactions:
            self.add(interaction)

    def queue(self, queue_id: str) -> QueueFigures:
        t = self._tallies.get(queue_id, QueueTally())
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
        )

    def queue_ids(self) -> list[str]:
        return sorted(self._tallies)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None
