"""Retention in the database (ports.RetentionStore): the policy, legal holds, and the purge.

The purge deletes one batch at a time, each in a transaction of its own (the service runs
them through the dispatcher's writer, so the centre's own writes go between them): a purge
stopped half-way leaves whole batches done and the rest as it was, and the next one carries
on. The dialer's append-only records let a DELETE through only inside a transaction that
holds the purge permit (database.py), which this module takes and gives back in the same
transaction, so no other transaction ever sees it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, not_, or_, select, true, tuple_
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.campaigns import CampaignState
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.records import LIVE_CALLBACK, LIVE_TASK
from ccgateway.domain.retention import HoldKind, Kind, PurgeScope, RetentionPolicy
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import (
    AuditRow,
    CallbackRow,
    CampaignRow,
    ContactListRow,
    ContactRow,
    DialRecordRow,
    DispositionRow,
    InteractionRow,
    LegalHoldRow,
    NoteRow,
    PurgePermitRow,
    RecordingRow,
    RefusalRow,
    RetentionPolicyRow,
    TaskRow,
)
from ccgateway.ports import Hold

Column = InstrumentedAttribute[Any]


@dataclass(frozen=True, slots=True)
class _Table:
    """How the purge finds a kind's rows: its table, time, scope (queue or campaign) and key."""

    row: type[DeclarativeBase]
    at: Column
    scope: Column | None
    key: tuple[Column, ...]
    number: Column | None = None
    contact: Column | None = None  # a campaign's contact id, for a contact's hold
    append_only: bool = False


TABLES = {
    Kind.INTERACTIONS: _Table(
        InteractionRow,
        InteractionRow.ended_at,
        InteractionRow.queue_id,
        (InteractionRow.id,),
        InteractionRow.caller_number,
    ),
    Kind.CALLBACKS: _Table(
        CallbackRow,
        CallbackRow.updated_at,
        CallbackRow.queue_id,
        (CallbackRow.id,),
        CallbackRow.number,
    ),
    Kind.TASKS: _Table(TaskRow, TaskRow.updated_at, TaskRow.queue_id, (TaskRow.id,)),
    Kind.NOTES: _Table(NoteRow, NoteRow.at, None, (NoteRow.id,), NoteRow.number),
    Kind.DIAL_RECORDS: _Table(
        DialRecordRow,
        DialRecordRow.ended_at,
        DialRecordRow.campaign_id,
        (DialRecordRow.id,),
        DialRecordRow.number,
        DialRecordRow.contact_id,
        append_only=True,
    ),
    Kind.DISPOSITIONS: _Table(
        DispositionRow,
        DispositionRow.at,
        DispositionRow.campaign_id,
        (DispositionRow.id,),
        contact=DispositionRow.contact_id,
        append_only=True,
    ),
    Kind.REFUSALS: _Table(
        RefusalRow,
        RefusalRow.at,
        RefusalRow.campaign_id,
        (RefusalRow.id,),
        RefusalRow.number,
        RefusalRow.contact_id,
        append_only=True,
    ),
    Kind.CONTACTS: _Table(
        ContactRow,
        ContactRow.updated_at,
        ContactRow.campaign_id,
        (ContactRow.campaign_id, ContactRow.id),
        ContactRow.number,
        ContactRow.id,
    ),
    Kind.RECORDINGS: _Table(
        RecordingRow,
        RecordingRow.started_at,
        RecordingRow.queue_id,
        (RecordingRow.id,),
        RecordingRow.caller_number,
    ),
    Kind.AUDIT: _Table(AuditRow, AuditRow.at, None, (AuditRow.id,)),
}


