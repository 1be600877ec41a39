"""The shell's side of the PBX's end marks (domain/gap.py): a call recorded once, however
often its mark is read, and the marks dropped only after the records are written."""

from __future__ import annotations

from pathlib import Path

from ccgateway.domain.commands import ForgetEndMarks
from ccgateway.domain.events import CallWaiting, ChannelHungUp, EndMark, PbxResynced
from ccgateway.domain.model import Queue
from ccgateway.ports import InteractionQuery
from tests.services.stack import Stack


async def test_marks_become_records_once_and_are_forgotten_after_the_write(
    tmp_path: Path,
) -> None:
    stack = await Stack.start(tmp_path / "db.sqlite")
    try:
        await stack.service.create_queue(Queue("support", "Support", "400", wrapup_s=0))
        # A call the controller saw end itself: recorded at its own end.
        await stack.emit(CallWaiting("seen.1", "400", "+4930"))
        await stack.advance(3.0)
        await stack.emit(ChannelHungUp("seen.1"))
        start = stack.clock.now()
        gone = EndMark("gone.1", "400", "+4931", start + 0.125, start + 9.5)
        seen = EndMark("seen.1", "400", "+4930", start - 3.0, start + 0.01)
        for _ in range(2):  # two resyncs read the same marks (the first forget is lost)
            await stack.emit(PbxResynced(ended=(gone, seen)))
            await stack.settle()
        records = stack.interactions.query(InteractionQuery())
        assert sorted((r.call_id, r.outcome.value) for r in records) == [
            ("gone.1", "abandoned"),
            ("seen.1", "abandoned"),
        ]
        [late] = [r for r in records if r.call_id == "gone.1"]
        assert (late.arrived_at, late.ended_at) == (start + 0.125, start + 9.5)
        figures = stack.dispatcher.figures.queue("support")  # each call counted once
        # seen.1 (3 s) is a short abandon of the controller's own; gone.1 (9.4 s) a real one
        assert (figures.offered, figures.abandoned, figures.short_abandoned) == (1, 1, 1)
        forgets = [c for kind, c in stack.pbx.commands if kind == "ForgetEndMarks"]
        assert forgets == [ForgetEndMarks(("gone.1", "seen.1"), "asterisk")] * 2
    finally:
        await stack.stop()


async def test_marks_read_twice_before_the_first_records_are_written_count_once(
    tmp_path: Path,
) -> None:
    """A resync during a sweep: both reads carry the same marks before either is written."""
    stack = await Stack.start(tmp_path / "db.sqlite")
    try:
        await stack.service.create_queue(Queue("support", "Support", "400", wrapup_s=0))
        start = stack.clock.now()
        gone = EndMark("gone.2", "400", "+4932", start - 20.0, start - 1.5)
        stack.pbx.emit(PbxResynced(ended=(gone,)))
        stack.pbx.emit(PbxResynced(ended=(gone,)))
        await stack.settle()
        await stack.settle()
        records = stack.interactions.query(InteractionQuery())
        assert [(r.call_id, r.outcome.value) for r in records] == [("gone.2", "abandoned")]
        assert stack.dispatcher.figures.queue("support").abandoned == 1
    finally:
        await stack.stop()
