"""Interval reports from a year of 15-minute tallies, against computing them from raw rows.

What is measured
    A database (PostgreSQL with `--postgres` or `--url`, else SQLite) holding a year of the
    reports' 15-minute tallies for `--agents` agents on `--queues` queues, bulk-inserted
    (COPY on PostgreSQL): every queue's buckets from 07:00 to 21:00 each day, each agent's
    buckets of an 8-hour shift on weekdays with their time by state and a pause, and
    `--raw-days` days of raw finished-call records (`interactions`, `--calls` per agent and
    working day) whose tallies are the real fold of those records (`ReportFold`), so the
    report and the recount of those days must agree (checked, printed).

    Each report is `SqlReportStore` as the API calls it (the database sums per stretch of
    one UTC offset, Python adds the stretches and names the intervals), in Europe/Berlin,
    timed with `time.perf_counter` (median of `--repeat`, after one untimed run).

    Baselines on the same database:
      recount   the raw records of the range read and folded through the live figures'
                functions per queue (or agent) and interval, as the tests' recount does:
                what a report without the tallies has to do. Measured on the raw days;
                for ranges longer than them, scaled by the ratio of rows (stated, not
                measured: the cost is linear in rows read).
      scan      `SELECT queue_id, count(*) ... GROUP BY` over the same raw rows in SQL: the
                least any report from raw rows costs (it computes almost nothing).

    python -m benchmarks.reports [--postgres | --url URL] [--agents 500] [--queues 20]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, func, select, text

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.figures import (
    AgentTally,
    FigureRules,
    QueueTally,
    add_to_agent,
    add_to_queue,
    reaches_queue,
)
from ccgateway.domain.reports import (
    BUCKET_S,
    Activity,
    Interval,
    ReportFold,
    bucket_of,
    label_of,
    span,
)
from ccgateway.persistence.database import open_database
from ccgateway.persistence.report_store import SqlReportStore
from ccgateway.persistence.report_tables import agent_intervals, agent_pauses, queue_intervals
from ccgateway.persistence.tables import InteractionRow

TZ = ZoneInfo("Europe/Berlin")
YEAR_START = datetime(2026, 1, 1, tzinfo=TZ)
DAY_S = 86_400
OUTCOMES = [Outcome.ANSWERED] * 17 + [Outcome.ABANDONED, Outcome.TIMED_OUT, Outcome.TRANSFERRED]


@contextlib.contextmanager
def database(args: argparse.Namespace, folder: Path) -> Iterator[str]:
    if args.url:
        yield args.url
    elif args.postgres:  # a throwaway cluster, as the store tests make one
        from tests.persistence.conftest import postgres_url

        with contextlib.contextmanager(postgres_url.__wrapped__)() as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'reports.db'}"


def day_starts(days: int) -> list[int]:
    """Local midnights (Europe/Berlin) of the year's first `days` days."""
    start = YEAR_START.date()
    return [
        int(
            datetime.combine(
                start.fromordinal(start.toordinal() + d), datetime.min.time(), TZ
            ).timestamp()
        )
        for d in range(days)
    ]


def bulk(engine: Engine, table: Table, rows: Iterator[tuple[Any, ...]]) -> int:
    """Rows into `table` (COPY on PostgreSQL, executemany on SQLite); how many."""
    names = [c.name for c in table.columns]
    count = 0
    if engine.dialect.name == "postgresql":
        connection = engine.raw_connection()
        try:
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
                    count += 1
            connection.commit()
        finally:
            connection.close()
        return count
    statement = table.insert()
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(dict(zip(names, row, strict=True)))
            count += 1
            if len(batch) == 20_000:
                conn.execute(statement, batch)
                batch = []
        if batch:
            conn.execute(statement, batch)
    return count


