"""Forgetting a person in the live centre: their contacts leave the hoppers, their dial in
flight finishes and is recorded without them, and nothing of theirs stays in memory."""

from __future__ import annotations

from ccgateway.domain.commands import Command, Notify
from ccgateway.domain.events import LegFailure, OutboundFailed
from ccgateway.domain.outbound.commands import RecordDial, SuppressNumber
from ccgateway.domain.privacy import Redactions, pseudonym
from tests.domain.outbound.helpers import NOON, contact, dialer_centre, dials, start


def carried_out(redactions: Redactions, out: list[Command]) -> list[Command]:
    """The commands as the dispatcher carries them out."""
    kept = [redactions.apply(c) for c in out]
    return [c for c in kept if c is not None]


def test_a_forgotten_persons_dial_in_flight_is_recorded_without_them() -> None:
    c = dialer_centre(agents=1)
    people = [contact(n) for n in range(1, 6)]
    out = start(c, people)
    [dial] = dials(out)  # progressive, one agent: one line
    state = c.outbound.state
    waiting = [e.contact.number for e in state.runs["sales"].hopper]
    assert people[3].number in waiting

    first, _ = c.forget_person(dial.number, NOON + 1)
    assert first.dials == frozenset({dial.dial_id}) and first.contacts == 0
    later, _ = c.forget_person(people[3].number, NOON + 1)
    assert later.contacts == 1 and later.dials == frozenset()
    assert people[3].number not in [e.contact.number for e in state.runs["sales"].hopper]
    assert state.log.dial_times(dial.number) == []  # the dial log forgot it

    redactions = Redactions()
    redactions.add(first)
    ended = c.handle(OutboundFailed(dial.dial_id, LegFailure.NO_ANSWER), NOON + 20)
    [record] = [x.record for x in carried_out(redactions, ended) if isinstance(x, RecordDial)]
    assert (record.number, record.contact_id, record.outcome.value) == (
        "erased",
        "erased",
        "no_answer",
    )
    notices = [x for x in carried_out(redactions, ended) if isinstance(x, Notify)]
    assert all(dial.number not in repr(n) for n in notices)


def test_redactions_leave_everything_else_as_it_is() -> None:
    c = dialer_centre(agents=1)
    out = start(c, [contact(1)])
    redactions = Redactions()
    assert not redactions
    assert carried_out(redactions, out) == out
    redactions.calls.add("c-other")
    assert carried_out(redactions, out) == out  # nothing of theirs among these
    assert redactions.apply(SuppressNumber("erased", "objection", NOON)) is None


def test_a_pseudonym_needs_the_key() -> None:
    number = "+447946000001"
    assert pseudonym(b"k1", number) == pseudonym(b"k1", number)
    assert pseudonym(b"k1", number) != pseudonym(b"k2", number)
    assert number not in pseudonym(b"k1", number) and pseudonym(b"k1", number).startswith("h:")
