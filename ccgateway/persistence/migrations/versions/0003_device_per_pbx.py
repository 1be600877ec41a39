"""A phone's name is unique on its PBX, not across every PBX (issue 14, several PBXs): two
Asterisks may each have a `PJSIP/agent1`, each an agent of its own.

Revision ID: 0003_device_per_pbx
Revises: 0002_ha_lease

The old constraint has no name of ours (SQLite's is unnamed, PostgreSQL called it
`agents_device_key`): it is found by its column. Downgrading puts the old one back, which
fails while two agents share a device name on different PBXs: remove one first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_device_per_pbx"
down_revision: str | None = "0002_ha_lease"
branch_labels: str | None = None
depends_on: str | None = None

# SQLite's unnamed constraints get a name by this convention inside batch mode.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    old = _unique_on(["device"])
    if old is None and _unique_on(["pbx", "device"]) is not None:
        return  # made from tables.py as it is now (a test's stand-in for an old database)
    with op.batch_alter_table("agents", naming_convention=NAMING) as batch:
        batch.drop_constraint(old or "uq_agents_device", type_="unique")
        batch.create_unique_constraint("uq_agents_pbx_device", ["pbx", "device"])


def downgrade() -> None:
    with op.batch_alter_table("agents", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_agents_pbx_device", type_="unique")
        batch.create_unique_constraint("uq_agents_device", ["device"])


def _unique_on(columns: list[str]) -> str | None:
    """The name of the unique constraint on `columns` ("" for SQLite's unnamed), or None."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("agents"):
        if constraint["column_names"] == columns:
            return constraint["name"] or ""
    return None