class SqlRetentionStore(SqlStore):
    # --- the policy and holds ------------------------------------------------------------

    def policy(self) -> RetentionPolicy:
        with self._sessions() as session:
            row = session.get(RetentionPolicyRow, 1)
        return policy_from_json(row.document) if row is not None else RetentionPolicy()

    def put_policy(self, policy: RetentionPolicy, at: float) -> None:
        with self._writing("the retention policy") as session:
            session.merge(RetentionPolicyRow(id=1, document=policy_to_json(policy), updated_at=at))

    def holds(self) -> list[Hold]:
        statement = select(LegalHoldRow).order_by(LegalHoldRow.kind, LegalHoldRow.value)
        with self._sessions() as session:
            return [
                Hold(HoldKind(r.kind), r.value, r.reason, r.created_at)
                for r in session.scalars(statement)
            ]

    def add_hold(self, hold: Hold) -> bool:
        """Whether the hold is new (a hold placed again keeps its first reason and time)."""
        with self._writing(f"the hold on {hold.kind} {hold.value}") as session:
            if session.get(LegalHoldRow, (hold.kind.value, hold.value)) is not None:
                return False
            session.add(
                LegalHoldRow(
                    kind=hold.kind.value, value=hold.value, reason=hold.reason, created_at=hold.at
                )
            )
            return True

    def remove_hold(self, kind: HoldKind, value: str) -> bool:
        with self._writing(f"the hold on {kind} {value}") as session:
            done = session.execute(
                delete(LegalHoldRow).where(LegalHoldRow.kind == kind, LegalHoldRow.value == value)
            )
            return bool(getattr(done, "rowcount", 0))

    def held(self, kind: HoldKind, value: str) -> bool:
        with self._sessions() as session:
            return session.get(LegalHoldRow, (kind.value, value)) is not None

    # --- what the purge needs to know ----------------------------------------------------

    def campaign_rule_sets(self) -> dict[str, str]:
        """campaign id -> its rule set, for every campaign with data: the campaigns' own
        settings, else (a campaign since deleted) the rule set its dials were made under."""
        found: dict[str, str] = {}
        with self._sessions() as session:
            pairs = session.execute(
                select(DialRecordRow.campaign_id, func.max(DialRecordRow.rule_set_id)).group_by(
                    DialRecordRow.campaign_id
                )
            )
            found.update({campaign_id: rule_set for campaign_id, rule_set in pairs})
            for campaign in session.scalars(select(CampaignRow)):
                found[campaign.id] = str(json.loads(campaign.settings).get("rule_set_id", ""))
        return found

    # --- the purge -----------------------------------------------------------------------

    def purge_batch(self, kind: Kind, scope: PurgeScope, limit: int) -> tuple[int, list[str]]:
        """Delete up to `limit` rows of `kind` past their cutoff and under no hold; how many,
        and (recordings) the files whose rows went: the caller deletes them."""
        table = TABLES[kind]
        past = _past(table, scope)
        if past is None:
            return 0, []
        with self._writing(f"the purge of {kind}") as session:
            where = and_(past, *_not_held(session, kind, table), *_still_needed(session, kind))
            chosen = select(*table.key).where(where).limit(limit)
            if len(table.key) == 1:
                target: ColumnElement[bool] = table.key[0].in_(chosen)
            else:
                target = tuple_(*table.key).in_(chosen)
            lists = _lists_of(session, where, limit) if kind is Kind.CONTACTS else []
            files = (
                list(session.scalars(select(RecordingRow.file).where(where).limit(limit)))
                if kind is Kind.RECORDINGS
                else []
            )
            if table.append_only:
                session.add(PurgePermitRow(id=1))
                session.flush()
            removed = int(getattr(session.execute(delete(table.row).where(target)), "rowcount", 0))
            if table.append_only:
                session.execute(delete(PurgePermitRow))
            _recount(session, lists)
            return removed, files


def _past(table: _Table, scope: PurgeScope) -> ColumnElement[bool] | None:
    """Rows older than their scope's cutoff (the default's for scopes without their own)."""
    parts = [
        and_(table.scope == key, table.at < cutoff)
        for key, cutoff in scope.cutoffs.items()
        if table.scope is not None and cutoff is not None
    ]
    if scope.default is not None:
        if table.scope is None:
            parts.append(table.at < scope.default)
        else:
            named = list(scope.cutoffs)
            others = or_(table.scope.is_(None), not_(table.scope.in_(named))) if named else true()
            parts.append(and_(others, table.at < scope.default))
    return or_(*parts) if parts else None


