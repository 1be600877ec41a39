"""How fast the dialer gets its next contacts from a list of millions, against one sorted query.

What is measured
    `SqlOutboundStore.due`: the dialer's hopper asks the store for the next `count` (100)
    contacts that may be dialled now, best first (callbacks due, then priority, then due
    time, new contacts after due retries of the same priority, then id), leaving out the
    contacts it already holds (200 ids). It runs in the database writer's turn, so while it
    runs no progress is saved and no dial goes out: its time is a delay on every dial.

    A campaign with N contacts (10 % at priority 1): 60 % done, 5 % scheduled retries due,
    5 % scheduled for later, 0.001 % callbacks due, the rest (about 30 %) new. Each size is
    imported with `import_contacts` (its time is printed too), then queried `--repeat` times
    at different moments (the set of due retries changes); the median and the slowest are
    printed.

Why this baseline
    `one_sorted_query` is what `due` was before schema version 6: a single SELECT with the
    whole due condition (new, or scheduled and due) and ORDER BY callback_at NULLS LAST,
    priority DESC, next_at NULLS LAST, id, LIMIT count, on its own index (campaign_id,
    state, next_at), which this benchmark makes for it. No index can give that order, so the
    database reads and sorts every due contact to return 100. `due` now makes three reads
    (callbacks, due retries, new contacts), each in the order of an index and stopped at
    `count`, and merges them. Both run on the same database in the same run, and every
    answer of `due` is checked to be the baseline's, contact for contact.

    python -m benchmarks.contacts_due [--sizes 10000 100000 1000000] [--url URL]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, Select, and_, or_, select, text
from sqlalchemy.orm import Session

from ccgateway.domain.outbound.campaigns import Campaign, CampaignState, DialMode
from ccgateway.domain.outbound.contacts import Contact, ContactList, ContactState
from ccgateway.domain.outbound.rules import Purpose
from ccgateway.persistence import outbound_rows
from ccgateway.persistence.database import UPGRADES, open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.tables import ContactRow
from ccgateway.ports import DueQuery

T = TypeVar("T")
COUNT = 100
HELD = 200
NOW = 2_000_000.0


def one_sorted_query(query: DueQuery) -> Select[ContactRow]:
    c = ContactRow
    return (
        select(c)
        .where(
            c.campaign_id == query.campaign_id,
            or_(
                c.state == ContactState.NEW.value,
                and_(c.state == ContactState.SCHEDULED.value, c.next_at <= query.now),
            ),
            c.callback_agent_id.is_(None),
            c.id.not_in(sorted(query.exclude)),
        )
        .order_by(
            c.callback_at.asc().nulls_last(),
            c.priority.desc(),
            c.next_at.asc().nulls_last(),
            c.id,
        )
        .limit(query.count)
    )


def fill(engine: Engine, size: int, *, old_schema: bool) -> float:
    store = SqlOutboundStore(engine)
    campaign = Campaign(
        id="bench",
        name="Bench",
        purpose=Purpose.SERVICE,
        rule_set_id="uk",
        mode=DialMode.PREDICTIVE,
        queue_id="out",
        caller_id="+442071234567",
        abandon_message="ccgw-abandon",
    )
    store.put_campaign(campaign, CampaignState.RUNNING)
    contacts = [
        Contact(
            f"k{n:07d}",
            "big",
            f"+4420{n:08d}",
            ("Europe/London",),
            priority=1 if n % 10 == 3 else 0,
        )
        for n in range(size)
    ]
    began = time.perf_counter()
    store.import_contacts(ContactList("big", "bench", "Big", 0.0), contacts)
    took = time.perf_counter() - began
    # the progress of a campaign under way, set in bulk (the writer would do it one by one)
    n = "CAST(SUBSTR(id, 2) AS INTEGER)"
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE contacts SET state = 'done' WHERE {n} % 100 < 60"))
        connection.execute(
            text(
                f"UPDATE contacts SET state = 'scheduled', next_at = {NOW} - {n} % 997 "
                f"WHERE {n} % 100 BETWEEN 60 AND 64"
            )
        )
        connection.execute(
            text(
                f"UPDATE contacts SET state = 'scheduled', next_at = {NOW} + 3600 + {n} % 997 "
                f"WHERE {n} % 100 BETWEEN 65 AND 69"
            )
        )
        connection.execute(
            text(
                f"UPDATE contacts SET state = 'scheduled', next_at = {NOW} - {n} % 300, "
                f"callback_at = {NOW} - {n} % 300 WHERE {n} % 100000 = 99999"
            )
        )
        if old_schema:  # what version 5 had: the index of the one sorted query
            connection.execute(text("DROP INDEX ix_contacts_order"))
            connection.execute(text("DROP INDEX ix_contacts_callbacks"))
            connection.execute(
                text("CREATE INDEX ix_contacts_due ON contacts (campaign_id, state, next_at)")
            )
        connection.execute(text("ANALYZE"))
    return took


def timed_ms(action: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    result = action()
    return (time.perf_counter() - began) * 1000.0, result


def queries(repeat: int) -> list[DueQuery]:
    """The hopper's asks: a minute apart, each leaving out the contacts it holds."""
    return [
        DueQuery(
            "bench",
            NOW + i * 60.0,
            COUNT,
            frozenset(f"k{n:07d}" for n in range(i * 37, i * 37 + 3 * HELD, 3)),
        )
        for i in range(repeat)
    ]


