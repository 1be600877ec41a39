"""Calls that ended while no controller listened: recorded from the PBX's own end marks.

Live call state is never stored (ARCHITECTURE.md, "What survives what"), so a controller
that restarts (or takes over) knows nothing of the callers that hung up meanwhile. The PBX
does: its dialplan notes every caller's end (`EndMark`) and every agent leg's
(`LegEndMark`), with the PBX's own times. At a resync the centre turns each mark of a call
it does not hold into the record the call would have had, with those times:

- bridged to an agent leg at the end: answered, from the leg's answer to the caller's end;
- sent to the PBX's fallback (its hold timer ran out): timed out;
- otherwise the caller hung up waiting: abandoned.

A record of that call already in the store wins (the shell checks, `CloseGap`): a call the
controller recorded itself is never written twice. Marks of calls the centre still holds
are left for the centre's own end (reconcile.py ends them) and a later resync.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ccgateway.domain.commands import CloseGap, Command, Interaction, Outcome
from ccgateway.domain.directory import Directory
from ccgateway.domain.events import EndMark, EndMarksRead, LegEndMark, PbxResynced

GAP_DETAIL = "ended while no controller ran"
ORPHAN_AFTER_S = 3600.0


def close_gap(
    marks: PbxResynced | EndMarksRead,
    held: Collection[str],
    directory: Directory,
    pbx: str,
    now: float,
) -> list[Command]:
    """One `CloseGap` for the marks of calls neither held by the centre (`held`) nor still
    up in the PBX; nothing when there are none. Agent legs' marks whose caller left none
    (a campaign's call: the dialer settles those) are dropped once `ORPHAN_AFTER_S` old."""
    present = (
        {caller.call_id for caller in marks.callers} if isinstance(marks, PbxResynced) else set()
    )
    legs = {leg.leg_id: leg for leg in marks.ended_legs}
    closed = [
        mark for mark in marks.ended if mark.call_id not in held and mark.call_id not in present
    ]
    callers = {mark.call_id for mark in marks.ended}
    orphans = {
        leg.caller_id
        for leg in marks.ended_legs
        if leg.caller_id not in callers and leg.ended_at < now - ORPHAN_AFTER_S
    }
    if not closed and not orphans:
        return []
    records = tuple(record_of(mark, legs, directory, pbx) for mark in closed)
    forget = tuple(mark.call_id for mark in closed) + tuple(sorted(orphans))
    return [CloseGap(records, forget, pbx)]


def record_of(
    mark: EndMark, legs: Mapping[str, LegEndMark], directory: Directory, pbx: str
) -> Interaction:
    """The record of one caller's end as the PBX noted it."""
    queue = directory.queue_for_extension(mark.extension, pbx)
    leg = legs.get(mark.agent_leg) if mark.agent_leg else None
    answered_at: float | None = None
    agent_id: str | None = None
    if mark.agent_leg:
        outcome = Outcome.ANSWERED
        if leg is not None:
            answered_at = min(max(leg.answered_at, mark.arrived_at), mark.ended_at)
            agent = directory.agent_for_device(leg.device, leg.device_pbx or pbx)
            agent_id = agent.id if agent is not None else None
    elif mark.fallback:
        outcome = Outcome.TIMED_OUT
    else:
        outcome = Outcome.ABANDONED
    waited_until = answered_at if answered_at is not None else mark.ended_at
    return Interaction(
        call_id=mark.call_id,
        queue_id=queue.id if queue is not None else None,
        agent_id=agent_id,
        caller_number=mark.caller_number,
        outcome=outcome,
        arrived_at=mark.arrived_at,
        answered_at=answered_at,
        ended_at=mark.ended_at,
        wait_s=round(max(waited_until - mark.arrived_at, 0.0), 3),
        talk_s=round(mark.ended_at - answered_at, 3) if answered_at is not None else 0.0,
        offers=1 if mark.agent_leg else 0,
        detail=GAP_DETAIL,
    )