def raw_calls(args: argparse.Namespace, days: list[int], rng: random.Random) -> list[Interaction]:
    """`--calls` finished calls per agent and working day, in each agent's shift."""
    records = []
    n = 0
    for midnight in days:
        if datetime.fromtimestamp(midnight, TZ).weekday() >= 5:
            continue
        for a in range(args.agents):
            shift = midnight + (7 + a % 6) * 3600
            for _ in range(args.calls):
                n += 1
                outcome = rng.choice(OUTCOMES)
                wait = rng.expovariate(1 / 25)
                talk = (
                    rng.expovariate(1 / 240)
                    if outcome in (Outcome.ANSWERED, Outcome.TRANSFERRED)
                    else 0.0
                )
                arrived = shift + rng.uniform(0, 8 * 3600 - 1200)
                answered = arrived + wait if talk else None
                ended = arrived + wait + talk
                agent = f"a{a:03d}" if talk else None
                records.append(
                    Interaction(f"c{n}", f"q{a % args.queues:02d}", agent, "+491701234567", outcome,
                                round(arrived, 3), answered and round(answered, 3), round(ended, 3),
                                round(wait, 3), round(talk, 3), 1)
                )  # fmt: skip
    return records


def fill(
    engine: Engine, args: argparse.Namespace, rng: random.Random
) -> tuple[float, dict[str, int], list[int]]:
    """The year's tallies and the raw days; (seconds taken, rows per table, raw days)."""
    began = time.perf_counter()
    days = day_starts(365)
    raw_days = days[: args.raw_days]
    raw = raw_calls(args, raw_days, rng)
    interactions = InteractionRow.__table__
    columns = [c.name for c in interactions.columns if c.name != "id"]

    def raw_rows() -> Iterator[tuple[Any, ...]]:
        for i, r in enumerate(raw, 1):
            who = (r.call_id, r.queue_id, r.agent_id, r.caller_number, r.outcome.value)
            times = (r.arrived_at, r.answered_at, r.ended_at, r.wait_s, r.talk_s, r.offers)
            yield (i, *who, *times, "", "inbound", "voice")

    counts = {"interactions": bulk(engine, interactions, raw_rows())}  # type: ignore[arg-type]
    assert len(columns) == 14
    # The raw days' tallies: the real fold of their records.
    fold = ReportFold(FigureRules())
    for record in raw:
        fold.add_interaction(record)
    folded = fold.take(0)
    queue_fields = [f.name for f in fields(QueueTally)]
    agent_fields = [f.name for f in fields(AgentTally)] + [f.name for f in fields(Activity)]
    raw_end = raw_days[-1] + DAY_S if raw_days else days[0]

    def queue_rows() -> Iterator[tuple[Any, ...]]:
        for (queue, bucket), tally in folded.queues.items():
            yield (queue, bucket, *(getattr(tally, n) for n in queue_fields))
        for midnight in days[args.raw_days :]:
            for b in range(midnight + 7 * 3600, midnight + 21 * 3600, BUCKET_S):
                for q in range(args.queues):
                    offered = rng.randint(5, 40)
                    answered = offered - rng.randint(0, 4)
                    in_time, transferred = answered - rng.randint(0, 5), rng.randint(0, 2)
                    yield (f"q{q:02d}", b, offered, answered, in_time, transferred,
                           offered - answered, rng.randint(0, 2), 0, 0, 0, 0, 0, 0,
                           answered * 25.0, answered * 240.0, 90.0, 0, 0, 0.0, 0.0)  # fmt: skip

    def agent_rows() -> Iterator[tuple[Any, ...]]:
        for key in folded.agents.keys() | folded.activity.keys():
            tally, activity = (
                folded.agents.get(key, AgentTally()),
                Activity(600.0, 30.0, 200.0, 70.0),
            )
            yield (
                *key,
                *(getattr(tally, n) for n in agent_fields[:6]),
                *(getattr(activity, n) for n in agent_fields[6:]),
            )
        for midnight in days:
            if midnight < raw_end or datetime.fromtimestamp(midnight, TZ).weekday() >= 5:
                continue
            for a in range(args.agents):
                shift = midnight + (7 + a % 6) * 3600
                for b in range(shift, shift + 8 * 3600, BUCKET_S):
                    calls = rng.randint(0, 4)
                    login, logout = int(b == shift), int(b == shift + 8 * 3600 - BUCKET_S)
                    yield (f"a{a:03d}", b, calls, calls * 240.0, 0, 0, 0, 0.0,
                           300.0, 20.0, 400.0, 100.0, 80.0, login, logout)  # fmt: skip

    def pause_rows() -> Iterator[tuple[Any, ...]]:
        for midnight in days:
            if datetime.fromtimestamp(midnight, TZ).weekday() < 5:
                for a in range(args.agents):
                    yield (f"a{a:03d}", midnight + (11 + a % 6) * 3600, "lunch", 900.0)

    assert len(queue_fields) + 2 == len(queue_intervals.columns)
    counts["report_queue_intervals"] = bulk(engine, queue_intervals, queue_rows())
    counts["report_agent_intervals"] = bulk(engine, agent_intervals, agent_rows())
    counts["report_agent_pauses"] = bulk(engine, agent_pauses, pause_rows())
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - began, counts, raw_days