def _not_held(session: Session, kind: Kind, table: _Table) -> list[ColumnElement[bool]]:
    held = {k: [h.value for h in _holds(session) if h.kind is k] for k in HoldKind}
    kept: list[ColumnElement[bool]] = []
    if table.number is not None and held[HoldKind.NUMBER]:
        kept.append(not_(table.number.in_(held[HoldKind.NUMBER])))
    if kind is Kind.RECORDINGS and held[HoldKind.RECORDING]:
        kept.append(not_(RecordingRow.id.in_(held[HoldKind.RECORDING])))
    if kind is Kind.DISPOSITIONS and held[HoldKind.NUMBER]:
        of_numbers = select(DialRecordRow.id).where(DialRecordRow.number.in_(held[HoldKind.NUMBER]))
        kept.append(not_(DispositionRow.dial_id.in_(of_numbers)))
    if table.contact is not None and table.scope is not None:
        if held[HoldKind.CAMPAIGN]:
            kept.append(not_(table.scope.in_(held[HoldKind.CAMPAIGN])))
        contacts = [tuple(v.split(":", 1)) for v in held[HoldKind.CONTACT]]
        if contacts:
            kept.append(not_(tuple_(table.scope, table.contact).in_(contacts)))
    return kept


def _still_needed(session: Session, kind: Kind) -> list[ColumnElement[bool]]:
    """What no period ends: live callbacks and tasks; contacts of running campaigns and
    contacts being dialled."""
    if kind is Kind.CALLBACKS:
        return [not_(CallbackRow.state.in_([s.value for s in LIVE_CALLBACK]))]
    if kind is Kind.TASKS:
        return [not_(TaskRow.state.in_([s.value for s in LIVE_TASK]))]
    if kind is Kind.RECORDINGS:
        return [RecordingRow.ended_at.is_not(None)]
    if kind is Kind.CONTACTS:
        running = select(CampaignRow.id).where(CampaignRow.state == CampaignState.RUNNING.value)
        return [
            not_(ContactRow.campaign_id.in_(running)),
            ContactRow.state != ContactState.DIALING.value,
        ]
    return []


def _holds(session: Session) -> list[Hold]:
    return [
        Hold(HoldKind(r.kind), r.value, r.reason, r.created_at)
        for r in session.scalars(select(LegalHoldRow))
    ]


def _lists_of(session: Session, where: ColumnElement[bool], limit: int) -> list[tuple[str, str]]:
    chosen = select(ContactRow.campaign_id, ContactRow.list_id).where(where).limit(limit)
    return sorted({(c, lst) for c, lst in session.execute(chosen)})


def _recount(session: Session, lists: Sequence[tuple[str, str]]) -> None:
    """The lists' counts after their contacts went; a list left empty goes too."""
    for campaign_id, list_id in lists:
        left = session.scalar(
            select(func.count()).where(
                ContactRow.campaign_id == campaign_id, ContactRow.list_id == list_id
            )
        )
        this = and_(ContactListRow.campaign_id == campaign_id, ContactListRow.id == list_id)
        if left:
            session.query(ContactListRow).filter(this).update({"contacts": left})
        else:
            session.execute(delete(ContactListRow).where(this))


# --- the policy as JSON ------------------------------------------------------------------


def policy_to_json(policy: RetentionPolicy) -> str:
    def periods(p: Mapping[Kind, int | None]) -> dict[str, int | None]:
        return {k.value: v for k, v in sorted(p.items())}

    return json.dumps(
        {
            "default": periods(policy.default),
            "queues": {q: periods(p) for q, p in sorted(policy.queues.items())},
            "campaigns": {c: periods(p) for c, p in sorted(policy.campaigns.items())},
            "rule_sets": {r: periods(p) for r, p in sorted(policy.rule_sets.items())},
        },
        sort_keys=True,
    )


def policy_from_json(document: str) -> RetentionPolicy:
    try:
        data = json.loads(document)

        def periods(p: Mapping[str, int | None]) -> dict[Kind, int | None]:
            return {Kind(k): v for k, v in p.items()}

        return RetentionPolicy(
            periods(data["default"]),
            {q: periods(p) for q, p in data["queues"].items()},
            {c: periods(p) for c, p in data["campaigns"].items()},
            {r: periods(p) for r, p in data["rule_sets"].items()},
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidValue(f"the stored retention policy cannot be read: {exc}") from exc
