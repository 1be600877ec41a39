"""A person's rights over their data: erasure (GDPR art. 17), access (art. 15) and
objection (art. 21).

An erasure runs in two steps that together leave nothing of the person: in the dispatcher's
turn, the live centre lets go of them (Center.forget_person) and the live work of theirs is
marked for redaction, so that nothing written from then on carries them; then, in the
writer after every write queued before it, one transaction clears the stores and writes the
audit entry (persistence/privacy_store.py). The answer is a receipt of what went from each
store, what was kept and why. A person is found by a number, a campaign's contact, or a
custom field of their contacts (an e-mail address, an external id), which leads to every
number they were listed under: each is erased, in the same transaction. An objection is
the do-not-call list's (DialerService.suppress), audited. Who may ask is the API's rule
(admins alone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.domain.privacy import FieldKey, Forgotten, field_key, pseudonym
from ccgateway.ports import (
    AuditEntry,
    Clock,
    Objection,
    OutboundStore,
    PrivacyStore,
    RecordingFileStore,
)
from ccgateway.services.dialer_service import DialerService
from ccgateway.services.dispatcher import Dispatcher
from ccgateway.services.history_service import check_number
from ccgateway.services.retention_service import RetentionService


@dataclass(frozen=True, slots=True)
class Kept:
    what: str
    form: str
    why: str


# What an erasure keeps, in what form, and why (the receipt says it every time).
KEPT = (
    Kept(
        "do-not-call",
        "the number as a keyed hash (HMAC-SHA-256 under the privacy key, which is not in the "
        "database) on the 'forgotten' list",
        "no campaign may call the person again: an erasure is an objection too",
    ),
    Kept(
        "finished calls, dials, dispositions and refusals",
        "their times, outcomes, queues, campaigns and agents, with 'erased' for the number "
        "and contact id, and no script answers or notes",
        "the abandon-rate ledgers and the reports count them, and the law wants the counts",
    ),
    Kept(
        "contact lists and today's figures",
        "the lists' names and counts (less the person's contacts); figures as counts only",
        "they hold nobody: they describe lists and queues",
    ),
    Kept(
        "the audit log",
        "this erasure, under the keyed hash of the number (or of the field that found it), "
        "and earlier exports and objections under the same hash",
        "proof that the request was carried out, and by whom",
    ),
    Kept(
        "backups and the PBX's own logs",
        "untouched",
        "outside ccgateway: they age out under their own retention",
    ),
    Kept(
        "the queue_log file",
        "untouched",
        "an append-only feed for app_queue's reporting tools: logrotate ages it out (README)",
    ),
    Kept(
        "copies handed out before",
        "untouched: exports downloaded, events clients of the event stream already received, "
        "the controller's own log output, webhooks delivered before",
        "beyond ccgateway's reach: their holders must be told",
    ),
)


@dataclass(frozen=True, slots=True)
class Store:
    """One place a person's data is held, and what an erasure does there."""

    name: str  # the key of `Receipt.erased`, or of the live parts below
    action: str  # deleted | kept without the person | replaced by the keyed hash | ...
    what: str


DELETED, ANONYMISED = "deleted", "kept without the person"
STORES = (
    Store("contacts", DELETED, "their contacts in every campaign's lists, with their fields"),
    Store("callbacks", DELETED, "callbacks to the number, queued or past"),
    Store("notes", DELETED, "agents' notes on the number or on its dials"),
    Store("tasks", DELETED, "tasks whose title or data mention the number"),
    Store("interactions", ANONYMISED, "finished calls: 'erased' for the number, no detail"),
    Store("dial_records", ANONYMISED, "dials: 'erased' for the number and contact id"),
    Store("dispositions", ANONYMISED, "dispositions: no contact id, script answers or note"),
    Store("refusals", ANONYMISED, "refused dials: 'erased' for the number and contact id"),
    Store("recordings", DELETED, "recordings of their calls: the rows"),
    Store("recording_files", DELETED, "the recordings' audio files"),
    Store(
        "webhook_deliveries",
        DELETED,
        "webhook deliveries naming the number, pending, delivered or dead-lettered",
    ),
    Store("queue_log", ANONYMISED, "the queue_log table: the caller's number and name blanked"),
    Store(
        "suppressions",
        "replaced by the keyed hash",
        "the number's listings on do-not-call lists; its keyed hash on the 'forgotten' list",
    ),
    Store("events", DELETED, "events about them in the history an event stream resumes from"),
)


# The stores whose rows an erasure counts (the others are the files and the event history).
ROW_STORES = tuple(s.name for s in STORES if s.name not in ("recording_files", "events"))


