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

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ccgateway.persistence import (
    handover_store,  # noqa: F401  (its table, on Base)
    lease_store,  # noqa: F401  (its table, on Base)
    queue_log_tables,  # noqa: F401  (its table, on Base)
    report_tables,  # noqa: F401  (its tables, on Base)
    webhook_tables,  # noqa: F401  (its tables on Base)
)
from ccgateway.persistence.migrate import SchemaMismatch, hold_schema_lock, upgrade
from ccgateway.persistence.outage import raise_outages
from ccgateway.persistence.record_guards import guard_records
from ccgateway.persistence.tables import Base

__all__ = ["SchemaMismatch", "connect", "open_database"]

PG_CONNECT_TIMEOUT_S = 3


def open_database(url: str) -> Engine:
    """An engine on `url` with the schema in place and at this code's head revision.

    SQLite (`sqlite:///path`) gets its folder created, foreign keys on, WAL and a 30 s busy
    timeout; `sqlite://` is a scratch database that lives as long as its engine. PostgreSQL is
    `postgresql+psycopg://user@host:port/db` (a bare `postgresql://` means psycopg 3 too).
    """
    engine = connect(url)
    upgrade(engine)
    with engine.begin() as connection:
        hold_schema_lock(connection)  # SQLite's guards replace themselves only if changed
        guard_records(connection, Base.metadata.tables)
    return engine


def connect(url: str, connect_args: dict[str, Any] | None = None) -> Engine:
    """An engine on `url` with SQLite's settings, the schema left as it is (`ccgateway
    db` migrates on it); `connect_args` for the driver (the lease's timeouts)."""
    parsed = make_url(url)
    # A server's connection may have been cut since it was pooled (a restart, a failover):
    # each checkout tests it first. A SQLite file's connection cannot be cut; testing it cost
    # a statement per transaction.
    options: dict[str, Any] = {"pool_pre_ping": parsed.get_backend_name() != "sqlite"}
    if connect_args:
        options["connect_args"] = dict(connect_args)
    scratch = False
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            scratch = True
            parsed = parsed.set(database=_scratch_file())
        path = Path(str(parsed.database)).expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            path.touch(mode=0o600)  # SQLite's -wal and -shm files take its mode
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # A server that does not answer (failing over) is found out in seconds, not minutes
        # (the caller's own arguments kept: the lease's shorter timeouts).
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **(connect_args or {})}
    engine = create_engine(parsed, **options)
    raise_outages(engine)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if scratch:
            event.listen(engine, "connect", _scratch_pragmas)
            weakref.finalize(engine, shutil.rmtree, path.parent, ignore_errors=True)
    return engine


def _scratch_file() -> str:
    """A file in a folder of its own, not SQLite's `:memory:`: an in-memory database is one
    connection, and sessions in several threads sharing one connection share its
    transaction (one's rollback undid another's insert). The folder goes with the engine."""
    return str(Path(tempfile.mkdtemp(prefix="ccgateway-scratch-")) / "scratch.sqlite")


def _scratch_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")  # a scratch database need not survive a crash
    cursor.close()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # Every commit on disk before the write is done, not only before the next checkpoint
    # (NORMAL): the PBX's end marks of a call are dropped once its record is written
    # (ForgetEndMarks waits for the write), so a commit a power cut took back would be a
    # call recorded nowhere. The cost is an fsync a commit, in the writer's thread.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()
