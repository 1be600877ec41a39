"""`ccgateway sandbox ...`: up, down, status, phone, call."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from ccgateway.sandbox import PHONE_MODES, Sandbox, SandboxError


def add_sandbox_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser("sandbox", help="a local Asterisk 22 with sipp phones")
    sub = sandbox.add_subparsers(dest="sandbox_command", required=True)

    up = sub.add_parser("up", help="start Asterisk and one sipp phone per agent")
    up.add_argument("--agents", type=int, default=4)
    up.add_argument(
        "--phone",
        action="append",
        default=[],
        metavar="K=MODE",
        help=f"agent K's phone mode: {', '.join(PHONE_MODES)} (repeatable)",
    )
    up.add_argument(
        "--hold-timeout",
        type=int,
        default=900,
        help="seconds a caller waits before the PBX sends them to the fallback",
    )
    up.set_defaults(handler=_up)

    sub.add_parser("down", help="stop everything; no process or mount left").set_defaults(
        handler=_down
    )
    sub.add_parser("status", help="what runs").set_defaults(handler=_status)

    phone = sub.add_parser("phone", help="change one agent phone's mode")
    phone.add_argument("agent", type=int)
    phone.add_argument("mode", choices=PHONE_MODES)
    phone.set_defaults(handler=_phone)

    call = sub.add_parser("call", help="place customer calls to a queue extension")
    call.add_argument("extension")
    call.add_argument("--count", type=int, default=1)
    call.add_argument("--hangup-after", type=float, default=30.0)
    call.add_argument("--caller", help="caller number (default: a random one per call)")
    call.add_argument("--wait", action="store_true", help="wait and report how the calls ended")
    call.set_defaults(handler=_call)


def _guard(action: Callable[[], object]) -> int:
    """Run a sandbox action; a SandboxError is a message for the user, not a traceback."""
    try:
        action()
    except SandboxError as exc:
        print(f"sandbox: {exc}")
        return 1
    return 0


def _up(args: argparse.Namespace) -> int:
    def act() -> int:
        phones = {}
        for item in args.phone:
            k, _, mode = item.partition("=")
            if not k.isdigit():
                raise SandboxError(f"--phone takes K=MODE, not {item!r}")
            phones[int(k)] = mode
        Sandbox().up(args.agents, phones, args.hold_timeout)
        print(
            f"sandbox: Asterisk up with {args.agents} agent phones; "
            "AMI 127.0.0.1:5038, SIP 127.0.0.1:5060"
        )
        return 0

    return _guard(act)


def _down(args: argparse.Namespace) -> int:
    def act() -> None:
        Sandbox().down()
        print("sandbox: down")

    return _guard(act)


def _status(args: argparse.Namespace) -> int:
    return _guard(lambda: print(json.dumps(Sandbox().status(), indent=2)))


def _phone(args: argparse.Namespace) -> int:
    return _guard(lambda: Sandbox().set_phone(args.agent, args.mode))


def _call(args: argparse.Namespace) -> int:
    def act() -> None:
        process = Sandbox().call(
            args.extension, args.count, args.hangup_after, args.caller, wait=args.wait
        )
        if not args.wait:
            print(f"sandbox: {args.count} call(s) to {args.extension} placed (sipp {process.pid})")
        elif process.returncode == 0:
            print(f"sandbox: {args.count} call(s) to {args.extension}: all completed")
        else:
            raise SandboxError(f"some of the calls failed (sipp exit {process.returncode})")

    return _guard(act)
