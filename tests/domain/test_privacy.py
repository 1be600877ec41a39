"""Forgetting a person in the live centre: their contacts leave the hoppers, their dial in
flight finishes and is recorded without them, and nothing of theirs stays in memory; a
person found by a field of their contacts (an e-mail address, an external id)."""

from __future__ import annotations

import pytest

from ccgateway.domain.commands import Command, Notify
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.events import LegFailure, OutboundFailed
from ccgateway.domain.outbound.commands import RecordDial, SuppressNumber
from ccgateway.domain.privacy import FieldKey, Forgotten, Redactions, field_key, pseudonym
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


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("email", "  Ann.OBrien@Example.ORG ", FieldKey("email", "ann.obrien@example.org")),
        ("external_id", "CRM-7", FieldKey("external_id", "CRM-7")),
        ("external_id", " crm 7", FieldKey("external_id", " crm 7")),  # exact, as held
        ("order", "Zoë_%1", FieldKey("order", "Zoë_%1")),
    ],
)
def test_a_field_key_is_checked_and_an_email_lower_cased(
    name: str, value: str, expected: FieldKey
) -> None:
    assert field_key(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Email", "a@b.c", "custom column"),
        ("e-mail", "a@b.c", "custom column"),
        ("1st", "x", "custom column"),
        ("x" * 41, "x", "custom column"),
        ("external_id", "   ", "not only spaces"),
        ("external_id", "", "not only spaces"),
        ("external_id", "a\nb", "control characters"),
        ("external_id", "x" * 501, "1-500"),
        ("email", "ann", "e-mail address"),
        ("email", "ann@example", "e-mail address"),
        ("email", "ann @example.org", "e-mail address"),
        ("email", "a@b@example.org", "e-mail address"),
        ("email", "a" * 65 + "@example.org", "e-mail address"),
    ],
)
def test_a_bad_field_key_is_refused_with_its_reason(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        field_key(name, value)


def test_a_field_key_matches_an_email_in_any_case_and_anything_else_exactly() -> None:
    email = field_key("email", "ann@example.org")
    assert email.matches({"email": "Ann@Example.ORG"})
    assert email.matches({"email": " ann@example.org "})
    assert not email.matches({"email": "xann@example.org"})
    assert not email.matches({"referrer": "ann@example.org"})  # another field: someone else
    crm = field_key("external_id", "CRM-7")
    assert crm.matches({"external_id": "CRM-7", "email": "x@y.z"})
    assert not crm.matches({"external_id": "crm-7"})
    assert not crm.matches({"external_id": "CRM-77"})
    assert crm.label == "external_id:CRM-7" and email.label == "email:ann@example.org"


def test_what_the_centre_let_go_of_two_numbers_adds_up() -> None:
    one = Forgotten(1, frozenset({"cb1"}), frozenset({"c1"}), frozenset(), frozenset({"t1"}))
    two = Forgotten(2, frozenset({"cb2"}), frozenset(), frozenset({"d2"}), frozenset({"t1"}))
    assert one | two == Forgotten(
        3,
        frozenset({"cb1", "cb2"}),
        frozenset({"c1"}),
        frozenset({"d2"}),
        frozenset({"t1"}),
    )
    assert Forgotten() | one == one