def recount(
    engine: Engine, kind: Interval, start: int, end: int, by: str
) -> dict[tuple[str, int], Any]:
    """The baseline: the range's raw records read and folded per id and interval."""
    table = InteractionRow.__table__
    rules = FigureRules()
    labels: dict[int, int] = {}
    out: dict[tuple[str, int], Any] = {}
    names = ("call_id", "queue_id", "agent_id", "caller_number", "outcome", "arrived_at")
    names += ("answered_at", "ended_at", "wait_s", "talk_s", "offers")
    statement = select(*(table.c[n] for n in names)).where(  # type: ignore[attr-defined]
        table.c.arrived_at >= start - DAY_S,  # type: ignore[attr-defined]
        table.c.arrived_at < end,  # type: ignore[attr-defined]
    )
    with engine.connect() as conn:
        for row in conn.execute(statement):
            record = Interaction(*row[:4], Outcome(row[4]), *row[5:])
            if not start <= record.ended_at < end:
                continue
            bucket = bucket_of(record.ended_at)
            label = labels.get(bucket)
            if label is None:
                label = labels[bucket] = label_of(kind, bucket, TZ)
            if by == "queue" and reaches_queue(record):
                tally = out.setdefault((record.queue_id, label), QueueTally())
                add_to_queue(tally, record, rules)
            elif by == "agent" and record.agent_id is not None:
                add_to_agent(out.setdefault((record.agent_id, label), AgentTally()), record)
    return out


def scan(engine: Engine, start: int, end: int) -> int:
    table = InteractionRow.__table__
    statement = (
        select(table.c.queue_id, func.count())  # type: ignore[attr-defined]
        .where(table.c.arrived_at >= start, table.c.arrived_at < end)  # type: ignore[attr-defined]
        .group_by(table.c.queue_id)  # type: ignore[attr-defined]
    )
    with engine.connect() as conn:
        return len(conn.execute(statement).all())


def raw_rows_between(engine: Engine, start: int, end: int) -> int:
    table = InteractionRow.__table__
    statement = select(func.count()).where(table.c.arrived_at >= start, table.c.arrived_at < end)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.scalar(statement) or 0)


