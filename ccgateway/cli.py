"""The `ccgateway` command: one entry point, one subcommand group per concern.

Each group's module is imported only when its command is run (or for the whole help): a
group imports what its work needs (the API's account rules, the dialer's importer, the
simulator), and `ccgateway users list` need not pay for the others' imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# (the commands a group adds, its module, the function that adds them), in the help's order
GROUPS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("sandbox",), "ccgateway.sandbox.cli", "add_sandbox_commands"),
    (("demo",), "ccgateway.demo", "add_demo_command"),
    (("contacts", "dnc"), "ccgateway.contacts_cli", "add_import_commands"),
    (("simulate",), "ccgateway.sim.cli", "add_simulate_commands"),
    (("users",), "ccgateway.users_cli", "add_users_commands"),
    (("purge",), "ccgateway.retention_cli", "add_purge_command"),
    (("webhooks",), "ccgateway.webhooks_cli", "add_webhooks_commands"),
    (("db",), "ccgateway.db_cli", "add_db_commands"),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with `serve` and the group that adds `command` (every group for None or a
    command no group adds: the help, or an error that lists every command)."""
    parser = argparse.ArgumentParser(prog="ccgateway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the controller (PBX adapters + REST API)")
    serve.add_argument("--config", help="path to a TOML config file (default: $CCGW_CONFIG)")
    serve.set_defaults(handler=_serve)

    wanted = [group for group in GROUPS if command in group[0]] or GROUPS
    if command == "serve":
        wanted = []
    for _, module, function in wanted:
        getattr(importlib.import_module(module), function)(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from ccgateway.app import run_controller

    return run_controller(config_path=args.config)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
