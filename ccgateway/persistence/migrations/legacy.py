"""Databases from before Alembic: ccgateway's own schema versions 1 to 10, brought to the
Alembic baseline by the steps that made them, then stamped.

Why not one revision per old version: the old versions were never exact schemas. Each start
ran `create_all` with the code's tables first (so a database "at version 4" got the tables
of whatever code opened it, and columns added between version bumps arrived that way too),
and only then the additive steps below (AddColumn looks before it adds, for that reason).
Revisions claiming "version N looked like this" would be guesses. What is known to work is
what every earlier release did: make the missing tables, apply the steps in order, record
each version. So a database with a `schema_version` table and no `alembic_version` gets
exactly that, with the missing tables made from the frozen baseline (schema_v10.py, never
tables.py, which moves on with later revisions), and is then stamped at the baseline,
which is that same version-10 schema; Alembic takes it on from there. The `schema_version`
table stays (at 10): an older ccgateway opening a database of the baseline finds its own
version and runs; a later revision that an older ccgateway must not write to records a
higher number there, which that release refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, inspect, select, text

from ccgateway.persistence.migrations.schema_v10 import SCHEMA
from ccgateway.persistence.record_guards import APPEND_ONLY

# The last version of the old scheme, which the Alembic baseline equals.
LEGACY_VERSION = 10
_VERSIONS = SCHEMA.tables["schema_version"]


class NewerLegacyVersion(ValueError):
    """The database's schema_version is above the last one this scheme knew."""


def legacy_version(connection: Connection) -> int | None:
    """The database's old schema version, None when it has none (new, or Alembic's only)."""
    if not inspect(connection).has_table("schema_version"):
        return None
    found: int | None = connection.scalar(select(func.max(_VERSIONS.c.version)))
    return found


def upgrade_to_baseline(connection: Connection, found: int | None) -> None:
    """Bring a database of old version `found` to version 10, as the releases before
    Alembic did (the caller stamps the baseline after). None: a schema_version table with
    no row (SQLite ran the old create_all outside the transaction that records it): the
    old code took that for a new database it had just made, and so does this."""
    if found is not None and found > LEGACY_VERSION:
        raise NewerLegacyVersion(found)
    SCHEMA.create_all(connection)  # checkfirst: only the tables it does not have yet
    if found is None:
        connection.execute(insert(_VERSIONS).values(version=LEGACY_VERSION))
        return
    for version in range(found + 1, LEGACY_VERSION + 1):
        for step in UPGRADES[version]:
            for statement in step.statements(connection) if isinstance(step, AddColumn) else [step]:
                connection.execute(text(statement))
        connection.execute(insert(_VERSIONS).values(version=version))


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
