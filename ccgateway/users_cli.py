"""`ccgateway users add|list|passwd|remove`: people's accounts, on the configured database.

The same rules as `POST /v1/users` (api/sessions.py `Accounts`). A password comes from
`--password-file` (its first line), else is asked twice on a terminal, else is one line of
standard input; it is never an argument, which other users could read in the process list.
"""

from __future__ import annotations

import argparse
import sys
from getpass import getpass
from pathlib import Path

from ccgateway.api.sessions import Accounts, Passwords
from ccgateway.domain.errors import DomainError

ROLES = ("admin", "supervisor", "agent", "wallboard")


def add_users_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="path to a TOML config file (default: $CCGW_CONFIG)")
    users = commands.add_parser("users", help="people's accounts: add, list, passwd, remove")
    actions = users.add_subparsers(dest="users_command", required=True)

    add = actions.add_parser("add", parents=[common], help="a new account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--agent", help="the agent's id (exactly for role agent)")
    add.add_argument("--device", help="a supervisor's phone for listening in, e.g. PJSIP/sup1")
    add.add_argument("--display-name", default="", help="the name the pages show")
    add.add_argument("--password-file", type=Path, help="read the password from this file")
    add.set_defaults(handler=run, action=_add)

    listing = actions.add_parser("list", parents=[common], help="every account")
    listing.set_defaults(handler=run, action=_list)

    passwd = actions.add_parser("passwd", parents=[common], help="a new password")
    passwd.add_argument("username")
    passwd.add_argument("--password-file", type=Path, help="read the password from this file")
    passwd.set_defaults(handler=run, action=_passwd)

    remove = actions.add_parser("remove", parents=[common], help="remove an account")
    remove.add_argument("username")
    remove.set_defaults(handler=run, action=_remove)


def _add(args: argparse.Namespace, accounts: Accounts) -> int:
    password = read_password(args.password_file)
    user = accounts.add(
        args.username, password, args.role, args.agent, args.device, args.display_name
    )
    print(f"added {user.username} ({user.role})")
    return 0


def _list(args: argparse.Namespace, accounts: Accounts) -> int:
    for user in accounts.list():
        fields = (user.username, user.role, user.agent_id, user.device, user.display_name)
        print("\t".join(field or "-" for field in fields))
    return 0


def _passwd(args: argparse.Namespace, accounts: Accounts) -> int:
    accounts.get(args.username)  # before asking for a password for nobody
    accounts.set_password(args.username, read_password(args.password_file))
    print(f"new password for {args.username}; their sessions have ended")
    return 0


def _remove(args: argparse.Namespace, accounts: Accounts) -> int:
    accounts.remove(args.username)
    print(f"removed {args.username}")
    return 0


def read_password(path: Path | None) -> str:
    """The first line of `path`; else asked twice on a terminal; else a line of stdin."""
    if path is not None:
        lines = path.read_text().splitlines()
        return lines[0] if lines else ""
    if sys.stdin.isatty():
        first = getpass("Password: ")
        if getpass("Again: ") != first:
            raise _Refused("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


class _Refused(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    """Run a `users` command on the configured database; a refusal is one line on stderr
    and exit status 1."""
    from ccgateway.persistence import open_database
    from ccgateway.persistence.accounts import SqlSessionStore, SqlUserStore
    from ccgateway.settings import load_settings

    try:
        engine = open_database(load_settings(args.config).database_url)
    except (ValueError, OSError) as exc:
        print(f"ccgateway users: cannot open the database: {exc}", file=sys.stderr)
        return 2
    try:
        accounts = Accounts(SqlUserStore(engine), SqlSessionStore(engine), Passwords())
        result: int = args.action(args, accounts)
    except (DomainError, _Refused, OSError) as exc:
        print(f"ccgateway users: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return result
