"""A person's right to be forgotten, as far as the live centre and its records go.

Erasure (services/privacy_service.py) clears the stores; what the running centre holds of
the person is cleared here: the contacts waiting in campaigns' hoppers, queued callbacks,
the dial log and the last-agent memory. A call or dial of theirs that is live at that
moment is not cut off: it finishes, and `Redactions` makes sure nothing of the person is in
the records written when it ends. The number stays suppressed afterwards, but only as a
keyed hash (`pseudonym`): whoever reads the database cannot tell the number without the
key, which lives outside it.

A person is found by their number, or by a custom field of their contacts (`FieldKey`: an
e-mail address, an external id) that leads to every number they were listed under.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ccgateway.domain.commands import (
    Command,
    Notify,
    RecordInteraction,
    SaveCallback,
    SaveRecording,
    SaveTask,
)
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.commands import RecordDial, RecordDisposition, SuppressNumber
from ccgateway.domain.outbound.contacts import FIELD_NAME, FIELD_VALUE
from ccgateway.domain.outbound.records import ERASED

# The do-not-call list of erased people's numbers, held as pseudonyms.
FORGOTTEN_REGISTER = "forgotten"


def pseudonym(key: bytes, number: str) -> str:
    """The number under the key: the same number gives the same pseudonym, so it can be
    matched, and without the key it cannot be turned back into the number (a phone number
    has too few digits for a hash without a key to hide it)."""
    return "h:" + hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:30]


def mentions(number: str, title: str, data: Mapping[str, str]) -> bool:
    """Whether a task's title or data carries the number (tasks have no number field)."""
    return number in title or any(number in k or number in v for k, v in data.items())


# An e-mail address as people write it: something@domain.tld, no spaces (RFC 5321's 254).
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


@dataclass(frozen=True, slots=True)
class FieldKey:
    """A custom field of contacts and its value: who holds it, in any list, is the person.

    Contacts keep the columns of their list beyond the known ones as custom fields
    (`Contact.fields`), so an `email` or `external_id` column is one of them. An e-mail
    address is matched whatever its case (people and lists write it either way); any
    other value exactly."""

    name: str
    value: str

    @property
    def is_email(self) -> bool:
        return self.name == "email"

    def matches(self, fields: Mapping[str, str]) -> bool:
        held = fields.get(self.name)
        if held is None:
            return False
        return held.strip().lower() == self.value if self.is_email else held == self.value

    @property
    def label(self) -> str:
        """What the key's pseudonym is taken of (no number has a ':', so none collides)."""
        return f"{self.name}:{self.value}"


def field_key(name: str, value: str) -> FieldKey:
    """The key checked: a field name as a list's column names it, a value a contact can
    hold; an e-mail address lower-cased."""
    if not FIELD_NAME.fullmatch(name):
        raise InvalidValue(
            f"field {name!r} must be a contact list's custom column: 1-40 of a-z, 0-9, '_', "
            "starting with a letter"
        )
    if not value.strip() or not FIELD_VALUE.fullmatch(value):
        raise InvalidValue(
            f"the value of field {name} must be 1-500 characters, not only spaces, and no "
            "control characters"
        )
    if name != "email":
        return FieldKey(name, value)
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        raise InvalidValue(f"email {value!r} must be an e-mail address, like ann@example.org")
    return FieldKey(name, email)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What the live centre let go of a person, and what of theirs is still running."""

    contacts: int = 0  # contacts taken out of campaigns' hoppers
    callbacks: frozenset[str] = frozenset()  # callbacks withdrawn or still under way
    calls: frozenset[str] = frozenset()  # live calls: they finish, unrecorded
    dials: frozenset[str] = frozenset()  # dials in flight or ended awaiting a disposition
    tasks: frozenset[str] = frozenset()  # live tasks that mention the number
    recordings: frozenset[str] = frozenset()  # of live calls: not written, files deleted

    def __or__(self, other: Forgotten) -> Forgotten:
        """What the centre let go of two numbers of one person."""
        return Forgotten(
            self.contacts + other.contacts,
            self.callbacks | other.callbacks,
            self.calls | other.calls,
            self.dials | other.dials,
            self.tasks | other.tasks,
            self.recordings | other.recordings,
        )


@dataclass(slots=True)
class Redactions:
    """The records of live work of erased people, written without the person when the work
    ends: interactions and dials carry `ERASED` instead of the number, dispositions lose
    their answers and notes, callbacks and tasks are not written at all (their rows are
    gone already)."""

    calls: set[str] = field(default_factory=set)
    dials: set[str] = field(default_factory=set)
    callbacks: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    recordings: set[str] = field(default_factory=set)

    def add(self, forgotten: Forgotten) -> None:
        self.calls |= forgotten.calls
        self.dials |= forgotten.dials
        self.callbacks |= forgotten.callbacks
        self.tasks |= forgotten.tasks
        self.recordings |= forgotten.recordings

    def __bool__(self) -> bool:
        return bool(self.calls or self.dials or self.callbacks or self.tasks or self.recordings)

    def apply(self, command: Command) -> Command | None:
        """The command as it may be carried out: redacted, dropped (None), or as it was."""
        match command:
            case RecordInteraction(interaction=i) if self._live_work(i.call_id):
                return RecordInteraction(dataclasses.replace(i, caller_number=ERASED))
            case RecordDial(record=r) if r.id in self.dials:
                return RecordDial(
                    dataclasses.replace(r, number=ERASED, contact_id=ERASED, detail="")
                )
            case RecordDisposition(record=d) if d.dial_id in self.dials:
                redacted = dataclasses.replace(d, contact_id=ERASED, answers={}, note="")
                return RecordDisposition(redacted)
            case SaveCallback(callback=c) if c.id in self.callbacks:
                return None
            case SaveTask(task=t) if t.id in self.tasks:
                return None
            case SaveRecording(recording=r) if r.id in self.recordings:
                return None
            case SuppressNumber(number=number) if number == ERASED:
                return None  # a late "do not call" disposition: the pseudonym suppresses it
            case Notify(topic=topic, data=data) if self._about(data):
                return Notify(topic, _without_person(data))
        return command

    def _live_work(self, item_id: str) -> bool:
        return item_id in self.calls or item_id in self.callbacks or item_id in self.tasks

    def _about(self, data: Mapping[str, object]) -> bool:
        """Whether a notice is about live work of an erased person (by its ids)."""
        call_id = data.get("call_id")
        return (
            (call_id is not None and (self._live_work(str(call_id)) or call_id in self.dials))
            or data.get("dial_id") in self.dials
            or data.get("callback_id") in self.callbacks
            or data.get("task_id") in self.tasks
        )


# A notice's fields that carry the person, and what stands in for them.
_PERSONAL = {"caller_number": ERASED, "number": ERASED, "caller_name": "", "name": ""}


def _without_person(data: Mapping[str, object]) -> dict[str, object]:
    kept: dict[str, object] = {}
    for key, value in data.items():
        if key in _PERSONAL:
            kept[key] = _PERSONAL[key]
        elif key == "fields":
            kept[key] = {}
        elif isinstance(value, Mapping):
            kept[key] = _without_person(value)
        else:
            kept[key] = value
    return kept
