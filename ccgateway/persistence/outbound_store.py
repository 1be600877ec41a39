"""The dialer's store (ports.OutboundStore): campaigns, custom rule sets, contacts and their
progress, do-not-call lists, and the append-only records.

Each public method is one transaction (SqlStore). Contacts are imported in bulk, one
transaction for the list and every contact, so an import is whole or absent. Queries over
many values (`suppressed`, the ids `due` leaves out) go in chunks of `CHUNK` values, well
under both databases' limits on bound parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.model import check_id
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import Contact, ContactList, ContactState, Progress
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import PRESETS, RuleSet
from ccgateway.persistence import outbound_rows
from ccgateway.persistence.outbound_codec import (
    campaign_from_json,
    campaign_to_json,
    rule_set_from_json,
    rule_set_to_json,
)
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.tables import (
    CampaignRow,
    ContactListRow,
    ContactRow,
    DialRecordRow,
    DispositionRow,
    RefusalRow,
    RegisterRow,
    RuleSetRow,
    SuppressionRow,
)
from ccgateway.ports import DueQuery

CONTACTS: Table = ContactRow.__table__  # type: ignore[assignment]
SUPPRESSIONS: Table = SuppressionRow.__table__  # type: ignore[assignment]
CHUNK = 500  # values per IN (...) list
BATCH = 10_000  # rows per bulk insert statement list, to bound the memory of one call
INTERNAL = "internal"  # the list of objections: added to, never replaced by a screening


def _is_due(now: float) -> ColumnElement[bool]:
    c = ContactRow
    return or_(
        c.state == ContactState.NEW.value,
        and_(c.state == ContactState.SCHEDULED.value, c.next_at <= now),
    )


class SqlOutboundStore(SqlStore):
    def __init__(
        self,
        engine: Engine,
        now: Callable[[], float] = time.time,
        pseudonym: Callable[[str], str] | None = None,
    ) -> None:
        """`pseudonym` keys a number as erasure stores it (domain/privacy.py): with it, a
        number whose person was erased is found suppressed, on the forgotten list."""
        super().__init__(engine, now)
        self._pseudonym = pseudonym

    # --- configuration ----------------------------------------------------------------------

    def load_config(self) -> tuple[list[RuleSet], list[tuple[Campaign, CampaignState]]]:
        """Custom rule sets and campaigns (with their states), each by id."""
        with self._sessions() as session:
            rule_sets = [
                rule_set_from_json(r.id, r.settings)
                for r in session.scalars(select(RuleSetRow).order_by(RuleSetRow.id))
            ]
            campaigns = [
                (campaign_from_json(r.id, r.settings), outbound_rows.campaign_state(r.state))
                for r in session.scalars(select(CampaignRow).order_by(CampaignRow.id))
            ]
        return rule_sets, campaigns

    def put_rule_set(self, rules: RuleSet) -> None:
        """A custom rule set; a preset's id is refused (presets live in the code)."""
        if rules.id in PRESETS:
            raise InvalidValue(f"rule set {rules.id} is a preset: presets are not stored")
        with self._writing(f"rule set {rules.id}") as session:
            session.merge(RuleSetRow(id=rules.id, settings=rule_set_to_json(rules)))

    def delete_rule_set(self, rule_set_id: str) -> None:
        with self._writing(f"the removal of rule set {rule_set_id}") as session:
            session.execute(delete(RuleSetRow).where(RuleSetRow.id == rule_set_id))

    def put_campaign(self, campaign: Campaign, state: CampaignState) -> None:
        with self._writing(f"campaign {campaign.id}") as session:
            session.merge(
                CampaignRow(id=campaign.id, settings=campaign_to_json(campaign), state=state.value)
            )

    def delete_campaign(self, campaign_id: str) -> None:
        """The campaign, its lists and contacts; its records stay. Unknown: nothing."""
        with self._writing(f"the removal of campaign {campaign_id}") as session:
            session.execute(delete(ContactRow).where(ContactRow.campaign_id == campaign_id))
            session.execute(delete(ContactListRow).where(ContactListRow.campaign_id == campaign_id))
            session.execute(delete(CampaignRow).where(CampaignRow.id == campaign_id))

    # --- contacts ---------------------------------------------------------------------------

    def import_contacts(self, contact_list: ContactList, contacts: Sequence[Contact]) -> None:
        """The list and all its contacts (each new, never dialled) in one transaction, or
        nothing: NotFound for an unknown campaign, InvalidValue for a contact of another
        list, Conflict for a list id taken or a contact id twice in the file or already in
        the campaign."""
        campaign_id = contact_list.campaign_id
        seen: set[str] = set()
        for contact in contacts:
            if contact.list_id != contact_list.id:
                raise InvalidValue(
                    f"contact {contact.id} is of list {contact.list_id}, not {contact_list.id}"
                )
            if contact.id in seen:
                raise Conflict(f"contact {contact.id} is in the list twice: nothing imported")
            seen.add(contact.id)
        with self._writing(f"list {contact_list.id} of campaign {campaign_id}") as session:
            if session.get(CampaignRow, campaign_id) is None:
                raise NotFound(f"no campaign {campaign_id!r}")
            session.add(outbound_rows.list_row(contact_list))
            session.flush()
            # every contact starts with the same progress: its columns made once
            new = outbound_rows.progress_values(Progress("new", campaign_id))
            for batch in _batches(contacts, BATCH):
                _bulk_insert(
                    session,
                    CONTACTS,
                    [outbound_rows.contact_values(campaign_id, c, new) for c in batch],
                )
            _analyze_after_bulk(session, CONTACTS, len(contacts))

    def lists(self, campaign_id: str) -> list[ContactList]:
        """Oldest first."""
        statement = (
            select(ContactListRow)
            .where(ContactListRow.campaign_id == campaign_id)
            .order_by(ContactListRow.created_at, ContactListRow.id)
        )
        with self._sessions() as session:
            return [outbound_rows.contact_list(r) for r in session.scalars(statement)]

    def due(self, query: DueQuery) -> list[tuple[Contact, Progress]]:
        """At most `count` contacts that may be dialled now, best first: callbacks due
        (oldest promise first), then by priority (high first), then by due time, the new
        contacts (no due time) after the retries due of the same priority, then by id.

        Due: new, or scheduled with `next_at` <= now. Callbacks kept for an agent come only
        with `owned_callbacks`; ids in `exclude` never.

        Three reads, each in the order of an index (ix_contacts_callbacks, ix_contacts_order)
        and stopped at `count`, rather than one that sorts every due contact of a list of
        millions (benchmarks/contacts_due.py)."""
        if query.count <= 0:
            return []
        c = ContactRow
        by_order = (c.priority.desc(), c.next_at, c.id)  # ix_contacts_order
        with self._sessions() as session:
            callbacks = session.scalars(
                self._due_where(query, _is_due(query.now), c.callback_at.is_not(None))
                .order_by(c.callback_at, *by_order)
                .limit(query.count)
            ).all()
            rest = query.count - len(callbacks)
            retries = session.scalars(
                self._due_where(
                    query,
                    c.state == ContactState.SCHEDULED.value,
                    c.next_at <= query.now,
                    c.callback_at.is_(None),
                )
                .order_by(*by_order)
                .limit(max(0, rest))
            ).all()
            new = session.scalars(
                self._due_where(query, c.state == ContactState.NEW.value, c.callback_at.is_(None))
                .order_by(*by_order)
                .limit(max(0, rest))
            ).all()
        # Within a priority the retries (due times) come before the new contacts (none): a
        # stable sort by priority alone keeps each read's own order.
        others = sorted([*retries, *new], key=lambda row: -row.priority)[: max(0, rest)]
        return [outbound_rows.entry(r) for r in [*callbacks, *others]]

    @staticmethod
    def _due_where(query: DueQuery, *conditions: ColumnElement[bool]) -> Select[ContactRow]:
        c = ContactRow
        statement = select(c).where(c.campaign_id == query.campaign_id, *conditions)
        if not query.owned_callbacks:
            statement = statement.where(c.callback_agent_id.is_(None))
        for chunk in _batches(sorted(query.exclude), CHUNK):
            statement = statement.where(c.id.not_in(chunk))
        return statement

    def contact(self, campaign_id: str, contact_id: str) -> tuple[Contact, Progress] | None:
        with self._sessions() as session:
            row = session.get(ContactRow, (campaign_id, contact_id))
            return None if row is None else outbound_rows.entry(row)

    def contacts(
        self, campaign_id: str, state: ContactState | None, limit: int, offset: int
    ) -> list[tuple[Contact, Progress]]:
        """A page of the campaign's contacts (in one state, or all), by id."""
        statement = select(ContactRow).where(ContactRow.campaign_id == campaign_id)
        if state is not None:
            statement = statement.where(ContactRow.state == state.value)
        statement = statement.order_by(ContactRow.id).limit(limit).offset(offset)
        return self._entries(statement)

    def counts(self, campaign_id: str) -> dict[str, int]:
        """Contacts per state, every state named (0 if none)."""
        statement = (
            select(ContactRow.state, func.count())
            .where(ContactRow.campaign_id == campaign_id)
            .group_by(ContactRow.state)
        )
        with self._sessions() as session:
            found = {state: int(n) for state, n in session.execute(statement)}
        return {s.value: found.get(s.value, 0) for s in ContactState}

    def dialing(self) -> list[tuple[Contact, Progress]]:
        """Contacts left DIALING in any campaign (with their dial ids), by campaign and id."""
        statement = (
            select(ContactRow)
            .where(ContactRow.state == ContactState.DIALING.value)
            .order_by(ContactRow.campaign_id, ContactRow.id)
        )
        return self._entries(statement)

    def save_progress(self, progress: Progress) -> None:
        """The contact's progress replaced whole; for a contact since removed (its campaign
        deleted), nothing."""
        with self._writing(f"the progress of contact {progress.contact_id}") as session:
            session.execute(
                update(ContactRow)
                .where(
                    ContactRow.campaign_id == progress.campaign_id,
                    ContactRow.id == progress.contact_id,
                )
                .values(outbound_rows.progress_values(progress))
            )

    def _entries(self, statement: Select[ContactRow]) -> list[tuple[Contact, Progress]]:
        with self._sessions() as session:
            return [outbound_rows.entry(r) for r in session.scalars(statement)]

    # --- do-not-call lists ------------------------------------------------------------------

    def suppress(self, register: str, numbers: Sequence[str], reason: str, at: float) -> int:
        """Numbers added to a do-not-call list ("internal" for objections); those already on
        it keep their first reason and time. How many were new."""
        check_id("register", register)
        rows = [
            {"register": register, "number": n, "reason": reason, "added_at": at}
            for n in dict.fromkeys(numbers)
        ]
        with self._writing(f"numbers for list {register}") as session:
            return _insert_new_suppressions(session, rows)

    def replace_register(self, register: str, numbers: Sequence[str], at: float) -> int:
        """A fresh screening of a register: its numbers replaced whole and `at` recorded,
        in one transaction. How many numbers it lists now. The internal list (objections)
        is never replaced."""
        check_id("register", register)
        if register == INTERNAL:
            raise InvalidValue("the internal do-not-call list is added to, never replaced")
        unique = list(dict.fromkeys(numbers))
        with self._writing(f"the screening of register {register}") as session:
            session.execute(delete(SuppressionRow).where(SuppressionRow.register == register))
            for batch in _batches(unique, BATCH):
                _bulk_insert(
                    session,
                    SUPPRESSIONS,
                    [
                        {"register": register, "number": n, "reason": "", "added_at": at}
                        for n in batch
                    ],
                )
            session.merge(RegisterRow(name=register, screened_at=at, numbers=len(unique)))
            _analyze_after_bulk(session, SUPPRESSIONS, len(unique))
        return len(unique)

    def screen_numbers(
        self, register: str, numbers: Sequence[str], screening: str, at: float
    ) -> None:
        """One part of a register's fresh screening (`screening` names it), in a transaction
        of its own: the numbers are on the register from now on, marked as this
        screening's. Until `finish_screening`, the numbers of the last screening stay on it
        too, so a replacement under way only ever suppresses more, never less."""
        _check_register(register)
        rows = [
            {"register": register, "number": n, "reason": screening, "added_at": at}
            for n in dict.fromkeys(numbers)
        ]
        with self._writing(f"the screening of register {register}") as session:
            _upsert_suppressions(session, rows)

    def finish_screening(self, register: str, screening: str, at: float) -> int:
        """The register's numbers not in `screening` removed and `at` recorded as its
        screening, in one transaction; how many numbers it lists now."""
        _check_register(register)
        with self._writing(f"the screening of register {register}") as session:
            session.execute(
                delete(SuppressionRow).where(
                    SuppressionRow.register == register, SuppressionRow.reason != screening
                )
            )
            count = session.scalar(
                select(func.count())
                .select_from(SuppressionRow)
                .where(SuppressionRow.register == register)
            )
            listed = int(count or 0)
            session.merge(RegisterRow(name=register, screened_at=at, numbers=listed))
            _analyze_after_bulk(session, SUPPRESSIONS, listed)
        return listed

    def suppressed(self, numbers: Sequence[str]) -> dict[str, str]:
        """number -> the list it is on; on several lists, the first by name."""
        found: dict[str, str] = {}
        wanted = set(numbers)
        known = {self._pseudonym(n): n for n in wanted} if self._pseudonym else {}
        with self._sessions() as session:
            for chunk in _batches(sorted(wanted | set(known)), CHUNK):
                statement = (
                    select(SuppressionRow.number, SuppressionRow.register)
                    .where(SuppressionRow.number.in_(chunk))
                    .order_by(SuppressionRow.number, SuppressionRow.register)
                )
                for number, register in session.execute(statement):
                    found.setdefault(known.get(number, number), register)
        return found

    def screened(self) -> dict[str, float]:
        with self._sessions() as session:
            return {r.name: r.screened_at for r in session.scalars(select(RegisterRow))}

    # --- records (append-only) --------------------------------------------------------------

    def add_dial(self, record: DialRecord) -> None:
        """One dial, once: a second record with its id is a Conflict."""
        with self._writing(f"dial record {record.id}") as session:
            session.add(outbound_rows.dial_row(record))

    def add_disposition(self, record: DispositionRecord) -> None:
        """The same record again (its dial and time) is kept once: a write the journal tried
        again after a commit whose answer was lost, or after a crash."""
        with self._writing(f"the disposition of dial {record.dial_id}") as session:
            seen = select(DispositionRow.id).where(
                DispositionRow.dial_id == record.dial_id, DispositionRow.at == record.at
            )
            if session.scalar(seen.limit(1)) is None:
                session.add(outbound_rows.disposition_row(record))

    def add_refusal(self, record: RefusalRecord) -> None:
        """The same record again (its campaign, contact, rule and time) is kept once."""
        with self._writing(f"the refusal of contact {record.contact_id}") as session:
            seen = select(RefusalRow.id).where(
                RefusalRow.campaign_id == record.campaign_id,
                RefusalRow.at == record.at,
                RefusalRow.contact_id == record.contact_id,
                RefusalRow.rule == record.rule,
            )
            if session.scalar(seen.limit(1)) is None:
                session.add(outbound_rows.refusal_row(record))

    def dials(
        self, campaign_id: str | None, since: float | None, limit: int, offset: int = 0
    ) -> list[DialRecord]:
        """Oldest first (by the time dialled); `since` is inclusive; every campaign's if
        `campaign_id` is None."""
        statement = select(DialRecordRow)
        if campaign_id is not None:
            statement = statement.where(DialRecordRow.campaign_id == campaign_id)
        if since is not None:
            statement = statement.where(DialRecordRow.dialled_at >= since)
        statement = (
            statement.order_by(DialRecordRow.dialled_at, DialRecordRow.id)
            .limit(limit)
            .offset(offset)
        )
        with self._sessions() as session:
            return [outbound_rows.dial(r) for r in session.scalars(statement)]

    def dispositions(self, campaign_id: str, since: float | None) -> list[DispositionRecord]:
        """Oldest first, in the order written at the same time; `since` is inclusive."""
        statement = select(DispositionRow).where(DispositionRow.campaign_id == campaign_id)
        if since is not None:
            statement = statement.where(DispositionRow.at >= since)
        statement = statement.order_by(DispositionRow.at, DispositionRow.id)
        with self._sessions() as session:
            return [outbound_rows.disposition(r) for r in session.scalars(statement)]

    def dial(self, dial_id: str) -> DialRecord | None:
        with self._sessions() as session:
            row = session.get(DialRecordRow, dial_id)
            return None if row is None else outbound_rows.dial(row)

    def dials_of_number(
        self, number: str, limit: int, agent_id: str | None = None
    ) -> list[DialRecord]:
        """The number's dials (those `agent_id` took, if given), newest first."""
        statement = select(DialRecordRow).where(DialRecordRow.number == number)
        if agent_id is not None:
            statement = statement.where(DialRecordRow.agent_id == agent_id)
        statement = statement.order_by(
            DialRecordRow.dialled_at.desc(), DialRecordRow.id.desc()
        ).limit(limit)
        with self._sessions() as session:
            return [outbound_rows.dial(r) for r in session.scalars(statement)]

    def dispositions_of(self, dial_ids: Sequence[str]) -> list[DispositionRecord]:
        """The dispositions of these dials, oldest first."""
        found: list[DispositionRecord] = []
        with self._sessions() as session:
            for batch in _batches(list(dict.fromkeys(dial_ids)), 500):
                statement = (
                    select(DispositionRow)
                    .where(DispositionRow.dial_id.in_(batch))
                    .order_by(DispositionRow.at, DispositionRow.id)
                )
                found += [outbound_rows.disposition(r) for r in session.scalars(statement)]
        return sorted(found, key=lambda d: d.at)

    def refusals(self, campaign_id: str, since: float | None, limit: int) -> list[RefusalRecord]:
        """Oldest first, in the order written at the same time; `since` is inclusive."""
        statement = select(RefusalRow).where(RefusalRow.campaign_id == campaign_id)
        if since is not None:
            statement = statement.where(RefusalRow.at >= since)
        statement = statement.order_by(RefusalRow.at, RefusalRow.id).limit(limit)
        with self._sessions() as session:
            return [outbound_rows.refusal(r) for r in session.scalars(statement)]


