"""Load on the real sandbox Asterisk: ccgateway against Asterisk's own app_queue.

What is measured (one run, `python -m benchmarks.asterisk_load`; needs root, sipp, and the
sandbox lock: `flock /tmp/ast-sandbox.lock ...`)
    The sandbox Asterisk (ccgateway/sandbox) with sipp agent phones that answer at once,
    a real `ccgateway serve` (a subprocess: this checkout's code, SQLite in a temporary
    folder, its default log level) and, on the same Asterisk, app_queue with a queue of
    the same phones as static members (ccgateway/sandbox/app_queue_config.py). Customers
    are one sipp per phase at a fixed rate; each hangs up `talk` seconds after Asterisk
    answers it (its wait included). A raw AMI connection of this benchmark's own records
    every event; with the sandbox's `timestampevents` each carries the moment Asterisk
    made it, and every time below is a difference of two such stamps (benchmarks/
    load_log.py defines each one).

    1. Latency, 20 agents: a light phase (1 call/s) and a loaded one (5 calls/s), each run
       for ccgateway then for app_queue, in turn: ready -> agent leg created and ready ->
       agent leg bridged with the caller, p50/p90/p99, and the ratios.
    2. Cost, 50 agents, 10 calls/s for `--duration` s (default 60; the issue's figure is
       600): the controller's CPU seconds per call (its /proc stat, user + system) and
       peak RSS against Asterisk's CPU per call in the same interval, and the REST API's
       p99 (GET /v1/agents and /v1/queues/q/status, in turn, 10 a second) meanwhile.
    3. Accounting of every phase: calls placed by sipp, callers' channels Asterisk
       created, callers in the controller's records; lost, doubled and stuck (load_log.py).

The goals (issue 14): ccgateway <= 1.3x app_queue at p50 and p90 at light load, <= 1.5x
at 20 agents and 5 calls/s; the controller under a fifth of Asterisk's CPU; REST p99 under
20 ms; every count equal and lost = doubled = stuck = 0. The figures are written to
benchmarks/results/asterisk_load.txt as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load_log import Accounting, Phase, account, breakdown, percentile, read_phase
from ccgateway.pbx.asterisk.ami import AmiParser, encode_action
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox import app_queue_config as appq
from ccgateway.sandbox.asterisk_config import AMI_PORT, OBSERVER, SIP_PORT, TRUNK_HEADER

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "asterisk_load.txt"
EXTENSION = "500"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
IDLE_S = 10.0  # the cost phase's REST probe alone, before the calls


# --- a raw AMI reader --------------------------------------------------------------------


class AmiLog:
    """Every event Asterisk sends on a connection of our own, in order, each with the moment
    it reached us (`_received`); connected again after Asterisk restarts (the chaos run)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.events: list[dict[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        logged_in = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(logged_in))
        if await asyncio.wait_for(logged_in, 10) != "Success":
            raise RuntimeError("the benchmark's AMI login was refused")

    async def _run(self, logged_in: asyncio.Future[str | None]) -> None:
        while True:
            with contextlib.suppress(OSError):
                await self._read_one_connection(logged_in)
            await asyncio.sleep(0.2)

    async def _read_one_connection(self, logged_in: asyncio.Future[str | None]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", AMI_PORT)
        login = {"Action": "Login", "Username": OBSERVER, "Secret": self.secret,
                 "Events": "on", "ActionID": "bench-login"}  # fmt: skip
        writer.write(encode_action(login))
        parser = AmiParser()
        try:
            while data := await reader.read(1 << 16):
                now = f"{time.time():.6f}"
                for message in parser.feed(data):
                    if message.get("ActionID") == "bench-login" and not logged_in.done():
                        logged_in.set_result(message.get("Response"))
                    elif "Event" in message:
                        message["_received"] = now
                        self.events.append(message)
        finally:
            writer.close()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- the controller ----------------------------------------------------------------------


@dataclass
class Controller:
    url: str
    key: str
    process: subprocess.Popen[bytes]
    folder: Path

    def cpu_s(self) -> float:
        return process_cpu_s(self.process.pid)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(
    folder: Path,
    settings: str,
    code: Path = ROOT,
    module: str = "ccgateway",
    env: dict[str, str] | None = None,
    pbx_ready: bool = True,
) -> AsyncIterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """`python -m <module> serve` of the package under `code`, with `settings` (TOML, an
    [api] port added) and an admin key, its log in `folder`; (its URL, the key, the
    process) once its health answers (and its PBX is ready, with `pbx_ready`); stopped after.
    Shared by this benchmark and rest_cost.py."""
    port, key = free_port(), secrets.token_urlsafe(24)
    config = folder / "ccgateway.toml"
    config.touch(mode=0o600)
    config.write_text(f"{settings}[api]\nport = {port}\n")
    env = dict(os.environ, CCGW_ADMIN_KEY=key, PYTHONPATH=f"{code}:{ROOT}", **(env or {}))
    # `python -m` puts its working folder first on sys.path: run from the code's own folder,
    # and check that it is the code imported (a `--code` run once ran this checkout's).
    runs = subprocess.run(
        [sys.executable, "-c", "import ccgateway; print(ccgateway.__file__)"],
        env=env, cwd=code, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(runs).resolve().is_relative_to(code.resolve()):
        raise RuntimeError(f"would run {runs}, not the code in {code}")
    with open(folder / "serve.log", "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "serve", "--config", str(config)],
            env=env, stdout=out, stderr=out, cwd=code,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    r = await http.get("/v1/health")
                    if r.status_code == 200 and (r.json().get("pbx_ready") or not pbx_ready):
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "serve.log").read_text(errors="replace")[-800:]
                    raise RuntimeError(f"the controller in {code} did not start: {log}")
                await asyncio.sleep(0.2)
        yield url, key, process
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()


@contextlib.asynccontextmanager
async def controller(
    secret: str, agents: int, trace: bool, code: Path = ROOT
) -> AsyncIterator[Controller]:
    """`ccgateway serve` of the code in `code` (this checkout's by default) against the
    sandbox, its queue and agents ready; with `trace`, through benchmarks/traced_serve.py."""
    folder = Path(tempfile.mkdtemp(prefix="ccgw-load-"))
    settings = (
        f'database_url = "sqlite:///{folder}/ccgateway.db"\n'
        f'[asterisk]\nport = {AMI_PORT}\nsecret = "{secret}"\n'
    )
    (folder / "trace.txt").touch()
    module = "benchmarks.traced_serve" if trace else "ccgateway"
    trace_file = {"CCGW_TRACE": str(folder / "trace.txt")}
    try:
        async with served(folder, settings, code, module, trace_file) as (url, key, process):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as http:
                await configure(http, agents)
            yield Controller(url, key, process, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def configure(http: httpx.AsyncClient, agents: int) -> None:
    """One queue (extension 500, no wrap-up, as app_queue's) and agents 1..N available."""

    async def post(path: str, body: dict[str, Any]) -> None:
        r = await http.post(path, json=body)
        if r.status_code >= 300:
            raise RuntimeError(f"{path}: {r.status_code} {r.text}")

    await post("/v1/skills", {"id": "sales", "name": "Sales"})
    await post("/v1/queues", {"id": "q", "name": "Bench", "extension": EXTENSION,
                              "requires": {"sales": 1}, "wrapup_s": 0})  # fmt: skip
    for k in range(1, agents + 1):
        await post("/v1/agents", {"id": f"agent{k}", "name": f"Agent {k}",
                                  "device": f"PJSIP/agent{k}", "skills": {"sales": 1}})  # fmt: skip
        await post(f"/v1/agents/agent{k}/state", {"state": "available"})


async def records(ctl: Controller, callers: set[str]) -> int:
    """How many of these callers the controller's database has a record of."""
    found: set[str] = set()
    async with httpx.AsyncClient(
        base_url=ctl.url, headers={"Authorization": f"Bearer {ctl.key}"}, timeout=30
    ) as http:
        offset = 0
        while True:
            r = await http.get("/v1/interactions", params={"limit": 1000, "offset": offset})
            r.raise_for_status()
            page = r.json()
            found |= {i["call_id"] for i in page} & callers
            if len(page) < 1000:
                return len(found)
            offset += len(page)


async def agents_not_available(ctl: Controller) -> list[str]:
    async with httpx.AsyncClient(
        base_url=ctl.url, headers={"Authorization": f"Bearer {ctl.key}"}, timeout=30
    ) as http:
        r = await http.get("/v1/agents")
        r.raise_for_status()
        return [a["id"] for a in r.json() if a.get("state") != "available"]


# --- customers -----------------------------------------------------------------------------


def customers(system: str, rate: float, calls: int, talk_s: float, workdir: Path) -> int:
    """Place `calls` customer calls at `rate` a second with sipp, to ccgateway's queue or
    to app_queue's; returns when all have ended, with the number sipp placed."""
    workdir.mkdir(parents=True)
    header = TRUNK_HEADER if system == "ccgateway" else appq.TRUNK_HEADER
    template = resources.files("ccgateway.sandbox").joinpath("scenarios/customer.xml")
    scenario = (
        template.read_text()
        .replace("@HANGUP_MS@", str(round(talk_s * 1000)))
        .replace("@MEDIA@", "m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000")
        .replace("@AUDIO@", "")
        .replace("@TRUNK_HEADER@", f"{header[0]}: {header[1]}")
    )
    (workdir / "customer.xml").write_text(scenario)
    (workdir / "callers.csv").write_text(
        "SEQUENTIAL\n" + "".join(f"+4930{1000000 + i};Customer {i}\n" for i in range(calls))
    )
    period_ms = 1000 if rate >= 1 else round(1000 / rate)
    per_period = max(1, round(rate)) if rate >= 1 else 1
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
    ):
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        sip_port, media_port = a.getsockname()[1], b.getsockname()[1]
    command = [
        "sipp", "-sf", "customer.xml", "-inf", "callers.csv", "-i", "127.0.0.1",
        "-p", str(sip_port), "-mp", str(media_port), "-s", EXTENSION,
        "-m", str(calls), "-r", str(per_period), "-rp", str(period_ms),
        "-timeout", str(int(calls / rate + talk_s + 60)), "-nostdin",
        "-trace_stat", "-stf", "stats.csv", f"127.0.0.1:{SIP_PORT}",
    ]  # fmt: skip
    with open(workdir / "sipp.log", "wb") as log:
        subprocess.run(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, check=False)
    lines = (workdir / "stats.csv").read_text().splitlines()
    head, last = lines[0].split(";"), lines[-1].split(";")
    return int(last[head.index("OutgoingCall(C)")])


# --- phases ----------------------------------------------------------------------------------


@dataclass
class Result:
    system: str
    load: str
    phase: Phase
    accounting: Accounting
    cpu: dict[str, float] | None = None
    rest_ms: list[float] | None = None
    parts: dict[str, list[float]] | None = None  # --trace: the path in three


async def run_phase(
    log: AmiLog, system: str, load: str, rate: float, calls: int, talk_s: float,
    agents: int, ctl: Controller | None, workdir: Path,
) -> Result:  # fmt: skip
    start = len(log.events)
    placed = await asyncio.to_thread(
        customers, system, rate, calls, talk_s, workdir / f"{system}-{load}".replace(" ", "")
    )
    await asyncio.sleep(2)  # the last hang-ups' events
    devices = [f"PJSIP/agent{k}" for k in range(1, agents + 1)]
    phase = read_phase(log.events[start:], devices)
    recorded = None
    if system == "ccgateway" and ctl is not None:
        await asyncio.sleep(1)  # the writer's last records
        recorded = await records(ctl, set(phase.callers))
    result = Result(system, load, phase, account(phase, placed, recorded))
    if system == "ccgateway" and ctl is not None:
        result.parts = breakdown(phase, (ctl.folder / "trace.txt").read_text().splitlines())
    return result


async def rest_probe(ctl: Controller, stop: asyncio.Event, times: list[float]) -> None:
    """GET /v1/agents and /v1/queues/q/status in turn, 10 a second, each timed."""
    paths = ("/v1/agents", "/v1/queues/q/status")
    async with httpx.AsyncClient(
        base_url=ctl.url, headers={"Authorization": f"Bearer {ctl.key}"}, timeout=30
    ) as http:
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            r = await http.get(paths[n % 2])
            r.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
            n += 1
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))


async def latency(sandbox: Sandbox, args: argparse.Namespace, work: Path) -> list[Result]:
    agents = 20
    sandbox.up(agents=agents)
    results: list[Result] = []
    log = AmiLog(sandbox.ami_secret())
    try:
        await log.start()
        async with controller(sandbox.ami_secret(), agents, args.trace, args.code) as ctl:
            for load, rate, calls, talk in (
                ("1/s", 1.0, args.light_calls, 1.5),
                ("5/s", 5.0, args.loaded_calls, 2.0),
            ):
                for system in ("ccgateway", "app_queue"):
                    results.append(await run_phase(
                        log, system, load, rate, calls, talk, agents, ctl, work))  # fmt: skip
    finally:
        await log.stop()
        sandbox.down()
    return results


async def cost(sandbox: Sandbox, args: argparse.Namespace, work: Path) -> Result:
    agents, rate, talk = 50, 10.0, 3.0
    sandbox.up(agents=agents)
    log = AmiLog(sandbox.ami_secret())
    try:
        await log.start()
        async with controller(sandbox.ami_secret(), agents, args.trace, args.code) as ctl:
            asterisk_pid = sandbox.status().asterisk_pid
            assert asterisk_pid is not None
            stop, rest_ms = asyncio.Event(), list[float]()
            probe = asyncio.create_task(rest_probe(ctl, stop, rest_ms))
            # The REST probe's own cost, without calls: subtracted to give the calls'.
            idle0 = (ctl.cpu_s(), time.monotonic())
            await asyncio.sleep(IDLE_S)
            idle1 = (ctl.cpu_s(), time.monotonic())
            cpu0 = (ctl.cpu_s(), process_cpu_s(asterisk_pid), time.monotonic())
            calls = int(rate * args.duration)
            result = await run_phase(log, "ccgateway", "10/s", rate, calls, talk, agents, ctl, work)
            cpu1 = (ctl.cpu_s(), process_cpu_s(asterisk_pid), time.monotonic())
            stop.set()
            await probe
            result.cpu = {
                "controller_s": cpu1[0] - cpu0[0],
                "asterisk_s": cpu1[1] - cpu0[1],
                "wall_s": cpu1[2] - cpu0[2],
                "rss_mb": ctl.peak_rss_mb(),
                "idle_per_s": (idle1[0] - idle0[0]) / (idle1[1] - idle0[1]),
            }
            result.rest_ms = rest_ms
            stuck = await agents_not_available(ctl)
            if stuck:
                print(f"agents not available after the run: {stuck}")
            acc = result.accounting
            result.accounting = replace(acc, stuck=acc.stuck + len(stuck))
    finally:
        await log.stop()
        sandbox.down()
    return result


# --- report ----------------------------------------------------------------------------------


def report(latencies: list[Result], costed: Result | None, load_avg: tuple[float, ...],
           args: argparse.Namespace) -> str:  # fmt: skip
    lines = [
        "Load on the sandbox Asterisk: ccgateway against app_queue (same Asterisk, phones, load)",
        f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"controller {'this checkout' if args.code == ROOT else args.code}",
        f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average at start "
        + ", ".join(f"{x:.2f}" for x in load_avg),
        "clock      Asterisk's own event Timestamp (manager.conf timestampevents)",
        "",
    ]
    if latencies:
        lines.append(
            "ms from ready to           load  system     calls |  leg p50   p90   p99 | bridged "
            "p50   p90   p99"
        )
    by = {(r.system, r.load): r for r in latencies}
    for r in latencies:
        c, b = r.phase.created_ms(), r.phase.bridged_ms()
        if not c or not b:
            lines.append(f"{'':26} {r.load:>5} {r.system:<10} {len(b):5} | no bridged calls")
            continue
        lines.append(
            f"{'':26} {r.load:>5} {r.system:<10} {len(b):5} | "
            + " ".join(f"{percentile(c, q):5.2f}" for q in (50, 90, 99))
            + " |        "
            + " ".join(f"{percentile(b, q):5.2f}" for q in (50, 90, 99))
        )
    traced = [r for r in latencies if r.parts and all(r.parts.values())]
    if traced:
        names = list(traced[0].parts or {})
        lines += ["", "ccgateway's path (--trace), ms p50 / p90, load: " + " -> ".join(names)]
        for r in traced:
            assert r.parts is not None
            cells = [f"{percentile(v, 50):.2f} / {percentile(v, 90):.2f}" for v in r.parts.values()]
            lines.append(f"  {r.load:>5}: " + " | ".join(cells))
    if latencies:
        lines.append("")
        lines.append(
            "ccgateway / app_queue     load        goal | leg p50   p90 | bridged p50   p90"
        )
    for load, goal in (("1/s", 1.3), ("5/s", 1.5)):
        ours, theirs = by.get(("ccgateway", load)), by.get(("app_queue", load))
        if ours is None or theirs is None or not ours.phase.bridged or not theirs.phase.bridged:
            continue
        cells = []
        for pick in ("created_ms", "bridged_ms"):
            a, b = getattr(ours.phase, pick)(), getattr(theirs.phase, pick)()
            cells.append(" ".join(f"{percentile(a, q) / percentile(b, q):5.2f}x" for q in (50, 90)))
        lines.append(f"{'':26}{load:>5} {goal:>10.1f}x | {cells[0]} |     {cells[1]}")
    results = [*latencies, *([costed] if costed else [])]
    lines += ["", "accounting           load  system     | placed  seen records bridged | "
              "lost doubled stuck | ok"]  # fmt: skip
    for r in results:
        a = r.accounting
        rec = "-" if a.records is None else str(a.records)
        lines.append(
            f"{'':20} {r.load:>5} {r.system:<10} | {a.placed:6} {a.seen:5} {rec:>7} "
            f"{a.bridged:7} | {a.lost:4} {a.doubled:7} {a.stuck:5} | {'yes' if a.agrees else 'NO'}"
        )
    if costed is not None and costed.cpu is not None:
        cpu, calls = costed.cpu, max(1, costed.accounting.placed)
        rest = costed.rest_ms or [float("nan")]
        ctl_s, ast_s = cpu["controller_s"], cpu["asterisk_s"]
        lines += [
            "",
            f"cost: 50 agents, 10 calls/s for {args.duration:.0f} s ({calls} calls, "
            f"{cpu['wall_s']:.0f} s wall)",
            f"  controller CPU  {ctl_s:7.2f} s  {ctl_s / calls * 1000:6.2f} ms/call   "
            f"peak RSS {cpu['rss_mb']:.0f} MB",
            f"  Asterisk CPU    {ast_s:7.2f} s  {ast_s / calls * 1000:6.2f} ms/call",
            f"  controller / Asterisk CPU  {ctl_s / ast_s:.2f} (goal < 0.20)",
            f"  of which the REST probe and idle: {cpu['idle_per_s'] * cpu['wall_s']:.2f} s "
            f"(its {cpu['idle_per_s'] * 1000:.0f} ms CPU a second over {IDLE_S:.0f} s alone "
            "before the calls); the calls alone: "
            f"{(ctl_s - cpu['idle_per_s'] * cpu['wall_s']) / calls * 1000:.2f} ms/call, "
            f"{(ctl_s - cpu['idle_per_s'] * cpu['wall_s']) / ast_s:.2f} of Asterisk's",
            f"  REST while it ran: {len(rest)} requests, p50 {percentile(rest, 50):.1f} ms, "
            f"p99 {percentile(rest, 99):.1f} ms, max {max(rest):.1f} ms (goal p99 < 20 ms)",
        ]
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> None:
    load_avg = os.getloadavg()
    sandbox = Sandbox()
    work = Path(tempfile.mkdtemp(prefix="ccgw-load-sipp-"))
    latencies: list[Result] = []
    costed = None
    try:
        if not args.skip_latency:
            latencies = await latency(sandbox, args, work)
        if args.duration > 0:
            costed = await cost(sandbox, args, work)
    finally:
        sandbox.down()
        shutil.rmtree(work, ignore_errors=True)
    text = report(latencies, costed, load_avg, args)
    print(text, end="")
    if args.write:
        RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--light-calls", type=int, default=60, help="calls at 1/s, per system")
    parser.add_argument("--loaded-calls", type=int, default=200, help="calls at 5/s, per system")
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds of the 10 calls/s cost phase (0: none; the issue's is 600)",
    )
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="run the controller with benchmarks/traced_serve.py's two clocks",
    )
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS}")
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="the controller's code from this tree (e.g. an older commit's "
        "`git archive`, for a before and after)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
