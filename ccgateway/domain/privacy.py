"""A person's right to be forgotten, as far as the live centre and its records go.

Erasure (services/privacy_service.py) clears the stores; what the running centre holds of
the person is cleared here: the contacts waiting in campaigns' hoppers, queued callbacks,
the dial log and the last-agent memory. A call or dial of theirs that is live at that
moment is not cut off: it finishes, and `Redactions` makes sure nothing of the person is in
the records written when it ends. The number stays suppressed afterwards, but only as a
keyed hash (`pseudonym`): whoever reads the database cannot tell the number without the
key, which lives outside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
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
from ccgateway.domain.outbound.commands import RecordDial, RecordDisposition, SuppressNumber
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


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What the live centre let go of a person, and what of theirs is still running."""

    contacts: int = 0  # contacts taken out of campaigns' hoppers
    callbacks: frozenset[str] = frozenset()  # callbacks withdrawn or still under way
    calls: frozenset[str] = frozenset()  # live calls: they finish, unrecorded
    dials: frozenset[str] = frozenset()  # dials in flight or ended awaiting a disposition
    tasks: frozenset[str] = frozenset()  # live tasks that mention the number
    recordings: frozenset[str] = frozenset()  # of live calls: not written, files deleted


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
