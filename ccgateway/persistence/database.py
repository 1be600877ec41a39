"""Opening the database: the engine, SQLite's settings, the schema at this code's revision.

The schema is Alembic's (persistence/migrate.py, migrations/): opening a database brings
it to the head, whether it is new, from before Alembic (ccgateway's schema_version 1-10)
or at an older revision, and refuses one a newer ccgateway wrote (SchemaMismatch).
`ccgateway db upgrade` does the same by hand, for those who migrate before they start.
The dialer's record tables get triggers that refuse any change to a record but an
erasure's and a purge's (record_guards.py), made again on every open. A SQLite file this
creates is readable by its owner alone (it holds personal data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from ccgateway.persistence import (
    queue_log_tables,  # noqa: F401  (its table, on Base)
    report_tables,  # noqa: F401  (its tables, on Base)
    webhook_tables,  # noqa: F401  (its tables on Base)
)
from ccgateway.persistence.migrate import SchemaMismatch, hold_schema_lock, upgrade
from ccgateway.persistence.record_guards import guard_records
from ccgateway.persistence.tables import Base

__all__ = ["SchemaMismatch", "connect", "open_database"]


def open_database(url: str) -> Engine:
    """An engine on `url` with the schema in place and at this code's head revision.

    SQLite (`sqlite:///path`) gets its folder created, foreign keys on, WAL and a 30 s busy
    timeout; `sqlite://` is an in-memory database shared by all sessions. PostgreSQL is
    `postgresql+psycopg://user@host:port/db` (a bare `postgresql://` means psycopg 3 too).
    """
    engine = connect(url)
    upgrade(engine)
    with engine.begin() as connection:
        hold_schema_lock(connection)  # SQLite's guards replace themselves only if changed
        guard_records(connection, Base.metadata.tables)
    return engine


def connect(url: str) -> Engine:
    """An engine on `url` with SQLite's settings, the schema left as it is (`ccgateway
    db` migrates on it)."""
    parsed = make_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool  # one connection, or each would see its own db
        else:
            path = Path(parsed.database).expanduser()
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)  # SQLite's -wal and -shm files take its mode
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
