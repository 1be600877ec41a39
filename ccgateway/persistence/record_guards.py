"""The dialer's record tables guarded in the database itself: triggers that refuse any
UPDATE or DELETE (TRUNCATE too, on PostgreSQL) but an erasure's and a purge's.

Made by the baseline migration and again on every open (database.py), so a database whose
triggers were dropped by hand gets them back. SQLite's erasure trigger names the columns an
erasure must leave alone, so it is made from the table definitions it is given: the frozen
baseline's in the migration, tables.py's on open (replaced only where it differs).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Table
from sqlalchemy.exc import OperationalError

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


# The refusal, its words as both databases raise it.
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


def guard_records(connection: Connection, tables: Mapping[str, Table]) -> None:
    """Triggers refusing UPDATE and DELETE on the record tables (TRUNCATE too, on
    PostgreSQL) but for an erasure's; the refusal is an integrity error on both databases.
    `tables` are the definitions the record tables' columns are read from."""
    backend = connection.dialect.name
    if backend == "sqlite":
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                name = f"{table}_no_{operation.lower()}"
                allowed = _sqlite_erasure(tables[table]) if operation == "UPDATE" else _SQLITE_PURGE
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


def _sqlite_erasure(table: Table) -> str:
    """The one UPDATE SQLite lets through: erased_at set where it was not, and nothing
    changed but the person's columns."""
    kept = [
        column.name
        for column in table.columns
        if column.name not in (*PERSONAL_COLUMNS[table.name], "erased_at")
    ]
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in kept)
    return f"OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND {same}"


def drop_guards(connection: Connection) -> None:
    """What guard_records made that outlives the tables: PostgreSQL's function (the
    triggers themselves go with their tables, on both databases)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS ccgw_refuse_change() CASCADE")
