"""What a pair's controller that lost the lease still had to write, and how the next active
takes it in (README, "High availability": "A lost lease's writes").

A controller cut off from the database alone rides on the PBXs' owner marks (services/
lease.py): it routes on, and its writes wait in its journal. When the database answers again
another holds the lease, the fence refuses those writes, and the controller exits. Before it
does (`leave`), it leaves in the database the writes it queued while it still had the right
to command and of the kinds that are facts whatever happened since (a call's record, a
dial's, a disposition, a refusal, a number put on the do-not-call list) or that the active
can judge (an agent's presence). The active takes them in (`take_in`): each written under
its own epoch, a record only for a call it has no record of, a do-not-call number put on
its live lists too, a presence asked of its centre only if that agent's presence has not
changed there since its takeover (a change made there is newer).

The others are states that replace what is stored (a callback, a task, a contact's
progress, a recording's row): the active loaded its own picture at its takeover and may
have changed it since, so an older controller's version written over it could undo a newer
one. Those are not handed over; `leave` logs how many of each were dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from ccgateway.domain.commands import RecordInteraction, SavePresence
from ccgateway.domain.outbound.commands import (
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SuppressNumber,
)
from ccgateway.ports import DatabaseUnavailable, HandoverStore
from ccgateway.services.store_writes import DurableWrite

log = logging.getLogger(__name__)

# The writes handed over: facts, each kept once however often it is written, and presences.
HANDED = (
    RecordInteraction,
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SuppressNumber,
    SavePresence,
)
TAKE_EVERY_S = 2.0
TAKE_AT_MOST = 500  # writes taken in one round


def handed(writes: Sequence[object]) -> tuple[list[DurableWrite], Counter[str]]:
    """The writes to hand over, in order, and how many of each other kind are not."""
    facts: list[DurableWrite] = []
    dropped: Counter[str] = Counter()
    for write in writes:
        if isinstance(write, HANDED):
            facts.append(write)
        else:
            dropped[type(write).__name__] += 1
    return facts, dropped


def leave(store: HandoverStore, node: str, epoch: int, unwritten: Sequence[object]) -> int:
    """As the lease is lost: the facts among `unwritten` left for the next active (blocking,
    within the store's own timeouts); how many. What is not handed over is logged."""
    facts, dropped = handed(unwritten)
    if dropped:
        log.error(
            "%s lost the lease with writes not handed over (states the next active holds "
            "its own of): %s",
            node,
            ", ".join(f"{count} {kind}" for kind, count in sorted(dropped.items())),
        )
    if not facts:
        return 0
    try:
        store.leave(node, epoch, facts)
    except Exception as exc:
        log.error("%s could not leave its %d unwritten writes: %s", node, len(facts), exc)
        return 0
    log.warning("%s left %d unwritten writes for the next active", node, len(facts))
    return len(facts)


class TakesIn(Protocol):
    """The dispatcher, as the active takes in what was left (Dispatcher.take_in)."""

    async def take_in(self, writes: Sequence[DurableWrite]) -> None: ...


async def take_in(store: HandoverStore, dispatcher: TakesIn, every_s: float = TAKE_EVERY_S) -> None:
    """The active's side, forever: every `every_s`, the writes left, written through the
    dispatcher, then forgotten (a crash between the two writes them again, which the kinds
    handed over bear). A row that cannot be read is logged (by the store) and forgotten."""
    while True:
        try:
            left = await asyncio.to_thread(store.waiting, TAKE_AT_MOST)
            if left:
                writes = [w.write for w in left if isinstance(w.write, HANDED)]
                await dispatcher.take_in(writes)
                await asyncio.to_thread(store.forget, [w.id for w in left])
                leavers = sorted({(w.node, w.epoch) for w in left})
                log.warning(
                    "took in %d writes left by %s",
                    len(writes),
                    ", ".join(f"{node} (epoch {epoch})" for node, epoch in leavers),
                )
                continue
        except DatabaseUnavailable as exc:
            log.info("the writes left for this controller wait: %s", exc)
        except Exception:
            log.exception("the writes left for this controller could not be taken in")
        await asyncio.sleep(every_s)
