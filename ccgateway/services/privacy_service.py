"""A person's rights over their data: erasure (GDPR art. 17) and access (art. 15).

An erasure runs in two steps that together leave nothing of the person: in the dispatcher's
turn, the live centre lets go of them (Center.forget_person) and the live work of theirs is
marked for redaction, so that nothing written from then on carries them; then, in the
writer after every write queued before it, one transaction clears the stores and writes the
audit entry (persistence/privacy_store.py). The answer is a receipt of what went, what was
kept and why. Who may ask is the API's rule (admins alone).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.domain.privacy import Forgotten, pseudonym
from ccgateway.ports import AuditEntry, Clock, OutboundStore, PrivacyStore, RecordingFileStore
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
        "the audit log",
        "this erasure, under the keyed hash of the number",
        "proof that the request was carried out, and by whom",
    ),
    Kept(
        "backups and the PBX's own logs",
        "untouched",
        "outside ccgateway: they age out under their own retention",
    ),
)


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a request is about: a number, or a campaign's contact (its number is used)."""

    number: str | None = None
    campaign_id: str | None = None
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    subject: str  # the pseudonym: the receipt is stored nowhere, but may be logged
    at: float
    erased: dict[str, int]
    live: Forgotten
    events: int
    files: int = 0  # recordings' files deleted
    kept: tuple[Kept, ...] = KEPT


@dataclass(frozen=True, slots=True)
class Export:
    number: str
    at: float
    data: dict[str, list[dict[str, object]]]


class NoPrivacyKey(RuntimeError):
    """Erasure needs the privacy key, and none is configured."""


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
    ) -> None:
        """`holds` refuses the erasure of a person under a legal hold; `files` is where
        their recordings' files are deleted."""
        self._dispatcher = dispatcher
        self._holds = holds
        self._files = files
        self._store = store
        self._outbound = outbound
        self._key = key
        self._clock = clock

    async def number(self, subject: Subject) -> str:
        if subject.number is not None:
            if subject.campaign_id is not None or subject.contact_id is not None:
                raise InvalidValue("give either a number or a campaign's contact, not both")
            return check_number(subject.number)
        if subject.campaign_id is None or subject.contact_id is None:
            raise InvalidValue("give a number, or a campaign_id with a contact_id")
        found = await asyncio.to_thread(
            self._outbound.contact, subject.campaign_id, subject.contact_id
        )
        if found is None:
            raise NotFound(f"campaign {subject.campaign_id} has no contact {subject.contact_id!r}")
        return found[0].number

    async def erase(self, subject: Subject, actor: str) -> Receipt:
        """Everything about the person erased; what of theirs is live finishes unrecorded."""
        if self._key is None:
            raise NoPrivacyKey(
                "erasure needs a privacy key: set CCGW_PRIVACY__KEY or privacy.key_file"
            )
        number = await self.number(subject)
        if self._holds is not None:
            contact = f"{subject.campaign_id}:{subject.contact_id}" if subject.contact_id else None
            await self._holds.check_not_held(number, contact)
        keyed = pseudonym(self._key, number)
        dispatcher = self._dispatcher

        async def forget(center: Center, now: float) -> tuple[tuple[Forgotten, int], list[Command]]:
            forgotten, out = center.forget_person(number, now)
            dispatcher.redactions.add(forgotten)
            return (forgotten, dispatcher.hub.forget(number)), out

        live, events = await dispatcher.perform(forget)
        at = self._clock.now()

        def erase() -> tuple[dict[str, int], list[str]]:
            files = self._store.recording_files(number)
            return self._store.erase(number, keyed, at, actor), files

        erased, files = await dispatcher.write(erase)
        deleted = 0
        if self._files is not None:  # the rows are gone: the files go after them
            files += [f"{recording_id}.wav" for recording_id in live.recordings]
            deleted = await asyncio.to_thread(self._files.delete, files)
        return Receipt(keyed, at, erased, live, events, deleted)

    async def export(self, subject: Subject, actor: str) -> Export:
        """Every row held about the person, after every write queued so far; audited."""
        number = await self.number(subject)
        await self._dispatcher.drain_writes()
        at = self._clock.now()
        data = await asyncio.to_thread(self._store.export, number)
        held = sum(len(rows) for rows in data.values())
        entry = AuditEntry(at, actor, "export", self._subject(number), f"{held} rows")
        await self._dispatcher.write(lambda: self._store.add_audit(entry))
        return Export(number, at, data)

    async def audit(self, limit: int, offset: int) -> list[AuditEntry]:
        return await asyncio.to_thread(self._store.audit, limit, offset)

    def _subject(self, number: str) -> str:
        return pseudonym(self._key, number) if self._key is not None else "(no privacy key)"
