"""The schema's migrations (Alembic), as the controller's start and `ccgateway db` run them.

Every change runs in one transaction that holds the database's write lock: PostgreSQL's
DDL is transactional and an advisory lock serialises two controllers (or a controller and
a CLI command) starting at once; SQLite's is made so with BEGIN IMMEDIATE (pysqlite would
otherwise commit each CREATE by itself), so a failed upgrade leaves nothing half done and
a second process waits, then finds the work done. A database already at the head is only
read, without the lock: opening stays cheap while a controller writes.

Three kinds of database come here: a new one (the history from the baseline), one from
before Alembic (`schema_version` and no `alembic_version`: legacy.py's steps, then stamped
at the baseline), and one Alembic manages (upgraded from its revision). A revision this
code does not know was written by a newer ccgateway: refused, never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from ccgateway.persistence.migrations import legacy

SCRIPTS = Path(__file__).parent / "migrations"
BASELINE = "0001_baseline"
# Any constant: the advisory lock's key, the same in every process of ccgateway.
_PG_LOCK = 0x63636777  # "ccgw"


class SchemaMismatch(ValueError):
    """The database was written by a newer ccgateway: refusing to touch it."""


def scripts() -> ScriptDirectory:
    """The packaged history (the same for every database)."""
    return ScriptDirectory(str(SCRIPTS))


def head() -> str:
    """The newest revision this code knows."""
    found = scripts().get_current_head()
    assert found is not None  # the baseline at least
    return found


def current(engine: Engine) -> str | None:
    """The database's revision; None for a new database or one from before Alembic."""
    with engine.connect() as connection:
        return _revision(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """The database at `revision` (by default the newest), whatever kind it was."""
    if revision == "head" and _is_at_head(engine):
        return
    with _locked(engine) as connection:
        _check_known(connection, engine)
        if _revision(connection) is None and _has_legacy_table(connection):
            try:
                legacy.upgrade_to_baseline(connection, legacy.legacy_version(connection))
            except legacy.NewerLegacyVersion as exc:
                raise SchemaMismatch(_newer(engine, f"schema version {exc}")) from exc
            command.stamp(_config(connection), BASELINE)
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """The database back at `revision` ("base": before the baseline, so no tables)."""
    with _locked(engine) as connection:
        _check_known(connection, engine)
        command.downgrade(_config(connection), revision)


def new_revision(message: str) -> Path:
    """A new revision after the head, in the source tree's versions/, its operations drafted
    by Alembic's autogenerate: what tells the head's schema (built in a scratch in-memory
    SQLite database) from tables.py. A draft: read it, and add what autogenerate cannot
    see (data to move, PostgreSQL's own, the record guards' triggers) before committing."""
    from ccgateway.persistence.database import connect  # (it imports this module)
    from ccgateway.persistence.tables import Base

    number = sum(1 for _ in scripts().walk_revisions()) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"
    engine = connect("sqlite://")
    upgrade(engine)
    with engine.connect() as connection:
        config = _config(connection)
        config.attributes["target_metadata"] = Base.metadata
        script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}_{slug}")
    engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("file_template", "%%(rev)s")  # the id says the number and what
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _is_at_head(engine: Engine) -> bool:
    with engine.connect() as connection:
        return _revision(connection) == head()


def _has_legacy_table(connection: Connection) -> bool:
    return connection.dialect.has_table(connection, "schema_version")


def _check_known(connection: Connection, engine: Engine) -> None:
    found = _revision(connection)
    if found is None:
        return
    try:
        scripts().get_revision(found)
    except CommandError as exc:  # "Can't locate revision identified by ..."
        raise SchemaMismatch(_newer(engine, f"revision {found}")) from exc


def _newer(engine: Engine, what: str) -> str:
    where = engine.url.render_as_string(hide_password=True)
    return f"the database at {where} has schema {what}, newer than this ccgateway's: upgrade it"


def hold_schema_lock(connection: Connection) -> None:
    """On PostgreSQL, wait for and hold (until the transaction ends) the lock every schema
    change takes: the migrations, and the record guards made again on each open (two
    processes replacing one function at once fail with "tuple concurrently updated")."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction holding the database's write lock, committed at the
    end (rolled back on an error)."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                hold_schema_lock(connection)
                yield connection
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        saved = raw.isolation_level
        raw.isolation_level = None  # pysqlite begins nothing by itself: BEGIN is ours
        # A revision in batch mode copies a table and drops the old one: with foreign keys
        # on, that would cascade into its children. Off for the migration (it cannot change
        # inside a transaction), the keys checked before the commit, on again after.
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaMismatch(f"the migration broke foreign keys: {broken[:5]}")
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            raw.isolation_level = saved
