"""Expected wait of a caller in a queue, from what the queue is doing now.

A plain average of past waits answers "how long did callers wait", not "how long will *this*
caller wait": it ignores how many are ahead and how fast the queue is moving right now. This
is the queue-length predictor with abandonment (Whitt, "Predicting queueing delays", 1999;
Ibrahim and Whitt 2009 show it beats averages and last-to-enter-service delays when its
rates are known): a caller with k callers ahead leaves the queue after k+1 "moves", and
while j callers are ahead the next move comes at rate r + j·θ, where r is the rate at which
agents take callers from the queue while it is backlogged and θ the rate at which one
waiting caller gives up. So

    E[wait | k ahead] = sum over j = 0..k of 1 / (r + j·θ)

Both rates are measured on this queue, with exponential forgetting (`memory_s`): r counts
callers taken by agents after waiting (the queue was backlogged) over the time the queue had
callers waiting; θ counts abandons over the total time callers spent waiting. Measuring r on
the queue itself, rather than as agents x 1/handle time, accounts for agents shared with
other queues and for priorities between queues.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_DEPARTURES = 3.0  # below this (decayed) count the service rate is not known yet


@dataclass(slots=True)
class _Rates:
    at: float = 0.0  # when the accumulators were last decayed
    waiting: int = 0  # callers waiting right now
    backlog_s: float = 0.0  # time with at least one caller waiting
    taken: float = 0.0  # callers taken by an agent after waiting
    wait_s: float = 0.0  # caller-seconds of waiting
    abandons: float = 0.0


class WaitEstimator:
    def __init__(self, memory_s: float = 3600.0) -> None:
        self.memory_s = memory_s
        self._queues: dict[str, _Rates] = {}

    def joined(self, queue_id: str, now: float) -> None:
        """A caller started waiting in the queue."""
        rates = self._advance(queue_id, now)
        rates.waiting += 1

    def left(self, queue_id: str, now: float, *, abandoned: bool = False) -> None:
        """A caller stopped waiting: offered to an agent, hung up (`abandoned`), moved, sent
        on or called back."""
        rates = self._advance(queue_id, now)
        rates.waiting = max(0, rates.waiting - 1)
        if abandoned:
            rates.abandons += 1.0

    def taken(self, queue_id: str, now: float, waited_s: float) -> None:
        """An agent answered a caller of the queue; one who waited (the queue was backlogged,
        not an agent already free) is a departure at the queue's service rate."""
        rates = self._advance(queue_id, now)
        if waited_s >= 1.0:
            rates.taken += 1.0

    def expected_wait(self, queue_id: str, ahead: int, now: float) -> float | None:
        """Seconds until a caller with `ahead` callers before them is taken, or None while
        the queue's service rate is not known."""
        rates = self._advance(queue_id, now)
        if rates.taken < MIN_DEPARTURES or rates.backlog_s <= 0.0:
            return None
        service = rates.taken / rates.backlog_s
        patience = rates.abandons / rates.wait_s if rates.wait_s > 0.0 else 0.0
        return sum(1.0 / (service + j * patience) for j in range(ahead + 1))

    def service_rate(self, queue_id: str, now: float) -> float | None:
        rates = self._advance(queue_id, now)
        return rates.taken / rates.backlog_s if rates.backlog_s > 0.0 else None

    def _advance(self, queue_id: str, now: float) -> _Rates:
        """Bring the queue's accumulators to `now`: add the time just past, then forget."""
        rates = self._queues.get(queue_id)
        if rates is None:
            rates = self._queues[queue_id] = _Rates(at=now)
        spent = now - rates.at
        if spent <= 0.0:
            return rates
        if rates.waiting:
            rates.backlog_s += spent
            rates.wait_s += spent * rates.waiting
        keep = math.exp(-spent / self.memory_s)
        rates.backlog_s *= keep
        rates.taken *= keep
        rates.wait_s *= keep
        rates.abandons *= keep
        rates.at = now
        return rates
