"""Writes a pair's controller left for the next active when it lost the lease (issue 14):
each row a write as a value, who left it and at which epoch (persistence/handover_store.py).

Revision ID: 0005_ha_handover
Revises: 0004_queue_out_of_hands

The rows are transient (the active takes them in within seconds), so the table starts empty.
Downgrading drops it, and any row still in it: stop the pair first, after its active has
taken them in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ha_handover"
down_revision: str | None = "0004_queue_out_of_hands"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite counts only an INTEGER key


def upgrade() -> None:
    op.create_table(
        "ha_handover",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("left_at", sa.Float(), nullable=False),
        sa.Column("write", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ha_handover")
