"""`ccgateway sandbox ...`: up, down, status, phone, call, outside."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict

from ccgateway.sandbox import PHONE_MODES, Sandbox, SandboxError
from ccgateway.sandbox.asterisk_config import MAX_AGENTS, SECOND
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.phones import OUTSIDE_MODES

PBXES = ("asterisk", "freeswitch", "both")
ONE_PBX = ("asterisk", "freeswitch", SECOND.name)  # the sandboxes one command may address

CALLEE_HELP = """\
In callee mode each call Asterisk places through the trunk does what the dialled number
says: its last six digits are K RR TTT (anything may come before them).
  K    1 a person: answers, says "Hello?", then listens (silence)
       2 an answering machine: answers, an 8 s greeting, a beep, then silence
       3 never answers (rings until the PBX gives up)
       4 busy (486)   5 invalid number (404)   6 unavailable (503)
       7 a silent line: answers, sends only silence
       other digits, or a number of fewer than six digits: answers at once, no audio
  RR   seconds of ringing before the answer (or the refusal)
  TTT  tenths of a second from the answer to the callee's own hang-up; 000: never
e.g. +4930555105030 is a person who answers after 5 s and hangs up 3 s later;
     +4930555200000 a machine that answers at once; +4930555300000 never answers.
Needs espeak-ng and sox (the speech); the recordings are made in the state folder."""


def add_sandbox_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser("sandbox", help="a local Asterisk 22 with sipp phones")
    sub = sandbox.add_subparsers(dest="sandbox_command", required=True)

    up = sub.add_parser(
        "up",
        help="(re)start Asterisk and one sipp phone per agent",
        description="Start the sandbox PBX: AMI on 127.0.0.1:5038, SIP on 127.0.0.1:5060, "
        "agent K's phone on 127.0.0.1:(5070+K) up to agent 19, then on 127.0.0.1:(6000+K), "
        "the outside world behind the trunk on "
        "127.0.0.1:5090. Builds the Asterisk root once (needs root).",
    )
    up.add_argument("--agents", type=int, default=4, help=f"1-{MAX_AGENTS} (default 4)")
    up.add_argument(
        "--asterisks",
        type=int,
        default=1,
        choices=(1, 2),
        help=f"2: a second Asterisk beside the first ({SECOND.name}: AMI "
        f"127.0.0.1:{SECOND.ami_port}, SIP 127.0.0.1:{SECOND.sip_port}, agent K's phone on "
        f"{SECOND.phone_blocks[0][2]}+K, the same number of agents up to {SECOND.max_agents}, "
        "its AMI secret in asterisk2/ami-secret under the state folder); `--pbx asterisk2` "
        "addresses it in the other commands",
    )
    up.add_argument(
        "--phone",
        action="append",
        default=[],
        metavar="K=MODE",
        help=f"agent K's phone mode: {', '.join(PHONE_MODES)} (default answer; repeatable)",
    )
    up.add_argument(
        "--outside",
        default="answer",
        choices=OUTSIDE_MODES,
        help="the phone behind the trunk (default answer; callee: see `sandbox outside -h`)",
    )
    up.add_argument(
        "--hold-timeout",
        type=int,
        default=900,
        metavar="SECONDS",
        help="how long a caller waits before the PBX itself ends the wait, controller or "
        "not: Asterisk sends them to the fallback (ccgw-fallback), FreeSWITCH hangs up "
        "(ALLOTTED_TIMEOUT)",
    )
    up.add_argument(
        "--freeswitch-bin",
        metavar="PATH",
        help="the FreeSWITCH binary for --pbx freeswitch/both (default $CCGW_FREESWITCH_BIN, "
        "else `freeswitch` on PATH)",
    )
    _add_pbx(up)
    up.set_defaults(handler=_up)

    down = sub.add_parser("down", help="stop everything; no process or mount is left")
    _add_pbx(down, with_second=True)
    down.set_defaults(handler=_down)
    status = sub.add_parser("status", help="what runs (JSON)")
    _add_pbx(status, with_second=True)
    status.set_defaults(handler=_status)

    phone = sub.add_parser("phone", help="restart one agent's phone in another mode")
    phone.add_argument("agent", type=int)
    phone.add_argument("mode", choices=PHONE_MODES)
    phone.add_argument("--pbx", default="asterisk", choices=ONE_PBX, help="default asterisk")
    phone.set_defaults(handler=_phone)

    call = sub.add_parser(
        "call",
        help="place customer calls to a queue extension",
        description="Customer calls from one sipp (on a free port of its own, so several "
        "`call`s may run at once), all placed at once.",
    )
    call.add_argument("extension", help="the queue's extension (digits)")
    call.add_argument("--count", type=int, default=1, help="calls at once (default 1)")
    call.add_argument(
        "--hangup-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="each caller hangs up this long after being answered (default 30)",
    )
    call.add_argument("--caller", help="caller number in From (default: a random one per call)")
    call.add_argument(
        "--name",
        help='caller display name in From (default "Customer N"); any printable text but '
        "';', e.g. '<img src=x onerror=alert(1)>' to try a page's escaping",
    )
    call.add_argument(
        "--key", help="press this key every 2 s once answered (1: ask for a callback)"
    )
    call.add_argument("--wait", action="store_true", help="wait and report how the calls ended")
    call.add_argument(
        "--pbx",
        default="asterisk",
        choices=ONE_PBX,
        help="which sandbox PBX the customers call (default asterisk)",
    )
    call.set_defaults(handler=_call)

    outside = sub.add_parser(
        "outside",
        help="the phone behind the trunk that every outside number reaches (callbacks, "
        "transfers to a number, a campaign's customers)",
        description="Restart the phone behind the trunk (127.0.0.1:5090; FreeSWITCH's gateway\n"
        "`trunk`: 127.0.0.1:5290) in MODE: answer,\n"
        "noanswer, busy and off as for agents' phones, or callee.\n\n" + CALLEE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    outside.add_argument("mode", choices=OUTSIDE_MODES)
    _add_pbx(outside, with_second=True)
    outside.set_defaults(handler=_outside)


def _add_pbx(parser: argparse.ArgumentParser, with_second: bool = False) -> None:
    second = f", or {SECOND.name} (the second Asterisk of `up --asterisks 2`)"
    parser.add_argument(
        "--pbx",
        default="asterisk",
        choices=(*PBXES, SECOND.name) if with_second else PBXES,
        help="asterisk (default), freeswitch (an installed FreeSWITCH binary with a generated "
        "configuration: SIP 127.0.0.1:5200, agent K's phone on 5200+K as user 1000+K, ESL "
        "127.0.0.1:8031 with a generated password), or both (asterisk: the second Asterisk "
        "too, if it runs)" + (second if with_second else ""),
    )


def _sandbox(pbx: str) -> Sandbox | FreeSwitchSandbox:
    """The one sandbox `--pbx` names (asterisk, asterisk2 or freeswitch)."""
    if pbx == "freeswitch":
        return FreeSwitchSandbox()
    return Sandbox(layout=SECOND) if pbx == SECOND.name else Sandbox()


def _guard(action: Callable[[], int]) -> int:
    """Run a sandbox action; a SandboxError is a message for the user, not a traceback."""
    try:
        return action()
    except SandboxError as exc:
        print(f"sandbox: {exc}")
        return 1


def _up(args: argparse.Namespace) -> int:
    def act() -> int:
        phones = {}
        for item in args.phone:
            k, _, mode = item.partition("=")
            if not k.isdigit() or mode not in PHONE_MODES:
                raise SandboxError(f"--phone takes K=MODE with MODE in {PHONE_MODES}, not {item!r}")
            phones[int(k)] = mode
        if args.pbx in ("asterisk", "both"):
            status = Sandbox().up(args.agents, phones, args.hold_timeout, outside=args.outside)
            modes = ", ".join(f"agent{p.agent}={p.mode}" for p in status.phones)
            print(
                f"sandbox: up: AMI {status.ami} (user ccgateway), SIP {status.sip}; {modes}; "
                f"outside={status.outside}"
            )
            if args.asterisks == 2:
                second = Sandbox(layout=SECOND)
                agents = min(args.agents, SECOND.max_agents)
                mine = {k: m for k, m in phones.items() if k <= agents}
                two = second.up(agents, mine, args.hold_timeout, outside=args.outside)
                print(
                    f"sandbox: up: {SECOND.name}: AMI {two.ami} (user ccgateway, secret in "
                    f"{second.state_dir / 'ami-secret'}), SIP {two.sip}; {len(two.phones)} phones"
                )
        if args.pbx in ("freeswitch", "both"):
            fs = FreeSwitchSandbox().up(
                args.agents,
                phones,
                binary=args.freeswitch_bin,
                outside=args.outside,
                hold_timeout_s=args.hold_timeout,
            )
            modes = ", ".join(f"user/{p.user}={p.mode}" for p in fs.phones)
            print(
                f"sandbox: up: FreeSWITCH ESL {fs.esl} (password in {fs.password_file}), "
                f"SIP {fs.sip}; {modes}"
            )
        return 0

    return _guard(act)


def _down(args: argparse.Namespace) -> int:
    def act() -> int:
        if args.pbx in ("freeswitch", "both"):
            FreeSwitchSandbox().down()
        if args.pbx in ("asterisk", "both", SECOND.name):
            Sandbox(layout=SECOND).down()  # first: the last one down unmounts the root
        if args.pbx in ("asterisk", "both"):
            Sandbox().down()
        print("sandbox: down")
        return 0

    return _guard(act)


def _status(args: argparse.Namespace) -> int:
    def act() -> int:
        if args.pbx in ("asterisk", SECOND.name):
            status = _sandbox(args.pbx).status()
            print(json.dumps(asdict(status), indent=2))
            return 0 if status.running else 3
        fs = FreeSwitchSandbox().status()
        if args.pbx == "freeswitch":
            print(json.dumps(asdict(fs), indent=2))
            return 0 if fs.running else 3
        ast = Sandbox().status()
        print(json.dumps({"asterisk": asdict(ast), "freeswitch": asdict(fs)}, indent=2))
        return 0 if ast.running and fs.running else 3

    return _guard(act)


def _phone(args: argparse.Namespace) -> int:
    def act() -> int:
        sandbox = _sandbox(args.pbx)
        sandbox.set_phone(args.agent, args.mode)
        print(f"sandbox: agent{args.agent}'s phone is now {args.mode}")
        return 0

    return _guard(act)


def _call(args: argparse.Namespace) -> int:
    def act() -> int:
        sandbox = _sandbox(args.pbx)
        batch = sandbox.call(
            args.extension, args.count, args.hangup_after, args.caller, key=args.key, name=args.name
        )
        if not args.wait:
            print(f"sandbox: {args.count} call(s) to {args.extension} placed (sipp {batch.pid})")
            return 0
        outcome = batch.wait()
        print(
            f"sandbox: {args.count} call(s) to {args.extension}: "
            f"{outcome.completed} completed, {outcome.failed} failed"
        )
        return 0 if outcome.failed == 0 and outcome.completed == args.count else 1

    return _guard(act)


def _outside(args: argparse.Namespace) -> int:
    def act() -> int:
        sandbox = _sandbox(args.pbx)
        sandbox.set_outside(args.mode)
        print(f"sandbox: the outside phone (behind the trunk) is now {args.mode}")
        return 0

    return _guard(act)
