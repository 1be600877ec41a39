"""The `ccgateway` command: one entry point, one subcommand group per concern."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccgateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the controller (PBX adapters + REST API)")
    serve.add_argument("--config", help="path to a TOML config file (default: $CCGW_CONFIG)")
    serve.set_defaults(handler=_serve)

    from ccgateway.contacts_cli import add_import_commands
    from ccgateway.db_cli import add_db_commands
    from ccgateway.demo import add_demo_command
    from ccgateway.retention_cli import add_purge_command
    from ccgateway.sandbox.cli import add_sandbox_commands
    from ccgateway.sim.cli import add_simulate_commands
    from ccgateway.users_cli import add_users_commands
    from ccgateway.webhooks_cli import add_webhooks_commands

    add_sandbox_commands(commands)
    add_demo_command(commands)
    add_import_commands(commands)
    add_simulate_commands(commands)
    add_users_commands(commands)
    add_purge_command(commands)
    add_webhooks_commands(commands)
    add_db_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from ccgateway.app import run_controller

    return run_controller(config_path=args.config)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
