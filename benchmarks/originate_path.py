"""The controller's own share of "caller ready -> agent leg": AMI event bytes in, Originate out.

What is measured (`python -m benchmarks.originate_path [--calls N] [--talk] [--profile]`)
    The real controller (`build_controller`: the AsteriskPbx adapter, the dispatcher, SQLite
    in a temporary folder) in this process, logged in to `benchmarks/ami_source.py`, a
    scripted AMI server in the same event loop. One queue, `agents` agents available. For
    each call the source writes a caller's `CCGWWaiting` UserEvent to the controller's
    socket (the clock starts when the bytes are written) and the clock stops when the
    source reads the Originate that rings an agent. Then the caller and the leg hang up
    (their Hangup events) and the next call starts once the agent is free again; with
    `--talk` the call is answered, bridged and ended instead, by the 12 messages the
    controller's filtered AMI user gets of a call on the sandbox Asterisk (the run fails
    unless every call is recorded answered), so the CPU figure is a whole call's. Calls
    follow one another, so the figure is the path's own cost on an idle loop, without
    Asterisk; `benchmarks/asterisk_load.py` measures the same path on the real Asterisk.

    With `--profile`, cProfile runs over the timed calls and the top functions by
    cumulative and own time are printed (the loop's idle wait included: read the entries
    under `handle`, `data_received` and `execute`).

Both ends run in one loop on one thread: the figure includes the source's own parse of
the Originate (a few microseconds), which is the same before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.ami_source import AmiSource
from benchmarks.load_log import percentile
from ccgateway.app import build_controller
from ccgateway.logs import configure_logging
from ccgateway.settings import Settings

ADMIN = "path-benchmark-admin-key-0123"


async def _ready(api: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = await api.get("/v1/health")
        if r.status_code == 200 and r.json().get("pbx_ready"):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the controller's AMI link did not come up")


async def _configure(api: httpx.AsyncClient, agents: int) -> None:
    async def post(path: str, body: object) -> None:
        r = await api.post(path, json=body)
        if r.status_code >= 300:
            raise RuntimeError(f"{path}: {r.status_code} {r.text}")

    await post("/v1/skills", {"id": "sales", "name": "Sales"})
    await post(
        "/v1/queues",
        {"id": "q", "name": "Bench", "extension": "500", "requires": {"sales": 1}, "wrapup_s": 0},
    )
    for k in range(1, agents + 1):
        body = {"id": f"agent{k}", "name": f"Agent {k}", "device": f"PJSIP/agent{k}",
                "skills": {"sales": 1}}  # fmt: skip
        await post("/v1/agents", body)
        await post(f"/v1/agents/agent{k}/state", {"state": "available"})


async def _all_answered(api: httpx.AsyncClient, calls: int) -> None:
    """Every call recorded answered: the scripted messages were read as a conversation."""
    await asyncio.sleep(0.5)  # the last record through the writer
    answered = 0
    for offset in range(0, calls, 1000):
        page = await api.get("/v1/interactions", params={"limit": 1000, "offset": offset})
        answered += sum(r["outcome"] == "answered" for r in page.json())
    if answered != calls:
        raise RuntimeError(f"{answered} of {calls} calls recorded answered")


async def run(
    calls: int, agents: int, profile: bool, log_level: str, talk: bool = False
) -> tuple[list[float], float]:
    """Milliseconds from each CCGWWaiting written to its Originate read, and the process's
    CPU seconds over the timed calls (the controller's and the scripted peer's: one
    process, so a figure to compare two versions of the controller by, not an absolute)."""
    source = AmiSource([f"PJSIP/agent{k}" for k in range(1, agents + 1)])
    port = await source.start()
    folder = Path(tempfile.mkdtemp(prefix="ccgw-path-"))
    settings = Settings(
        database_url=f"sqlite:///{folder}/ccgw.db",
        admin_key=ADMIN,
        asterisk={"port": port, "secret": "bench", "secret_file": None},
        log_level=log_level,
    )
    controller = build_controller(settings)
    task = asyncio.create_task(controller.dispatcher.run())
    transport = httpx.ASGITransport(app=controller.api)
    times: list[float] = []
    cpu_at_start = 0.0
    profiler = cProfile.Profile()
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ccgw",
            headers={"Authorization": f"Bearer {ADMIN}"},
        ) as api:  # fmt: skip
            await _ready(api)
            await _configure(api, agents)
            warm = 20
            for n in range(calls + warm):
                caller = f"bench-{n}"
                before = set(source.originated_at)
                if n == warm:
                    cpu_at_start = time.process_time()
                    if profile:
                        profiler.enable()
                source.originated.clear()
                sent = source.send_waiting(caller, "500", f"555{n:04d}", "Bench")
                await source.originated.wait()  # an idle loop meanwhile, as a server's
                [leg] = set(source.originated_at) - before
                if n >= warm:
                    times.append((source.originated_at[leg] - sent) * 1000)
                if talk:
                    device = source.originated_devices[leg]
                    source.send_conversation(caller, leg, device)
                    await asyncio.sleep(0.002)
                    source.send_end(caller, leg, device)
                else:
                    source.send_hangup(caller)
                    source.send_hangup(leg)
                await asyncio.sleep(0.005)  # the hang-ups handled before the next caller
            cpu_s = time.process_time() - cpu_at_start
            if talk:
                await _all_answered(api, calls + warm)
            if profile:
                profiler.disable()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await controller.dispatcher.pbx.close()
        controller.engine.dispose()
        await source.stop()
    if profile:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(30)
            print(out.getvalue())
    return times, cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--talk",
        action="store_true",
        help="each call answered, bridged and ended as on the sandbox (12 messages, not 4)",
    )
    parser.add_argument("--log-level", default="INFO", help="as `ccgateway serve` (INFO)")
    args = parser.parse_args()
    # as `ccgateway serve` does, to stderr: redirect it to see what a call logs
    configure_logging(args.log_level)
    times, cpu_s = asyncio.run(
        run(args.calls, args.agents, args.profile, args.log_level, args.talk)
    )
    with contextlib.suppress(OSError):
        import os

        load = os.getloadavg()
    print(f"CCGWWaiting bytes written -> Originate read, {len(times)} calls, {args.agents} agents, "
          f"load average {load[0]:.2f}")  # fmt: skip
    print("ms   p50 {:.3f}   p90 {:.3f}   p99 {:.3f}   max {:.3f}".format(
        *(percentile(times, q) for q in (50, 90, 99)), max(times)))  # fmt: skip
    what = "12 messages and an Originate" if args.talk else "CCGWWaiting, Originate, two Hangups"
    print(f"CPU  {1000 * cpu_s / len(times):.3f} ms a call (this process: the controller and "
          f"the scripted peer; {what})")  # fmt: skip


if __name__ == "__main__":
    main()
