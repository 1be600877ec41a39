"""Opening the database: the engine, SQLite's settings, the schema and its version.

The schema is created on first start (`metadata.create_all`) and its version recorded in the
`schema_version` table. The few changes since version 1 are additive and applied here in
place; real migrations (Alembic) are future work, needed before the first change that is
not a new column or table. The dialer's record tables get triggers that refuse any change
to a record but an erasure's and a purge's, made again on every open (`_guard_records`). A
SQLite file this creates is readable by its owner alone (it holds personal data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from ccgateway.persistence import (
    queue_log_tables,  # noqa: F401  (its table, for create_all)
    report_tables,  # noqa: F401  (its tables, for create_all)
    webhook_tables,  # noqa: F401  (its tables on Base)
)
from ccgateway.persistence.tables import SCHEMA_VERSION, Base, SchemaVersion

# The dialer's records are append-only (domain/outbound/records.py): the database itself
# refuses to change or delete one, whoever asks, but for an erasure, once, of the person's
# columns (these, set with erased_at), everything else as it was; and a retention purge's
# DELETE, inside the transaction that holds the purge permit (persistence/retention_store.py).
PERSONAL_COLUMNS = {
    "dial_records": ("number", "contact_id", "detail"),
    "dispositions": ("contact_id", "answers", "note"),
    "refusals": ("number", "contact_id", "detail"),
}
APPEND_ONLY = tuple(PERSONAL_COLUMNS)


@dataclass(frozen=True, slots=True)
class AddColumn:
    """A new column on a table that may be newer than the version being upgraded from (a
    table create_all has just made has it already)."""

    table: str
    column: str
    type: str

    def statements(self, connection: Connection) -> list[str]:
        present = {c["name"] for c in inspect(connection).get_columns(self.table)}
        if self.column in present:
            return []
        return [f"ALTER TABLE {self.table} ADD COLUMN {self.column} {self.type}"]


# What turns a database of version N-1 into version N; each statement runs on both databases.
UPGRADES: dict[int, list[str | AddColumn]] = {
    2: ["ALTER TABLE agent_presence ADD COLUMN updated_at FLOAT NOT NULL DEFAULT 0"],
    3: [
        "ALTER TABLE agents ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE queues ADD COLUMN routing TEXT NOT NULL DEFAULT '{}'",
    ],
    # (the callbacks and tasks tables are new: create_all has made them already)
    4: [
        "ALTER TABLE interactions ADD COLUMN detail TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE interactions ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'inbound'",
        "ALTER TABLE interactions ADD COLUMN channel VARCHAR(32) NOT NULL DEFAULT 'voice'",
        "ALTER TABLE agents ADD COLUMN capacity TEXT NOT NULL DEFAULT '{}'",
    ],
    # (the dialer's tables are new: create_all has made them, and _guard_records their
    # triggers)
    5: [],
    # the contacts' due order read from an index (outbound_store.due), not sorted
    6: [
        "DROP INDEX IF EXISTS ix_contacts_due",
        "CREATE INDEX IF NOT EXISTS ix_contacts_order"
        " ON contacts (campaign_id, state, priority DESC, next_at, id)",
        "CREATE INDEX IF NOT EXISTS ix_contacts_callbacks ON contacts (campaign_id, callback_at)",
    ],
    # (users, web sessions and notes are new tables: create_all has made them); the
    # contact history reads interactions and callbacks by number
    7: [
        "CREATE INDEX IF NOT EXISTS ix_interactions_caller_arrived"
        " ON interactions (caller_number, arrived_at)",
        "CREATE INDEX IF NOT EXISTS ix_callbacks_number ON callbacks (number, created_at)",
    ],
    # (the audit log is a new table); the records say when a person was erased from them
    8: [AddColumn(table, "erased_at", "FLOAT") for table in APPEND_ONLY],
    # a recording says what the caller did about the recording notice, and which campaign
    # placed its call
    9: [
        AddColumn("recordings", "consent", "VARCHAR(20) NOT NULL DEFAULT ''"),
        AddColumn("recordings", "campaign_id", "VARCHAR(64)"),
    ],
    # (integrations: webhook subscriptions and deliveries, the reports' interval tallies and
    # agents' activity are new tables: create_all has made them)
    10: [],
}

# The triggers are made on every open, so a database made before version 5, or one whose
# triggers were dropped by hand, gets them back.
_REFUSAL = "the dialer records are append-only: never changed or deleted"  # no quotes
# TG_ARGV: the table's personal columns and erased_at, the only ones an erasure changes.
_PG_REFUSE = f"""
CREATE OR REPLACE FUNCTION ccgw_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
           AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purge_permits) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ': {_REFUSAL}',
        ERRCODE = 'restrict_violation';
