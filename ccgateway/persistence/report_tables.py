"""The interval reports' tallies (schema 10; QueueTally's `redirected` and `cut_off` since
Alembic 0004): one row per id and 15-minute bucket, a column per counter or sum of the
domain's tallies (reports.py), made from their fields so the two cannot drift apart (a new
field is a new column: a revision adds it, and the migration tests fail until one does).
Rows only add up (additive upserts, report_store.py); a bucket is named by its start in
epoch seconds (`bucket_start`, a multiple of 900).

    report_queue_intervals     (queue_id, bucket_start)   QueueTally
    report_agent_intervals     (agent_id, bucket_start)   AgentTally + Activity
    report_agent_pauses        (agent_id, bucket_start, reason)   seconds
    report_campaign_intervals  (campaign_id, bucket_start)   CampaignTally
    report_campaign_counts     (campaign_id, bucket_start, what)   count, total
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import BigInteger, Column, Float, Index, String, Table

from ccgateway.domain.figures import AgentTally, QueueTally
from ccgateway.domain.reports import Activity, CampaignTally, Count
from ccgateway.persistence.tables import Base


def _columns(*tallies: type) -> list[Column[Any]]:
    """A column per field: counts as BIGINT, sums of seconds as FLOAT, all 0 by default."""
    out: list[Column[Any]] = []
    for tally in tallies:
        for f in fields(tally):
            kind: BigInteger | Float[float] = (
                BigInteger() if f.type in ("int", int) else Float(asdecimal=False)
            )
            out.append(Column(f.name, kind, nullable=False, default=0))
    return out


def _table(name: str, id_name: str, extra: tuple[str, ...], *tallies: type) -> Table:
    keys: list[Column[Any]] = [
        Column(id_name, String(64), primary_key=True),
        Column("bucket_start", BigInteger, primary_key=True),
        *(Column(e, String(200), primary_key=True) for e in extra),
    ]
    table = Table(name, Base.metadata, *keys, *_columns(*tallies))
    # A report over every id reads a range of buckets: by bucket first.
    Index(f"ix_{name}_bucket", table.c.bucket_start)
    return table


queue_intervals = _table("report_queue_intervals", "queue_id", (), QueueTally)
agent_intervals = _table("report_agent_intervals", "agent_id", (), AgentTally, Activity)
agent_pauses = Table(
    "report_agent_pauses",
    Base.metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("bucket_start", BigInteger, primary_key=True),
    Column("reason", String(200), primary_key=True),
    Column("seconds", Float, nullable=False, default=0),
)
Index("ix_report_agent_pauses_bucket", agent_pauses.c.bucket_start)
campaign_intervals = _table("report_campaign_intervals", "campaign_id", (), CampaignTally)
campaign_counts = _table("report_campaign_counts", "campaign_id", ("what",), Count)
