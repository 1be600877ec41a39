"""The pair's lease (issue 14): one row naming the active controller, its fencing epoch,
when its lease expires (epoch seconds on the database's clock) and its advertised API URL.

Revision ID: 0002_ha_lease
Revises: 0001_baseline

The row itself is made by the lease store when a pair first starts (persistence/
lease_store.py); a single controller never writes here. Downgrading drops the table: a pair
must then be stopped (an older ccgateway knows no pair).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ha_lease"
down_revision: str | None = "0001_baseline"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "ha_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("advertise_url", sa.String(length=2048), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("ha_lease")