END
$$"""  # no % in it: the driver would take one for a placeholder


class SchemaMismatch(ValueError):
    """The database was written by a newer ccgateway: refusing to touch it."""


def open_database(url: str) -> Engine:
    """An engine on `url` with the schema in place and at this code's version.

    SQLite (`sqlite:///path`) gets its folder created, foreign keys on, WAL and a 30 s busy
    timeout; `sqlite://` is an in-memory database shared by all sessions. PostgreSQL is
    `postgresql+psycopg://user@host:port/db` (a bare `postgresql://` means psycopg 3 too).
    """
    parsed = make_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool  # one connection, or each would see its own db
        else:
            path = Path(parsed.database).expanduser()
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)  # SQLite's -wal and -shm files take its mode
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as connection:
        Base.metadata.create_all(connection)
        _bring_to_current_version(connection, url=parsed)
        _guard_records(connection)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _bring_to_current_version(connection: Connection, url: URL) -> None:
    found = connection.scalar(select(func.max(SchemaVersion.version)))
    if found is None:  # a new database: create_all has just made the current schema
        connection.execute(insert(SchemaVersion).values(version=SCHEMA_VERSION))
        return
    if found > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the database at {url.render_as_string(hide_password=True)} has schema version "
            f"{found}, newer than this ccgateway's {SCHEMA_VERSION}: upgrade ccgateway"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for step in UPGRADES[version]:
            for statement in step.statements(connection) if isinstance(step, AddColumn) else [step]:
                connection.execute(text(statement))
        connection.execute(insert(SchemaVersion).values(version=version))


def _guard_records(connection: Connection) -> None:
    """Triggers refusing UPDATE and DELETE on the record tables (TRUNCATE too, on
    PostgreSQL) but for an erasure's; the refusal is an integrity error on both databases."""
    backend = connection.dialect.name
    if backend == "sqlite":
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                name = f"{table}_no_{operation.lower()}"
                allowed = _sqlite_erasure(table) if operation == "UPDATE" else _SQLITE_PURGE
                unless = f"WHEN NOT ({allowed}) "
                _sqlite_trigger(
                    connection,
                    name,
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} {unless}"
                    f"BEGIN SELECT RAISE(ABORT, '{operation} on {table}: {_REFUSAL}'); END",
                )
    elif backend == "postgresql":
        connection.exec_driver_sql(_PG_REFUSE)
        for table in APPEND_ONLY:
            changeable = ", ".join(f"'{c}'" for c in (*PERSONAL_COLUMNS[table], "erased_at"))
            for name, when, arguments in (
                (f"{table}_append_only", "BEFORE UPDATE OR DELETE ON {} FOR EACH ROW", changeable),
                (f"{table}_no_truncate", "BEFORE TRUNCATE ON {} FOR EACH STATEMENT", ""),
            ):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {name} {when.format(table)} "
                    f"EXECUTE FUNCTION ccgw_refuse_change({arguments})"
                )


def _sqlite_trigger(connection: Connection, name: str, wanted: str) -> None:
    """The trigger as wanted, replaced only if it differs. pysqlite runs DDL outside any
    transaction, so two processes opening the database at once (`serve` and a CLI command)
    would race a drop-and-create; one the other has just made as wanted is fine."""

    def found() -> str | None:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
        ).scalar()
        return None if sql is None else " ".join(str(sql).split())

    now = found()
    if now == " ".join(wanted.split()):
        return
    if now is not None:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    try:
        connection.exec_driver_sql(wanted)
    except OperationalError:
        if found() != " ".join(wanted.split()):
            raise


# The one DELETE the triggers let through: a purge's, in the transaction holding the permit.
_SQLITE_PURGE = "EXISTS (SELECT 1 FROM purge_permits)"


def _sqlite_erasure(table: str) -> str:
    """The one UPDATE SQLite lets through: erased_at set where it was not, and nothing
    changed but the person's columns."""
    kept = [
        column.name
        for column in Base.metadata.tables[table].columns
        if column.name not in (*PERSONAL_COLUMNS[table], "erased_at")
    ]
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in kept)
    return f"OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND {same}"
