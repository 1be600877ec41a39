"""The people a campaign calls, what they agreed to, and what has happened to them.

A `Contact` is a row of an imported list, already checked: its number in E.164, the time
zones the number may be in (a number's region can span several; the calling window must
hold in every one), its line type, its consents per purpose, and the custom fields the
agent's screen and script use. Numbers are parsed where the list is imported (the
`phonenumbers` library is an adapter's business); the core only checks the shape.

`Progress` is where the contact stands in its campaign (new, waiting for a retry or a
scheduled callback, being dialled, done) and is saved at every change. `DialLog` is the
recent history of each number across all campaigns: the per-day and per-week caps and the
lockout after an abandoned call are about the person called, not one campaign.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.calendar import zone
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.model import check_id
from ccgateway.domain.outbound.rules import Basis, LineType, Purpose

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELD_VALUE = re.compile(r"^[^\x00-\x1f\x7f]{0,500}$")
MAX_FIELDS = 40
MAX_ZONES = 64  # a toll-free NANP number may be in any of 42
WEEK_S = 7 * 86400.0


def check_e164(number: str, what: str = "number") -> str:
    if not isinstance(number, str) or not E164.fullmatch(number):
        raise InvalidValue(f"{what} {number!r} must be in E.164 form, like +442071234567")
    return number


def check_fields(fields: Mapping[str, str]) -> Mapping[str, str]:
    if len(fields) > MAX_FIELDS:
        raise InvalidValue(f"a contact has at most {MAX_FIELDS} custom fields")
    for name, value in fields.items():
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise InvalidValue(f"field name {name!r} must be 1-40 of a-z, 0-9, '_'")
        if not isinstance(value, str) or not FIELD_VALUE.fullmatch(value):
            raise InvalidValue(f"field {name}: at most 500 characters, no control characters")
    return MappingProxyType(dict(fields))


@dataclass(frozen=True, slots=True)
class Consent:
    """A lawful basis for calling the contact for one purpose, and its proof."""

    basis: Basis
    given_at: float | None = None  # epoch seconds
    source: str = ""  # where it was given: a form, a recording, a contract number

    def __post_init__(self) -> None:
        if len(self.source) > 200 or not FIELD_VALUE.fullmatch(self.source):
            raise InvalidValue("a consent's source is at most 200 characters of text")


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    list_id: str
    number: str
    time_zones: tuple[str, ...]
    line_type: LineType = LineType.UNKNOWN
    region: str = ""  # ISO 3166 country of the number ("GB")
    name: str = ""
    business: bool = False  # a business line, not a consumer
    consents: Mapping[Purpose, Consent] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0  # higher is dialled first

    def __post_init__(self) -> None:
        check_id("contact", self.id)
        check_id("list", self.list_id)
        check_e164(self.number)
        if not 1 <= len(self.time_zones) <= MAX_ZONES:
            raise InvalidValue(f"a contact has 1-{MAX_ZONES} time zones")
        for name in self.time_zones:
            zone(name)
        if self.region and not re.fullmatch(r"[A-Z]{2}", self.region):
            raise InvalidValue(f"region {self.region!r} must be a two-letter country code")
        if len(self.name) > 200 or not FIELD_VALUE.fullmatch(self.name):
            raise InvalidValue("a contact's name is at most 200 characters of text")
        if isinstance(self.priority, bool) or not -100 <= self.priority <= 100:
            raise InvalidValue("a contact's priority is -100 to 100")
        object.__setattr__(self, "consents", MappingProxyType(dict(self.consents)))
        object.__setattr__(self, "fields", check_fields(self.fields))

    def basis_for(self, purpose: Purpose) -> Consent | None:
        return self.consents.get(purpose)


@dataclass(frozen=True, slots=True)
class ContactList:
    """An imported list of a campaign's contacts."""

    id: str
    campaign_id: str
    name: str
    created_at: float
    contacts: int = 0
    rejected: int = 0
    source: str = ""  # the file it came from


class ContactState(StrEnum):
    NEW = "new"  # never dialled in this campaign
    SCHEDULED = "scheduled"  # a retry or a callback at `next_at`
    DIALING = "dialing"  # a call is out now
    DONE = "done"  # reached and disposed, or gave up: never dialled again here
    SUPPRESSED = "suppressed"  # on a do-not-call list, or objected


DIALABLE = frozenset({ContactState.NEW, ContactState.SCHEDULED})


@dataclass(frozen=True, slots=True)
class Progress:
    """A contact's place in its campaign, saved at every change."""

    contact_id: str
    campaign_id: str
    state: ContactState = ContactState.NEW
    attempts: int = 0  # dials in this campaign
    next_at: float | None = None  # not before (a retry, a callback, the window's opening)
    last_outcome: str = ""
    outcomes: Mapping[str, int] = field(default_factory=dict)  # dial outcome -> times
    callback_at: float | None = None  # a callback promised for then (next_at is it too)
    callback_agent_id: str | None = None  # None: any of the campaign's agents calls back
    dial_id: str | None = None  # the call out now (DIALING): a restart finds it in the PBX
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", MappingProxyType(dict(self.outcomes)))


@dataclass(slots=True)
class NumberHistory:
    dials: list[float] = field(default_factory=list)  # sorted, within the last week
    last_abandon_at: float | None = None


class DialLog:
    """Each number's dials over the last week and its last abandoned call, across
    campaigns: what the attempt caps and the lockout need. Loaded from the call records at
    start; kept small by forgetting what is older than a week."""

    def __init__(self) -> None:
        self._numbers: dict[str, NumberHistory] = {}

    def dialled(self, number: str, at: float) -> None:
        history = self._numbers.setdefault(number, NumberHistory())
        bisect.insort(history.dials, at)

    def abandoned(self, number: str, at: float) -> None:
        history = self._numbers.setdefault(number, NumberHistory())
        last = history.last_abandon_at
        history.last_abandon_at = at if last is None else max(last, at)

    def dials_since(self, number: str, since: float) -> int:
        history = self._numbers.get(number)
        if history is None:
            return 0
        return len(history.dials) - bisect.bisect_left(history.dials, since)

    def dial_times(self, number: str) -> list[float]:
        history = self._numbers.get(number)
        return list(history.dials) if history is not None else []

    def last_abandon(self, number: str) -> float | None:
        history = self._numbers.get(number)
        return history.last_abandon_at if history is not None else None

    def forget(self, number: str) -> None:
        """The number's history gone (its person was erased: it stays suppressed)."""
        self._numbers.pop(number, None)

    def forget_before(self, cutoff: float, keep_abandons_after: float) -> None:
        """Drop dials before `cutoff` and abandons before `keep_abandons_after`."""
        for number in list(self._numbers):
            history = self._numbers[number]
            del history.dials[: bisect.bisect_left(history.dials, cutoff)]
            last = history.last_abandon_at
            if last is not None and last < keep_abandons_after:
                history.last_abandon_at = None
            if not history.dials and history.last_abandon_at is None:
                del self._numbers[number]

    def load(self, dials: Iterable[tuple[str, float, bool]]) -> None:
        """(number, dialled at, abandoned) from the records."""
        for number, at, abandoned in dials:
            self.dialled(number, at)
            if abandoned:
                self.abandoned(number, at)

    def __len__(self) -> int:
        return len(self._numbers)