# --- bulk writes -------------------------------------------------------------------------------


def _batches(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows inserted in the session's transaction: on PostgreSQL with COPY (twice the speed
    of psycopg's pipelined executemany, one INSERT a row), elsewhere as one executemany in
    Core (the ORM's bookkeeping would halve the speed). A refused row raises the
    IntegrityError any insert would."""
    if not rows:
        return
    if _is_postgres(session):
        _copy(session, table.name, rows)
    else:
        session.execute(insert(table), rows)


def _copy(session: Session, table_name: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    command = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    raw: Any = session.connection().connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.IntegrityError as exc:  # as SQLAlchemy would have raised it
        raise IntegrityError(command, None, exc) from exc


def _insert_new_suppressions(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose (register, number) is not on file yet; how many were.

    PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING, whose row count is the answer (100,000 numbers in a second or two, where an
    INSERT a row took ten). SQLite: ON CONFLICT DO NOTHING with RETURNING, in batches.
    """
    if not rows:
        return 0
    if _is_postgres(session):
        session.execute(
            text("CREATE TEMPORARY TABLE new_suppressions (LIKE suppressions) ON COMMIT DROP")
        )
        _copy(session, "new_suppressions", rows)
        result = session.execute(
            text(
                "INSERT INTO suppressions (register, number, reason, added_at) "
                "SELECT register, number, reason, added_at FROM new_suppressions "
                "ON CONFLICT DO NOTHING"
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
    added = 0  # SQLite (the only other database ccgateway runs on)
    statement = (
        sqlite.insert(SuppressionRow)
        .on_conflict_do_nothing(index_elements=["register", "number"])
        .returning(SuppressionRow.number)
    )
    for batch in _batches(rows, BATCH):
        added += len(session.execute(statement, batch).all())
    return added


def _check_register(register: str) -> None:
    check_id("register", register)
    if register == INTERNAL:
        raise InvalidValue("the internal do-not-call list is added to, never replaced")


def _upsert_suppressions(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; a (register, number) on file already takes the row's reason and
    time. PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT."""
    if not rows:
        return
    if _is_postgres(session):
        session.execute(
            text("CREATE TEMPORARY TABLE new_suppressions (LIKE suppressions) ON COMMIT DROP")
        )
        _copy(session, "new_suppressions", rows)
        session.execute(
            text(
                "INSERT INTO suppressions (register, number, reason, added_at) "
                "SELECT register, number, reason, added_at FROM new_suppressions "
                "ON CONFLICT (register, number) DO UPDATE "
                "SET reason = EXCLUDED.reason, added_at = EXCLUDED.added_at"
            )
        )
        return
    insert_rows = sqlite.insert(SuppressionRow)
    statement = insert_rows.on_conflict_do_update(
        index_elements=["register", "number"],
        set_={"reason": insert_rows.excluded.reason, "added_at": insert_rows.excluded.added_at},
    )
    for batch in _batches(rows, BATCH):
        session.execute(statement, batch)


def _analyze_after_bulk(session: Session, table: Table, rows: int) -> None:
    """PostgreSQL plans from statistics that autovacuum refreshes only a minute or so later:
    until then a freshly loaded table looks empty and a lookup by number scans it whole
    (0.15 s for 500 numbers among a million, not 0.03). ANALYZE samples at most 30,000 rows
    and sees this transaction's own."""
    if rows >= BATCH and _is_postgres(session):
        session.execute(text(f"ANALYZE {table.name}"))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