def timed(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds of `repeat` runs after one untimed; and the last result."""
    result = work()
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--calls", type=int, default=40, help="per agent and working day (raw)")
    parser.add_argument("--raw-days", type=int, default=31, help="days of raw records (January)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    parser.add_argument("--url", help="an empty database")
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as folder, database(args, Path(folder)) as url:
        engine = open_database(url)
        took, counts, raw_days = fill(engine, args, rng)
        store = SqlReportStore(engine)
        days = day_starts(366)
        jan, feb = days[0], days[31]
        cases = [
            ("a month by day, all queues", "queue", Interval.DAY, jan, feb),
            ("a year by week, all queues", "queue", Interval.WEEK, jan, days[365]),
            ("a year by month, all queues", "queue", Interval.MONTH, jan, days[365]),
            ("a day by 15 min, all agents", "agent", Interval.MIN15, days[5], days[6]),
            ("a month by day, all agents", "agent", Interval.DAY, jan, feb),
            ("a year by month, all agents", "agent", Interval.MONTH, jan, days[365]),
        ]
        raw_start, raw_end = raw_days[0], raw_days[-1] + DAY_S
        raw_total = raw_rows_between(engine, raw_start, raw_end)
        results = []
        agree = True
        for name, by, kind, start, end in cases:
            asked = span(kind, start, end, TZ)
            read = store.queues if by == "queue" else store.agents
            ours, found = timed(args.repeat, lambda: read(asked, None))  # noqa: B023
            inside = min(end, raw_end) - start > 0
            base_end = min(end, raw_end)
            base, counted = timed(args.repeat, lambda: recount(engine, kind, start, base_end, by))  # noqa: B023
            scanned, _ = timed(args.repeat, lambda: scan(engine, start, base_end))  # noqa: B023
            rows = raw_rows_between(engine, start, end) if end <= raw_end else raw_total
            # the raw records cover the first days only: longer ranges scaled by length
            scale = (end - start) / (raw_end - start) if end > raw_end else 1.0
            if inside and end <= raw_end:
                mine = {k: (v if by == "queue" else v[0]) for k, v in found.items()}
                empty = QueueTally() if by == "queue" else AgentTally()
                agree &= all(
                    same(mine.get(k, empty), counted.get(k, empty)) for k in mine | counted
                )
            results.append(
                (
                    name,
                    len(found),
                    ours,
                    base * scale,
                    scanned * scale,
                    end > raw_end,
                    int(rows * scale),
                )
            )
        engine.dispose()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("Interval reports from 15-minute tallies, against computing them from raw records")
    print(f"date       {time.strftime('%Y-%m-%d')}")
    print(f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average {load}")
    print(f"python     {platform.python_implementation()} {platform.python_version()}")
    print(f"database   {engine.dialect.name}: a year (2026, Europe/Berlin) for {args.agents} "
          f"agents on {args.queues} queues, made in {took:.0f} s")  # fmt: skip
    for table, n in counts.items():
        print(f"           {n:>12,} rows in {table}")
    print(
        f"           raw records: {args.raw_days} days, {args.calls} calls per agent and "
        "working day"
    )
    print()
    print(
        f"{'report':30} {'rows':>6} | {'tallies':>9} | {'recount':>9} {'scan':>9} {'raw rows':>10}"
    )
    print("-" * 84)
    for name, rows, ours, base, scanned, scaled, raw_rows in results:
        mark = "*" if scaled else " "
        print(
            f"{name:30} {rows:>6} | {ms(ours):>9} | {ms(base):>8}{mark} {ms(scanned):>8}{mark} "
            f"{raw_rows:>10,}"
        )
    print()
    print("tallies: SqlReportStore as the API reads it; recount: the raw records folded per id and")
    print(
        "interval in Python; scan: a GROUP BY count over the same raw rows in SQL (a lower bound)."
    )
    print(
        f"* scaled from the {args.raw_days} raw days by the ratio of the lengths (linear in rows "
        "read)."
    )
    print(f"the reports agree with the recount on the raw days: {'yes' if agree else 'NO'}")
    return 0 if agree else 1


def same(a: object, b: object) -> bool:
    """Every field equal (sums of seconds to a microsecond: the database adds in its order)."""
    return all(
        math.isclose(getattr(a, f.name), getattr(b, f.name), abs_tol=1e-6)
        for f in fields(a)  # type: ignore[arg-type]
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


if __name__ == "__main__":
    raise SystemExit(main())