@dataclass(frozen=True, slots=True)
class StoreErased:
    store: Store
    rows: int


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a request is about: a number, a campaign's contact (its number is used), or a
    custom field of contacts (`email`, `external_id`, or any `field` with its `value`),
    which leads to the number of every contact holding it."""

    number: str | None = None
    campaign_id: str | None = None
    contact_id: str | None = None
    email: str | None = None
    external_id: str | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A subject found: their numbers, how they were found, and what legal holds to check
    ((number, "campaign:contact" or None) pairs)."""

    numbers: tuple[str, ...]
    found_by: str  # number | contact | field:<name>
    key: FieldKey | None = None
    holds: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    subject: str  # the pseudonym: the receipt is stored nowhere, but may be logged
    at: float
    erased: dict[str, int]  # per store, summed over the numbers
    live: Forgotten
    events: int
    files: int = 0  # recordings' files deleted
    found_by: str = "number"
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)  # pseudonym -> erased
    kept: tuple[Kept, ...] = KEPT

    @property
    def stores(self) -> list[StoreErased]:
        """Every store, with what an erasure does there and how many rows it did it to."""
        rows = {**self.erased, "recording_files": self.files, "events": self.events}
        return [StoreErased(s, rows.get(s.name, 0)) for s in STORES]


@dataclass(frozen=True, slots=True)
class Export:
    number: str | None  # the one number asked about; None when found by a field
    at: float
    data: dict[str, list[dict[str, object]]]
    numbers: tuple[str, ...] = ()
    found_by: str = "number"
    objections: tuple[Objection, ...] = ()


class NoPrivacyKey(RuntimeError):
    """Erasure needs the privacy key, and none is configured."""


DEFAULT_OBJECTION = "objection (GDPR art. 21)"
SUBJECTS = (
    "a number, a campaign_id with a contact_id, an email, an external_id, or a field with its value"
)


