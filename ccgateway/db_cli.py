"""`ccgateway db upgrade|downgrade|current`: the configured database's schema by hand
(and `db revision`, for developers: a new revision drafted from tables.py).

The controller's start upgrades the database to this code's head by itself; `db upgrade`
does it beforehand (say, before a pair of controllers is restarted on a new release), and
`db downgrade REVISION` takes it back before a return to an older release. Downgrading to
`base` drops every table and every row with it: there is nothing below the baseline.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ccgateway.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


def add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="path to a TOML config file (default: $CCGW_CONFIG)")
    db = commands.add_parser(
        "db", help="the database's schema: upgrade, downgrade, current", description=__doc__
    )
    actions = db.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", parents=[common], help="migrate to a revision (the head)")
    up.add_argument("revision", nargs="?", default="head", help="default: head, the newest")
    up.set_defaults(handler=_upgrade)
    down = actions.add_parser("downgrade", parents=[common], help="migrate back to a revision")
    down.add_argument("revision", help='a revision id, or "base" (drops every table)')
    down.set_defaults(handler=_downgrade)
    now = actions.add_parser("current", parents=[common], help="the database's revision")
    now.set_defaults(handler=_current)
    draft = actions.add_parser(
        "revision", help="(developers) draft a new revision from tables.py's changes"
    )
    draft.add_argument("message", help='what it changes, e.g. "the controllers\' lease"')
    draft.set_defaults(handler=_revision)


def _upgrade(args: argparse.Namespace) -> int:
    from ccgateway.persistence import migrate

    def run(engine: Engine) -> str:
        migrate.upgrade(engine, args.revision)
        return f"upgraded to {migrate.current(engine)}"

    return _on_database(args, run)


def _downgrade(args: argparse.Namespace) -> int:
    from ccgateway.persistence import migrate

    def run(engine: Engine) -> str:
        migrate.downgrade(engine, args.revision)
        return f"downgraded to {migrate.current(engine) or 'base (no tables)'}"

    return _on_database(args, run)


def _current(args: argparse.Namespace) -> int:
    from ccgateway.persistence import migrate
    from ccgateway.persistence.migrations.legacy import legacy_version

    def run(engine: Engine) -> str:
        found = migrate.current(engine)
        if found is None:
            with engine.connect() as connection:
                old = legacy_version(connection)
            before = "new" if old is None else f"schema_version {old}, before Alembic"
            return f"none ({before}); this ccgateway's head is {migrate.head()}"
        return f"{found} (head)" if found == migrate.head() else f"{found} (head: {migrate.head()})"

    return _on_database(args, run)


def _revision(args: argparse.Namespace) -> int:
    from ccgateway.persistence import migrate

    path = migrate.new_revision(args.message)
    print(f"drafted {path}: read it, complete it, and test it (tests/persistence)")
    return 0


def _on_database(args: argparse.Namespace, run: Callable[[Engine], str]) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import OperationalError

    from ccgateway.persistence.database import connect
    from ccgateway.persistence.migrate import SchemaMismatch
    from ccgateway.ports import DatabaseUnavailable

    try:
        engine = connect(load_settings(args.config).database_url)
    except ValueError as exc:
        print(f"no database: {exc}", file=sys.stderr)
        return 1
    try:
        print(run(engine))
    except (SchemaMismatch, CommandError) as exc:
        print(f"nothing changed: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:  # locked too long
        print(f"nothing changed: the database answered: {exc.orig}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:  # not reachable, refused, read-only
        print(f"nothing changed: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0
