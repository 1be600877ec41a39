"""The baseline: the schema of ccgateway's schema_version 10, its record guards and its
version row.

Revision ID: 0001_baseline
Revises: (none)

Everything comes from the frozen schema_v10.py, never from tables.py (which moves on with
later revisions). The schema_version table is part of it, holding 10, so an older
ccgateway can still open a database this made (legacy.py says why). Downgrading past it
drops every table, and every row with them.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import insert

from ccgateway.persistence.migrations.legacy import LEGACY_VERSION
from ccgateway.persistence.migrations.schema_v10 import SCHEMA
from ccgateway.persistence.record_guards import drop_guards, guard_records

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    connection = op.get_bind()
    SCHEMA.create_all(connection, checkfirst=False)
    connection.execute(insert(SCHEMA.tables["schema_version"]).values(version=LEGACY_VERSION))
    guard_records(connection, SCHEMA.tables)


def downgrade() -> None:
    connection = op.get_bind()
    SCHEMA.drop_all(connection, checkfirst=False)
    drop_guards(connection)