class PrivacyService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: PrivacyStore,
        outbound: OutboundStore,
        key: bytes | None,
        clock: Clock,
        holds: RetentionService | None = None,
        files: RecordingFileStore | None = None,
        dialer: DialerService | None = None,
    ) -> None:
        """`holds` refuses the erasure of a person under a legal hold; `files` is where
        their recordings' files are deleted; `dialer` records objections (without it,
        one on the same dispatcher and store)."""
        self._dispatcher = dispatcher
        self._holds = holds
        self._files = files
        self._store = store
        self._outbound = outbound
        self._key = key
        self._clock = clock
        self._dialer = dialer or DialerService(dispatcher, outbound, clock)

    async def find(self, subject: Subject) -> Person:
        """The subject checked (exactly one kind), and their numbers."""
        kind = _kind(subject)
        if kind == "number":
            assert subject.number is not None
            number = check_number(subject.number)
            return Person((number,), "number", holds=((number, None),))
        if kind == "contact":
            return await self._contact(subject)
        key = _field_key(subject)
        await self._dispatcher.drain_writes()  # a list imported just before is found too
        holding = await asyncio.to_thread(self._store.contacts_holding, key)
        numbers = tuple(dict.fromkeys(number for _, _, number in holding))
        holds = tuple((number, f"{c}:{contact}") for c, contact, number in holding)
        return Person(numbers, f"field:{key.name}", key, holds)

    async def _contact(self, subject: Subject) -> Person:
        if subject.campaign_id is None or subject.contact_id is None:
            raise InvalidValue("give a campaign_id with a contact_id")
        found = await asyncio.to_thread(
            self._outbound.contact, subject.campaign_id, subject.contact_id
        )
        if found is None:
            raise NotFound(f"campaign {subject.campaign_id} has no contact {subject.contact_id!r}")
        number = found[0].number
        hold = f"{subject.campaign_id}:{subject.contact_id}"
        return Person((number,), "contact", holds=((number, hold),))

    async def erase(self, subject: Subject, actor: str) -> Receipt:
        """Everything about the person erased, each of their numbers, in one transaction;
        what of theirs is live finishes unrecorded. Nothing is done if any of them is
        under a legal hold."""
        if self._key is None:
            raise NoPrivacyKey(
                "erasure needs a privacy key: set CCGW_PRIVACY__KEY or privacy.key_file"
            )
        key = self._key
        person = await self.find(subject)
        if self._holds is not None:
            for number, contact in person.holds:
                await self._holds.check_not_held(number, contact)
        keyed = {number: pseudonym(key, number) for number in person.numbers}
        subject_keyed = pseudonym(key, person.key.label) if person.key else keyed[person.numbers[0]]
        live, events = await self._forget(person)
        at = self._clock.now()

        def erase() -> tuple[dict[str, dict[str, int]], list[str]]:
            files = [f for number in person.numbers for f in self._store.recording_files(number)]
            if person.key is None:
                [(number, hashed)] = keyed.items()
                return {hashed: self._store.erase(number, hashed, at, actor)}, files
            found = self._store.erase_found(keyed, person.found_by, subject_keyed, at, actor)
            return found, files

        erased, files = await self._dispatcher.write(erase)
        deleted = 0
        if self._files is not None:  # the rows are gone: the files go after them
            files += [f"{recording_id}.wav" for recording_id in live.recordings]
            deleted = await asyncio.to_thread(self._files.delete, files)
        return Receipt(
            subject_keyed,
            at,
            _summed(erased.values()),
            live,
            events,
            deleted,
            person.found_by,
            erased,
        )

    async def _forget(self, person: Person) -> tuple[Forgotten, int]:
        """The live centre lets go of every number of the person, in one turn."""
        dispatcher = self._dispatcher

        async def forget(center: Center, now: float) -> tuple[tuple[Forgotten, int], list[Command]]:
            forgotten, events, out = Forgotten(), 0, list[Command]()
            for number in person.numbers:
                theirs, commands = center.forget_person(number, now)
                forgotten, out = forgotten | theirs, out + commands
                events += dispatcher.hub.forget(number)
            if person.key is not None and person.key.is_email:
                events += dispatcher.hub.forget(person.key.value)
            dispatcher.redactions.add(forgotten)
            return (forgotten, events), out

        return await dispatcher.perform(forget)

    async def export(self, subject: Subject, actor: str) -> Export:
        """Every row held about the person (each of their numbers), after every write
        queued so far; audited."""
        await self._dispatcher.drain_writes()
        person = await self.find(subject)
        at = self._clock.now()
        data, objections = await asyncio.to_thread(self._export, person.numbers)
        held = sum(len(rows) for rows in data.values())
        if person.key is None:
            entry = AuditEntry(
                at, actor, "export", self._subject(person.numbers[0]), f"{held} rows"
            )
        else:
            detail = f"{held} rows of {len(person.numbers)} numbers found by {person.found_by}"
            entry = AuditEntry(at, actor, "export", self._subject(person.key.label), detail)
        await self._dispatcher.write(lambda: self._store.add_audit(entry))
        number = person.numbers[0] if person.key is None else None
        return Export(number, at, data, person.numbers, person.found_by, objections)

    def _export(
        self, numbers: Iterable[str]
    ) -> tuple[dict[str, list[dict[str, object]]], tuple[Objection, ...]]:
        """Each number's rows, by kind (a row two numbers share, once), and objections."""
        merged: dict[str, list[dict[str, object]]] = {kind: [] for kind in ROW_STORES}
        seen: set[tuple[str, tuple[tuple[str, object], ...]]] = set()
        objections: list[Objection] = []
        for number in numbers:
            objections += self._store.objections(1, 0, number)
            for kind, rows in self._store.export(number).items():
                kept = merged.setdefault(kind, [])
                for row in rows:
                    if (kind, tuple(row.items())) not in seen:
                        seen.add((kind, tuple(row.items())))
                        kept.append(row)
        return merged, tuple(objections)

    async def object(self, number: str, reason: str | None, actor: str) -> tuple[Objection, bool]:
        """An objection (art. 21): the number on the internal do-not-call list, through
        the dialer's own path (no campaign dials it from now on, even those loaded);
        audited. The listing as it stands (an earlier one keeps its reason and time), and
        whether it is new."""
        added = await self._dialer.suppress([number], reason or DEFAULT_OBJECTION)
        at = self._clock.now()
        detail = "internal do-not-call list" + ("" if added else " (listed already)")
        entry = AuditEntry(at, actor, "objection", self._subject(number), detail)
        await self._dispatcher.write(lambda: self._store.add_audit(entry))
        [listed] = await asyncio.to_thread(self._store.objections, 1, 0, number)
        return listed, bool(added)

    async def objections(self, limit: int, offset: int, number: str | None) -> list[Objection]:
        """The objections, newest first (after every write queued so far)."""
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.objections, limit, offset, number)

    async def audit(self, limit: int, offset: int) -> list[AuditEntry]:
        return await asyncio.to_thread(self._store.audit, limit, offset)

    def _subject(self, text: str) -> str:
        return pseudonym(self._key, text) if self._key is not None else "(no privacy key)"


def _kind(subject: Subject) -> str:
    """Which kind of subject this is: exactly one must be given."""
    given = {
        "number": subject.number is not None,
        "contact": subject.campaign_id is not None or subject.contact_id is not None,
        "email": subject.email is not None,
        "external_id": subject.external_id is not None,
        "field": subject.field is not None or subject.value is not None,
    }
    kinds = [kind for kind, present in given.items() if present]
    if not kinds:
        raise InvalidValue(f"give whom it is about: {SUBJECTS}")
    if len(kinds) > 1:
        named = " and ".join("campaign_id/contact_id" if k == "contact" else k for k in kinds)
        raise InvalidValue(f"give one subject only, not {named}: {SUBJECTS}")
    return kinds[0]


def _field_key(subject: Subject) -> FieldKey:
    if subject.email is not None:
        return field_key("email", subject.email)
    if subject.external_id is not None:
        return field_key("external_id", subject.external_id)
    if subject.field is None or subject.value is None:
        raise InvalidValue("give a field (a contact list's custom column) with its value")
    return field_key(subject.field, subject.value)


def _summed(per_number: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(ROW_STORES, 0)
    for erased in per_number:
        for store, rows in erased.items():
            total[store] = total.get(store, 0) + rows
    return total