def run_ours(engine: Engine, asks: list[DueQuery]) -> tuple[list[float], list[list[str]]]:
    store = SqlOutboundStore(engine)
    store.due(asks[0])  # warm: statement compilation, the page cache
    times, answers = [], []
    for ask in asks:
        ms, got = timed_ms(partial(store.due, ask))
        times.append(ms)
        answers.append([contact.id for contact, _ in got])
    return times, answers


def run_baseline(engine: Engine, asks: list[DueQuery]) -> tuple[list[float], list[list[str]]]:
    def due(ask: DueQuery) -> list[str]:
        with Session(engine) as session:  # as due() was: the rows, then the domain's values
            entries = [outbound_rows.entry(r) for r in session.scalars(one_sorted_query(ask))]
        return [contact.id for contact, _ in entries]

    due(asks[0])
    times, answers = [], []
    for ask in asks:
        ms, got = timed_ms(partial(due, ask))
        times.append(ms)
        answers.append(got)
    return times, answers


def empty(engine: Engine) -> None:
    """A PostgreSQL database is reused from size to size: empty it, and put its indexes back."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM contacts"))
        connection.execute(text("DELETE FROM contact_lists"))
        connection.execute(text("DELETE FROM campaigns WHERE id = 'bench'"))
        for statement in UPGRADES[6]:  # the indexes of this version, the old one dropped
            connection.execute(text(statement))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--url", help="a PostgreSQL URL (an empty database); SQLite if none")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.machine()}; count {COUNT}, {HELD} held")
    print(
        f"{'database':10} {'contacts':>9} {'import s':>9} {'due p50 ms':>11} {'due max':>8}"
        f" {'one query p50 ms':>17} {'max':>8} {'speed-up':>9}"
    )
    for size in args.sizes:
        asks = queries(args.repeat)
        results = {}
        imported = 0.0
        for old_schema in (True, False):
            with tempfile.TemporaryDirectory() as folder:
                engine = open_database(args.url or f"sqlite:///{Path(folder) / 'due.db'}")
                backend = engine.dialect.name
                try:
                    empty(engine)
                    took = fill(engine, size, old_schema=old_schema)
                    imported = took if not old_schema else imported
                    run = run_baseline if old_schema else run_ours
                    results[old_schema] = run(engine, asks)
                finally:
                    empty(engine)
                    engine.dispose()
        (theirs, expected), (ours, got) = results[True], results[False]
        if got != expected:
            raise SystemExit(f"{size} contacts: due() answered other contacts than the baseline")
        ours_p50, theirs_p50 = statistics.median(ours), statistics.median(theirs)
        print(
            f"{backend:10} {size:>9} {imported:>9.1f} {ours_p50:>11.2f} "
            f"{max(ours):>8.2f} {theirs_p50:>17.2f} {max(theirs):>8.2f} "
            f"{theirs_p50 / ours_p50:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
