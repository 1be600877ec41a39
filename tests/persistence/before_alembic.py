"""A database made by this code, taken back to how the code before Alembic left it, for the
tests of the old schema versions' upgrades."""

from __future__ import annotations

from sqlalchemy import Connection, text

from ccgateway.persistence.migrations.schema_v10 import SCHEMA
from ccgateway.persistence.tables import Base


def as_before_alembic(connection: Connection) -> None:
    """No alembic_version, none of the tables the revisions after the baseline made, and
    none of the columns they added to the baseline's tables (schema_v10 is the baseline's
    schema)."""
    connection.execute(text("DROP TABLE alembic_version"))
    for name in sorted(set(Base.metadata.tables) - set(SCHEMA.tables)):
        connection.execute(text(f"DROP TABLE {name}"))
    for name in sorted(set(Base.metadata.tables) & set(SCHEMA.tables)):
        baseline = {column.name for column in SCHEMA.tables[name].columns}
        for column in Base.metadata.tables[name].columns:
            if column.name not in baseline:
                connection.execute(text(f"ALTER TABLE {name} DROP COLUMN {column.name}"))
