"""Chaos on the real sandbox Asterisk: a controller pair on PostgreSQL under load, with faults.

What is run (one run, `python -m benchmarks.chaos`; needs root, sipp, Debian's postgresql and
the sandbox lock: `flock /tmp/ast-sandbox.lock ...`)
    The sandbox Asterisk with 20 sipp agent phones that answer at once; a throwaway
    PostgreSQL (tests/pg_server.py); two `ccgateway serve` of this checkout as a pair
    (ha.mode = "pair", nodes a and b), each reaching Asterisk's AMI through a relay
    (tests/pbx/asterisk/proxy.py) that writes down every action it sends; customers from
    sipp at 5 calls/s for `--duration` s, each hanging up `--talk` s after Asterisk answers
    it (its wait included). Whatever controller process exits is started again 2 s later, as systemd
    does with config/systemd/ccgateway.service (RestartSec=2). Spread over the run, one at
    a time:
      1-3. the active controller killed (`kill -9`), three times: the standby takes over;
      4.   the active frozen (SIGSTOP) until the standby has taken over, then resumed
           (SIGCONT): the tap shows every action it sent after resuming (none, it must be);
      5.   Asterisk restarted (`core restart now`: every channel is hung up);
      6.   PostgreSQL restarted (stopped at once, as a crash, then started);
      7.   PostgreSQL away for `--pg-away` s (10), longer than the lease: the active rides it
           out on the PBX's owner mark and renews at the same epoch (README, "High
           availability").
    A raw AMI connection of the benchmark's own records every event (reconnecting after the
    restart); benchmarks/load_log.py and chaos_log.py read the log.

Figures: per fault, how long until the other controller was active, until routing resumed
(the next agent leg Asterisk created) and the callers lost around it; then, for the whole
run, calls placed by sipp, seen by Asterisk and recorded in the database, records missing
or duplicated, callers lost (hung up unserved while an agent was free; the restart's cut-off
callers aside), doubled (two agent legs for one caller), agent legs left up and agents not
available at the end. Written to benchmarks/results/chaos.txt as well with --write.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from benchmarks.asterisk_load import AmiLog, configure, customers, free_port
from benchmarks.chaos_log import (
    Action,
    Fault,
    action_names,
    check_records,
    close_at,
    first_leg_after,
    lost_after_any,
    lost_between,
    sent_between,
)
from benchmarks.load_log import read_phase
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.asterisk_config import AMI_PORT
from tests.pbx.asterisk.proxy import Proxy
from tests.pg_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "chaos.txt"
AGENTS = 20
RESTART_S = 2.0  # RestartSec in config/systemd/ccgateway.service
LOST_WINDOW_S = 15.0  # a fault's lost callers: those who hung up this soon after it


# --- what each controller asked --------------------------------------------------------------


def tap(node: str, actions: list[Action]) -> Proxy:
    """A relay between one controller and Asterisk's AMI (tests/pbx/asterisk/proxy.py) that
    writes down the name of every action the controller sends, and when: the PBX's side of
    the wire, not the controller's own log."""

    def watcher() -> Callable[[bytes], None]:
        pending = b""  # an action not yet whole, on this connection

        def watch(data: bytes) -> None:
            nonlocal pending
            names, pending = action_names(pending + data)
            now = time.time()
            actions.extend(Action(now, node, name) for name in names)

        return watch

    return Proxy(("127.0.0.1", AMI_PORT), watch=watcher)


# --- the pair ----------------------------------------------------------------------------------


@dataclass
class Node:
    """One controller of the pair: `ccgateway serve` of this checkout, started again
    RESTART_S after it exits (unless the run is over)."""

    name: str
    folder: Path
    config: Path
    env: dict[str, str]
    url: str
    process: subprocess.Popen[bytes] | None = None
    exits: list[tuple[float, int]] = field(default_factory=list)

    def launch(self) -> None:
        with open(self.folder / "serve.log", "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ccgateway", "serve", "--config", str(self.config)],
                env=self.env, stdout=out, stderr=out, cwd=ROOT,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self) -> str:
        log = self.folder / "serve.log"
        return log.read_text(errors="replace")[-1500:] if log.exists() else "(not started)"


