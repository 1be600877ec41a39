"""The REST API's own cost: the controller's CPU and latency per request for the two reads
the load benchmark's probe polls, this tree beside a baseline commit in the same run.

What is measured (`python -m benchmarks.rest_cost [--requests N] [--rounds R]
[--baseline REV] [--after REV]`)
    Two `ccgateway serve` processes at once: the baseline's code (`git archive REV ccgateway`
    into a temporary folder) and this tree's (with --after, a commit's, so that others'
    unfinished changes in the tree stay out), each with SQLite in a temporary folder, its
    default log level (uvicorn's access log included) and [asterisk] on a closed port: the
    API serves without a PBX, and the link's retries (with back-off) are in the idle figure.
    Each is configured as asterisk_load's cost phase (queue q, 50 agents available) and
    given a stored wallboard key. Then R rounds; in each, the two servers take turns (which
    goes first alternates), and for each path and key one server gets N GETs back to back
    on one keep-alive connection from this process: its CPU over the batch (user + system,
    from /proc/<pid>/stat, every thread) divided by N, and each request's latency as this
    client sees it (the client's own share included, the same on both sides).

    paths   GET /v1/agents (50 agents) and GET /v1/queues/q/status, as rest_probe polls
    keys    the settings' admin key (the probe's) and a stored wallboard key (the floor's
            role: SHA-256 and a SQLite lookup per request)

The servers run one request at a time, so the figures are the path's own cost on an idle
controller; asterisk_load.py measures the probe under 10 calls/s on the real Asterisk. The
process is checked to import the code it is meant to run (`python -m` puts its working
folder first on sys.path, so each server runs from its own code's folder).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.asterisk_load import CLOCK_TICKS, configure, process_cpu_s, served
from benchmarks.load_log import percentile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "rest_cost.txt"
PATHS = ("/v1/agents", "/v1/queues/q/status")
KEYS = ("admin", "wallboard")
CLOSED_PORT = 1  # nothing listens on it: the AMI link fails at once and retries


@dataclass
class Server:
    name: str
    url: str
    keys: dict[str, str]
    process: subprocess.Popen[bytes]
    cpu_ms: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # per request
    times_ms: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    idle_ms_per_s: float = float("nan")


def extract(rev: str, into: Path) -> str:
    """The package `ccgateway` of `rev` under `into`; returns the commit's short id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", commit, "ccgateway"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


