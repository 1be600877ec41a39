"""The interval reports' store: tallies added as additive upserts, read back summed into the
centre's intervals.

A flush is one transaction of `INSERT ... ON CONFLICT (id, bucket) DO UPDATE SET x = x +
excluded.x` (the longest wait: the greater), on SQLite and PostgreSQL alike, so two
flushes of the same bucket add up and a flush is all or nothing.

A report reads sums, never raw records: for each stretch of buckets under one UTC offset
(reports.segments) the database groups by `(bucket_start + shift) / width` (integer
division; a month is one group per stretch), and the few stretches' groups are added up
here by the interval's start: a day with a clock change comes from two stretches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, Table, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from ccgateway.domain.figures import AgentTally, QueueTally
from ccgateway.domain.reports import (
    Activity,
    CampaignTally,
    Count,
    Deltas,
    Span,
    segment_label,
    segments,
)
from ccgateway.persistence.report_tables import (
    agent_intervals,
    agent_pauses,
    campaign_counts,
    campaign_intervals,
    queue_intervals,
)

T = TypeVar("T", QueueTally, AgentTally, Activity, CampaignTally, Count)
Grouped = dict[tuple[Any, ...], list[Any]]  # (id, interval start, extra...) -> sums


class SqlReportStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- writing -------------------------------------------------------------------------

    def add(self, deltas: Deltas) -> None:
        """Add every tally of `deltas` to its bucket's row, in one transaction."""
        agents = {key: dict(_values(t)) for key, t in deltas.agents.items()}
        for key, activity in deltas.activity.items():
            agents.setdefault(key, dict(_values(AgentTally()))).update(_values(activity))
        for key in agents:
            if key not in deltas.activity:
                agents[key].update(_values(Activity()))
        with self._engine.begin() as connection:
            batches = [
                (queue_intervals, _rows(deltas.queues, ("queue_id", "bucket_start"))),
                (agent_intervals, _keyed(agents, ("agent_id", "bucket_start"))),
                (campaign_intervals, _rows(deltas.campaigns, ("campaign_id", "bucket_start"))),
                (campaign_counts, _rows(deltas.counts, ("campaign_id", "bucket_start", "what"))),
                (
                    agent_pauses,
                    [
                        {"agent_id": a, "bucket_start": b, "reason": r, "seconds": s}
                        for (a, b, r), s in deltas.pauses.items()
                    ],
                ),
            ]
            for table, rows in batches:
                if rows:
                    connection.execute(self._upsert(table), rows)

    def _upsert(self, table: Table) -> Any:
        keys = [c.name for c in table.primary_key.columns]
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        greatest = func.greatest if self._engine.dialect.name == "postgresql" else func.max
        changes: dict[str, ColumnElement[Any]] = {}
        for column in table.columns:
            if column.name in keys:
                continue
            new = statement.excluded[column.name]
            changes[column.name] = (
                greatest(column, new) if column.name.startswith("longest") else column + new
            )
        return statement.on_conflict_do_update(index_elements=keys, set_=changes)

    # --- reading -------------------------------------------------------------------------

    def queues(self, span: Span, ids: Collection[str] | None) -> dict[tuple[str, int], QueueTally]:
        """Each queue's tally per interval of `span` (intervals with nothing left out)."""
        found = self._grouped(queue_intervals, "queue_id", span, ids)
        return {(k[0], k[1]): QueueTally(*v) for k, v in found.items()}

    def agents(
        self, span: Span, ids: Collection[str] | None
    ) -> dict[tuple[str, int], tuple[AgentTally, Activity, dict[str, float]]]:
        """Each agent's tally, time by state and time by pause reason, per interval."""
        found = self._grouped(agent_intervals, "agent_id", span, ids)
        size = len(fields(AgentTally))
        out: dict[tuple[str, int], tuple[AgentTally, Activity, dict[str, float]]] = {
            (k[0], k[1]): (AgentTally(*v[:size]), Activity(*v[size:]), {}) for k, v in found.items()
        }
        for k, (seconds,) in self._grouped(agent_pauses, "agent_id", span, ids, "reason").items():
            key = (k[0], k[1])
            out.setdefault(key, (AgentTally(), Activity(), {}))[2][k[2]] = seconds
        return out

    def campaigns(
        self, span: Span, ids: Collection[str] | None
    ) -> dict[tuple[str, int], tuple[CampaignTally, dict[str, Count]]]:
        """Each campaign's tally, and its counts (dispositions, answers), per interval."""
        found = self._grouped(campaign_intervals, "campaign_id", span, ids)
        out: dict[tuple[str, int], tuple[CampaignTally, dict[str, Count]]] = {
            (k[0], k[1]): (CampaignTally(*v), {}) for k, v in found.items()
        }
        counts = self._grouped(campaign_counts, "campaign_id", span, ids, "what")
        for k, v in counts.items():
            key = (k[0], k[1])
            out.setdefault(key, (CampaignTally(), {}))[1][k[2]] = Count(*v)
        return out

    def _grouped(
        self, table: Table, id_name: str, span: Span, ids: Collection[str] | None, *extra: str
    ) -> Grouped:
        """Sums of every column of `table` per (id, interval start, extra...)."""
        keys = {id_name, "bucket_start", *extra}
        names = [c.name for c in table.columns if c.name not in keys]
        # PostgreSQL sums BIGINT as NUMERIC: cast back, so counts stay ints
        sums = [
            cast(
                (func.max if n.startswith("longest") else func.sum)(table.c[n]), table.c[n].type
            ).label(n)
            for n in names
        ]
        out: Grouped = {}
        with self._engine.connect() as connection:
            for segment in segments(span.kind, span.start, span.end, span.tz):
                group: ColumnElement[int] = (
                    (table.c.bucket_start + segment.shift) // segment.width
                    if segment.width
                    else literal(0)
                )
                by = [table.c[id_name], *(table.c[e] for e in extra)]
                statement = (
                    select(*by, group.label("grp"), *sums)
                    .where(table.c.bucket_start >= segment.start)
                    .where(table.c.bucket_start < segment.end)
                    .group_by(*by, *([group] if segment.width else []))
                )
                if ids is not None:
                    statement = statement.where(table.c[id_name].in_(list(ids)))
                for row in connection.execute(statement):
                    label = segment_label(span.kind, segment, int(row.grp), span.tz)
                    key = (row[0], label, *(row[1 + i] for i in range(len(extra))))
                    values = [getattr(row, n) for n in names]
                    _add(out, key, values, names)
        return out


def _add(out: Grouped, key: tuple[Any, ...], values: list[Any], names: list[str]) -> None:
    """Two stretches of one interval (a clock change inside it) add up."""
    had = out.get(key)
    if had is None:
        out[key] = values
        return
    out[key] = [
        max(a, b) if n.startswith("longest") else a + b
        for a, b, n in zip(had, values, names, strict=True)
    ]


def _values(tally: object) -> Iterable[tuple[str, Any]]:
    return ((f.name, getattr(tally, f.name)) for f in fields(tally))  # type: ignore[arg-type]


def _rows(tallies: Mapping[tuple[Any, ...], T], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return _keyed({k: dict(_values(t)) for k, t in tallies.items()}, keys)


def _keyed(
    values: Mapping[tuple[Any, ...], dict[str, Any]], keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    return [dict(zip(keys, key, strict=True)) | row for key, row in values.items()]
