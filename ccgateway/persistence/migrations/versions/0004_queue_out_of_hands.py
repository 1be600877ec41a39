"""The queue reports count callers taken out of the centre's hands: `redirected` (someone else
moved a waiting caller out of the controller's dialplan) and `cut_off` (the PBX restarted or
shut down under a waiting caller), two columns of report_queue_intervals (QueueTally's).

Revision ID: 0004_queue_out_of_hands
Revises: 0003_device_per_pbx

The rows already there get 0: their records were folded before these were counted (the
records themselves keep the outcomes). A column added with a constant default is O(1) on
both databases; PostgreSQL then drops the default, so the table is the one tables.py makes.
SQLite keeps it (dropping it means copying the table); the store writes every column all
the same. Downgrading drops the columns and their counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_queue_out_of_hands"
down_revision: str | None = "0003_device_per_pbx"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "report_queue_intervals"
COLUMNS = ("redirected", "cut_off")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            TABLE, sa.Column(name, sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        if op.get_bind().dialect.name == "postgresql":
            op.alter_column(TABLE, name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        for name in COLUMNS:
            batch.drop_column(name)