def make_node(name: str, work: Path, pg_url: str, ami_port: int, secret: str, key: str) -> Node:
    folder = work / f"node-{name}"
    folder.mkdir(mode=0o700)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = folder / "ccgateway.toml"
    config.touch(mode=0o600)
    config.write_text(
        f'database_url = "{pg_url}"\n'
        f'[asterisk]\nport = {ami_port}\nsecret = "{secret}"\n[api]\nport = {port}\n'
        f'[ha]\nmode = "pair"\nnode_id = "{name}"\nadvertise_url = "{url}"\n'
    )
    env = dict(os.environ, CCGW_ADMIN_KEY=key, PYTHONPATH=str(ROOT))
    return Node(name, folder, config, env, url)


class Pair:
    def __init__(self, nodes: list[Node], key: str) -> None:
        self.nodes = nodes
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=2)
        self.running = True

    async def health(self, node: Node) -> dict[str, Any]:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            answer: dict[str, Any] = (await self.http.get(f"{node.url}/v1/health")).json()
            return answer
        return {}

    async def active(self, within_s: float = 30.0, not_node: Node | None = None) -> Node:
        """The node that says it is active with its PBX link up."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node is not_node:
                    continue
                seen = await self.health(node)
                if seen.get("role") == "active" and seen.get("pbx_ready"):
                    return node
            await asyncio.sleep(0.05)
        tails = "\n".join(f"--- {n.name}\n{n.log_tail()}" for n in self.nodes)
        raise RuntimeError(f"no active controller within {within_s:.0f} s\n{tails}")

    async def standby(self, within_s: float = 30.0) -> Node:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for node in self.nodes:
                if (await self.health(node)).get("role") == "standby":
                    return node
            await asyncio.sleep(0.1)
        raise RuntimeError(f"no standby within {within_s:.0f} s")

    async def supervise(self) -> None:
        """systemd's Restart=, RestartSec=2: an exited controller is started again."""
        while self.running:
            for node in self.nodes:
                assert node.process is not None
                code = node.process.poll()
                if code is not None and self.running:
                    node.exits.append((time.time(), code))
                    await asyncio.sleep(RESTART_S)
                    node.launch()
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        self.running = False
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                os.kill(node.pid, signal.SIGCONT)
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    await asyncio.to_thread(node.process.wait, 10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
        await self.http.aclose()


# --- the faults ---------------------------------------------------------------------------------


async def kill_active(pair: Pair) -> Fault:
    await pair.standby()
    victim = await pair.active()
    at = time.time()
    os.kill(victim.pid, signal.SIGKILL)
    await asyncio.sleep(0.5)  # its API gone with it
    successor = await pair.active()
    took = time.time() - at
    return Fault("kill -9", at, victim.name, took, f"then active: {successor.name}")


async def freeze_active(pair: Pair, actions: list[Action]) -> Fault:
    await pair.standby()
    victim = await pair.active()
    assert victim.process is not None
    process = victim.process
    at = time.time()
    os.kill(victim.pid, signal.SIGSTOP)
    await pair.active(not_node=victim)
    took = time.time() - at
    resumed = time.time()
    os.kill(victim.pid, signal.SIGCONT)
    code = await asyncio.to_thread(process.wait, 15)
    ended = time.time()
    await asyncio.sleep(0.5)  # the tap has read whatever it wrote before it went
    sent = sent_between(actions, victim.name, resumed, ended + 0.5)
    detail = (
        f"resumed after {resumed - at:.1f} s; exited {code} {ended - resumed:.2f} s later; "
        f"AMI actions it sent after resuming: {', '.join(sent) if sent else 'none'}"
    )
    return Fault("SIGSTOP", at, victim.name, took, detail)


async def restart_asterisk(pair: Pair, sandbox: Sandbox) -> Fault:
    at = time.time()
    await asyncio.to_thread(sandbox.restart_asterisk)
    ready = time.time() - at
    await pair.active()
    return Fault("Asterisk restart", at, None, None, f"Asterisk ready again after {ready:.1f} s")


async def restart_postgres(pg: PostgresServer) -> Fault:
    at = time.time()
    await asyncio.to_thread(pg.stop)
    await asyncio.to_thread(pg.start)
    return Fault("PostgreSQL restart", at, None, None, f"down {time.time() - at:.1f} s")


async def postgres_away(pair: Pair, pg: PostgresServer, away_s: float) -> Fault:
    before = await pair.active()
    epoch = (await pair.health(before)).get("epoch")
    at = time.time()
    await asyncio.to_thread(pg.stop)
    await asyncio.sleep(away_s)
    await asyncio.to_thread(pg.start)
    down = time.time() - at
    await asyncio.sleep(3.0)  # the holder renews (or, had it not ridden, a standby takes over)
    after = await pair.active()
    now = (await pair.health(after)).get("epoch")
    detail = (
        f"down {down:.1f} s; active {before.name} (epoch {epoch}) -> {after.name} (epoch {now})"
    )
    return Fault("PostgreSQL away", at, None, None, detail)


async def faults(
    pair: Pair,
    sandbox: Sandbox,
    pg: PostgresServer,
    actions: list[Action],
    duration: float,
    pg_away_s: float,
) -> list[Fault]:
    steps: list[Callable[[], Awaitable[Fault]]] = [
        lambda: kill_active(pair),
        lambda: kill_active(pair),
        lambda: kill_active(pair),
        lambda: freeze_active(pair, actions),
        lambda: restart_asterisk(pair, sandbox),
        lambda: restart_postgres(pg),
        lambda: postgres_away(pair, pg, pg_away_s),
    ]
    done: list[Fault] = []
    start, wall = time.monotonic(), time.time()
    for k, step in enumerate(steps, start=1):
        await asyncio.sleep(max(0.0, start + duration * k / (len(steps) + 1) - time.monotonic()))
        fault = await step()
        print(f"  +{fault.at - wall:5.1f} s {fault}", flush=True)
        done.append(fault)
    return done


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Run:
    started: float
    placed: int
    faults: list[Fault]
    events: list[dict[str, str]]
    actions: list[Action]
    rows: dict[str, int]
    outcomes: dict[str, int]
    not_available: list[str]
    exits: dict[str, list[tuple[float, int]]]


async def run(args: argparse.Namespace, work: Path) -> Run:
    sandbox = Sandbox()
    sandbox.up(agents=AGENTS)
    # AstDB outlives Asterisk: end marks an earlier run left would be recorded by this one
    sandbox.asterisk_cli("database deltree ccgw_end")
    pg = PostgresServer()
    key, secret = secrets.token_urlsafe(24), sandbox.ami_secret()
    actions: list[Action] = []
    log = AmiLog(secret)
    taps = {name: tap(name, actions) for name in ("a", "b")}
    pair: Pair | None = None
    supervisor: asyncio.Task[None] | None = None
    try:
        await log.start()
        ports = {name: await relay.start() for name, relay in taps.items()}
        pair = Pair([make_node(n, work, pg.url, p, secret, key) for n, p in ports.items()], key)
        pair.nodes[0].launch()
        first = await pair.active(60)
        pair.nodes[1].launch()
        await pair.standby(60)
        supervisor = asyncio.create_task(pair.supervise())
        async with httpx.AsyncClient(
            base_url=first.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            await configure(http, AGENTS)
        calls = int(args.rate * args.duration)
        started = time.time()
        load = asyncio.create_task(asyncio.to_thread(
            customers, "ccgateway", args.rate, calls, args.talk, work / "sipp"))  # fmt: skip
        done = await faults(pair, sandbox, pg, actions, args.duration, args.pg_away)
        placed = await load
        await asyncio.sleep(args.talk + 5)  # the last calls end, their records are written
        active = await pair.active()
        async with httpx.AsyncClient(
            base_url=active.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            agents = (await http.get("/v1/agents")).json()
        not_available = [a["id"] for a in agents if a.get("state") != "available"]
        rows, outcomes = interactions_by(pg.url, "call_id"), interactions_by(pg.url, "outcome")
        return Run(started, placed, done, list(log.events), actions, rows, outcomes,
                   not_available, {n.name: n.exits for n in pair.nodes})  # fmt: skip
    finally:
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        if pair is not None:
            await pair.close()
        for relay in taps.values():
            await relay.stop()
        await log.stop()
        sandbox.down()
        pg.remove()


def interactions_by(url: str, column: str) -> dict[str, int]:
    """How many interactions the database holds per value of `column`."""
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            query = f"SELECT {column}, count(*) FROM interactions GROUP BY {column}"
            return {str(value): int(count) for value, count in db.execute(text(query)).all()}
    finally:
        engine.dispose()


# --- report ---------------------------------------------------------------------------------------


def report(result: Run, load_avg: tuple[float, ...], args: argparse.Namespace) -> str:
    devices = [f"PJSIP/agent{k}" for k in range(1, AGENTS + 1)]
    phase = read_phase(result.events, devices)
    cut: set[str] = set()
    for fault in result.faults:
        if fault.kind == "Asterisk restart":
            cut |= close_at(phase, fault.at)
    lost = [c for c in phase.lost() if c not in cut]
    doubled, stuck = phase.doubled(), phase.stuck()
    records = check_records(phase.callers, result.rows)
    others = sorted(c for c in result.rows if c not in phase.callers)
    unready = sum(1 for c in records.missing if c not in phase.ready)
    t0 = result.started
    lines = [
        "Chaos on the sandbox Asterisk: a controller pair on PostgreSQL under load",
        f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average at start "
        + ", ".join(f"{x:.2f}" for x in load_avg),
        f"load       {AGENTS} agents, {args.rate:g} calls/s for {args.duration:.0f} s, each "
        f"caller hanging up {args.talk:g} s after Asterisk answered it (its wait included)",
        f"restarts   an exited controller is started again after {RESTART_S:.0f} s "
        "(config/systemd/ccgateway.service's RestartSec)",
        "",
        "fault                at s  node |       active s | routing resumed s | lost in "
        f"{LOST_WINDOW_S:.0f} s | detail",
    ]
    for f in result.faults:
        took = "-" if f.took_s is None else f"{f.took_s:.2f}"
        resumed = first_leg_after(phase, f.at)
        back = "never" if resumed is None else f"{resumed:.2f}"
        near = lost_between(phase, lost, f.at, f.at + LOST_WINDOW_S)
        lines.append(
            f"{f.kind:<19} {f.at - t0:5.1f}  {f.node or '-':>4} | {took:>14} | {back:>17} | "
            f"{near:>10} | {f.detail}"
        )
    not_available = ", ".join(result.not_available) or "none"
    lines += [
        "",
        f"calls      placed by sipp {result.placed}, seen by Asterisk {len(phase.callers)}, "
        f"recorded {sum(1 for c in phase.callers if result.rows.get(c))}, bridged "
        f"{len(phase.bridged)}, cut off by the Asterisk restart {len(cut)}",
        f"records    missing {len(records.missing)}, duplicated {len(records.duplicated)}"
        + (
            f" (missing: {', '.join(records.missing[:10])}; of them {unready} never "
            "reached the queue: no CCGWWaiting)"
            if records.missing
            else ""
        )
        + (f" (duplicated: {records.duplicated})" if records.duplicated else ""),
        f"callers    lost {len(lost)} (of which within {LOST_WINDOW_S:.0f} s of a fault "
        f"{lost_after_any(phase, lost, (f.at for f in result.faults), LOST_WINDOW_S)}), "
        f"doubled {len(doubled)}",
        f"agents     legs left up {len(stuck)}, not available at the end: {not_available}",
        "outcomes   " + ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())),
        f"other rows {len(others)} records of call ids that are no caller's"
        + (f" (e.g. {', '.join(others[:5])})" if others else ""),
        "exits      "
        + "; ".join(
            f"{name}: " + (", ".join(f"{code} at {at - t0:.1f} s" for at, code in exits) or "none")
            for name, exits in result.exits.items()
        ),
        f"actions    sent by a {sum(1 for a in result.actions if a.node == 'a')}, "
        f"by b {sum(1 for a in result.actions if a.node == 'b')} (through the taps)",
    ]
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> None:
    load_avg = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ccgw-chaos-"))
    try:
        result = await run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text_out = report(result, load_avg, args)
    print(text_out, end="")
    if args.write:
        RESULTS.write_text(text_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="customer calls a second")
    parser.add_argument("--duration", type=float, default=150.0, help="seconds of calls")
    parser.add_argument("--talk", type=float, default=3.0, help="s from answer to hang-up")
    parser.add_argument(
        "--pg-away", type=float, default=10.0, help="s PostgreSQL is away in the last fault"
    )
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS}")
    parser.add_argument("--keep", action="store_true", help="keep the controllers' logs")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