@contextlib.asynccontextmanager
async def server(name: str, code: Path) -> AsyncIterator[Server]:
    """`ccgateway serve` of the package under `code`, configured and with a wallboard key."""
    folder = Path(tempfile.mkdtemp(prefix="ccgw-rest-"))
    settings = (
        f'database_url = "sqlite:///{folder}/ccgateway.db"\n'
        f'[asterisk]\nport = {CLOSED_PORT}\nsecret = "unused"\n'
    )
    try:
        async with served(folder, settings, code, pbx_ready=False) as (url, admin, process):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
            ) as http:
                await configure(http, 50)
                r = await http.post("/v1/keys", json={"name": "wall", "role": "wallboard"})
                r.raise_for_status()
                wallboard = r.json()["key"]
            yield Server(name, url, {"admin": admin, "wallboard": wallboard}, process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def batch(srv: Server, http: httpx.AsyncClient, path: str, key: str, n: int) -> None:
    """`n` GETs of `path` back to back; the server's CPU per request and each latency."""
    headers = {"Authorization": f"Bearer {srv.keys[key]}"}
    for _ in range(5):  # the connection and the route warmed
        (await http.get(path, headers=headers)).raise_for_status()
    times: list[float] = []
    cpu_before = process_cpu_s(srv.process.pid)
    for _ in range(n):
        started = time.perf_counter()
        r = await http.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    cpu_ms = (process_cpu_s(srv.process.pid) - cpu_before) * 1000 / n
    srv.cpu_ms.setdefault((path, key), []).append(cpu_ms)
    srv.times_ms.setdefault((path, key), []).extend(times)


IDLE_S = 5.0


async def idle(srv: Server, seconds: float = IDLE_S) -> None:
    before = process_cpu_s(srv.process.pid)
    await asyncio.sleep(seconds)
    srv.idle_ms_per_s = (process_cpu_s(srv.process.pid) - before) * 1000 / seconds


async def measure(
    baseline: Path, label: str, code: Path, name: str, requests: int, rounds: int
) -> list[str]:
    async with (
        server(f"baseline {label}", baseline) as before,
        server(name, code) as after,
    ):
        await asyncio.gather(idle(before), idle(after))
        clients = {s.name: httpx.AsyncClient(base_url=s.url, timeout=30) for s in (before, after)}
        try:
            for k in range(rounds):
                order = (before, after) if k % 2 == 0 else (after, before)
                for path in PATHS:
                    for key in KEYS:
                        for srv in order:
                            await batch(srv, clients[srv.name], path, key, requests)
        finally:
            for client in clients.values():
                await client.aclose()
        return report(before, after, requests, rounds)


def report(before: Server, after: Server, requests: int, rounds: int) -> list[str]:
    load = os.getloadavg()
    lines = [
        f"REST cost per request: {after.name} against the {before.name}, in the same run",
        f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), "
        f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}",
        f"python     {platform.python_implementation()} {platform.python_version()}",
        f"workload   50 agents, queue q; {rounds} rounds x {requests} GETs per path, key and "
        "server, one at a time",
        "",
        "CPU: the server's per request (mean of the rounds' batches, [lowest-highest batch]);",
        "latency as the client sees it, all rounds' requests",
        "",
        f"{'':31}| {before.name:^34} | {after.name:^34} | CPU",
        f"{'path':20} {'key':10}| {'CPU ms':>16} {'p50':>8} {'p99':>8} "
        f"| {'CPU ms':>16} {'p50':>8} {'p99':>8} | after/before",
        "-" * 117,
    ]
    for path in PATHS:
        for key in KEYS:
            cells = []
            means = []
            for srv in (before, after):
                cpu, times = srv.cpu_ms[(path, key)], srv.times_ms[(path, key)]
                mean = sum(cpu) / len(cpu)
                means.append(mean)
                cells.append(
                    f"{mean:5.2f} [{min(cpu):.2f}-{max(cpu):.2f}] "
                    f"{percentile(times, 50):6.2f}ms {percentile(times, 99):6.2f}ms"
                )
            lines.append(
                f"{path:20} {key:10}| {cells[0]:>34} | {cells[1]:>34} | {means[1] / means[0]:.2f}"
            )
    lines += [
        "",
        f"idle (no requests; the AMI link retrying): {before.name} "
        f"{before.idle_ms_per_s:.1f} ms CPU/s, {after.name} {after.idle_ms_per_s:.1f} ms CPU/s "
        f"(over {IDLE_S:g} s, in ticks of {1000 / CLOCK_TICKS:g} ms)",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="GETs per batch")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--baseline",
        default="c76169e",
        help="the commit whose code is the baseline (default: the one before the REST cost work)",
    )
    parser.add_argument(
        "--after",
        help="measure this commit's code against the baseline instead of the working tree "
        "(which may hold others' unfinished changes)",
    )
    parser.add_argument("--write", action="store_true", help=f"also write {RESULTS}")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="ccgw-baseline-") as before,
        tempfile.TemporaryDirectory(prefix="ccgw-after-") as after,
    ):
        label = extract(args.baseline, Path(before))
        code, name = ROOT, "this tree"
        if args.after:
            code, name = Path(after), f"commit {extract(args.after, Path(after))}"
        lines = asyncio.run(measure(Path(before), label, code, name, args.requests, args.rounds))
    print("\n".join(lines))
    if args.write:
        RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
