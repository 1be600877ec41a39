"""Calls that ended while no controller ran, recorded from the PBX's end marks (gap.py)."""

from __future__ import annotations

import pytest

from ccgateway.domain.commands import CloseGap, Command, Outcome, RecordInteraction
from ccgateway.domain.events import (
    CallerChannel,
    CallWaiting,
    EndMark,
    EndMarksRead,
    LegEndMark,
    PbxResynced,
)
from ccgateway.domain.gap import GAP_DETAIL
from ccgateway.domain.model import Queue
from tests.domain.builders import agent, centre

SUPPORT = Queue("support", "Support", "400", {"en": 1}, wrapup_s=0)
ARRIVED, ANSWERED, ENDED = 1000.123456, 1004.250001, 1031.5


def gap_of(commands: list[Command]) -> CloseGap:
    [gap] = [c for c in commands if isinstance(c, CloseGap)]
    return gap


def caller(call_id: str = "1700.1", **fields: object) -> EndMark:
    values: dict[str, object] = {
        "extension": "400",
        "caller_number": "+4930400001",
        "arrived_at": ARRIVED,
        "ended_at": ENDED,
    }
    values.update(fields)
    return EndMark(call_id, **values)  # type: ignore[arg-type]


LEG = LegEndMark("ccgw-leg-1", "1700.1", "PJSIP/a1", ANSWERED, ENDED + 0.01)


@pytest.mark.parametrize(
    ("mark", "legs", "outcome", "agent_id", "answered_at", "talk_s", "wait_s"),
    [
        (caller(agent_leg=LEG.leg_id), (LEG,), Outcome.ANSWERED, "a1", ANSWERED, 27.25, 4.127),
        (caller(), (), Outcome.ABANDONED, None, None, 0.0, 31.377),
        (caller(fallback=True), (), Outcome.TIMED_OUT, None, None, 0.0, 31.377),
        # the leg's own mark is missing: answered, by nobody the PBX named
        (caller(agent_leg=LEG.leg_id), (), Outcome.ANSWERED, None, None, 0.0, 31.377),
    ],
)
def test_each_mark_becomes_the_record_the_call_would_have_had(
    mark: EndMark,
    legs: tuple[LegEndMark, ...],
    outcome: Outcome,
    agent_id: str | None,
    answered_at: float | None,
    talk_s: float,
    wait_s: float,
) -> None:
    c = centre(agent("a1", {"en": 5}), queues=(SUPPORT,), skills="en")
    gap = gap_of(c.handle(PbxResynced(ended=(mark,), ended_legs=legs), 2000.0))
    [record] = gap.records
    assert (record.call_id, record.queue_id, record.outcome) == ("1700.1", "support", outcome)
    assert (record.agent_id, record.answered_at) == (agent_id, answered_at)
    assert (record.arrived_at, record.ended_at) == (ARRIVED, ENDED)  # the PBX's, not "now"
    assert (record.talk_s, record.wait_s) == (talk_s, wait_s)
    assert record.caller_number == "+4930400001" and record.detail == GAP_DETAIL
    assert gap.forget == ("1700.1",)


def test_calls_still_up_or_held_by_the_centre_are_left_to_it() -> None:
    """A caller still in the PBX (a requeued one has a mark of its agent leg's end) and a
    caller the centre holds (reconcile.py ends it) get no record from a mark."""
    c = centre(agent("a1", {"en": 5}), queues=(SUPPORT,), skills="en")
    c.handle(CallWaiting("held.1", "400", "+49301"), 10.0)
    snapshot = PbxResynced(
        callers=(CallerChannel("up.1", "400", 3.0),),
        ended=(caller("up.1"), caller("held.1"), caller("gone.1")),
    )
    out = c.handle(snapshot, 20.0)
    assert [r.call_id for r in gap_of(out).records] == ["gone.1"]
    assert gap_of(out).forget == ("gone.1",)
    ended = [c.interaction for c in out if isinstance(c, RecordInteraction)]
    assert [(r.call_id, r.ended_at) for r in ended] == [("held.1", 20.0)]  # reconcile's own


def test_no_marks_no_gap() -> None:
    c = centre(queues=(SUPPORT,), skills="en")
    assert not [x for x in c.handle(PbxResynced(), 5.0) if isinstance(x, CloseGap)]


def test_a_sweep_while_linked_closes_what_the_centre_no_longer_holds_and_drops_orphans() -> None:
    """While the link is up the marks are read again (EndMarksRead): a call the centre
    holds is left alone; an agent leg's mark whose caller left none (a campaign's call) is
    dropped once an hour old, without a record."""
    c = centre(agent("a1", {"en": 5}), queues=(SUPPORT,), skills="en")
    c.handle(CallWaiting("held.1", "400", "+49301"), 10.0)
    old = LegEndMark("ccgw-leg-9", "ob-7", "PJSIP/a1", 5.0, 10.0)
    young = LegEndMark("ccgw-leg-8", "ob-8", "PJSIP/a1", 3000.0, 3500.0)
    marks = EndMarksRead(ended=(caller("held.1"), caller("gone.1")), ended_legs=(old, young))
    gap = gap_of(c.handle(marks, 3700.0))
    assert [r.call_id for r in gap.records] == ["gone.1"]
    assert gap.forget == ("gone.1", "ob-7")
    assert "held.1" in c.calls  # a mark never ends a call the centre holds
