"""The pages' figures: event to pixel, the console under a storm, page weight, first render.

What is measured (one run, `python -m benchmarks.pages [--quick]`)
    A real `ccgateway serve` (the installed command, SQLite in a temporary folder) logged in
    to `benchmarks/ami_source.py`, a scripted AMI server, through the controller's own
    AsteriskPbx adapter: the sandbox Asterisk cannot run the 200 and 1,000 phones asked
    for. Debian's Chromium (Playwright) shows the supervisor console and the wallboard,
    signed in as a supervisor and a wallboard user.

    1. Event to pixel, 200 agents and 20 queues. For 60 s (`--quick`: 20 s) the source
       sends 20 agent changes a second (a feature code: pause or available, each agent at
       most every 10 s) and 4 callers a second, each waiting in one of the 20 queues for
       5-15 s before hanging up. The clock starts when an event's bytes are written to the
       controller's socket. It stops when
       - the stream: a raw WebSocket client of `/v1/events` (the baseline: what the
         controller itself adds, and the floor under any page) receives the matching item;
       - the console: a MutationObserver in the page sees the agent's row (`agent-row-<id>`)
         show the new state, or `queue-waiting-<queue>` the new number waiting;
       - the wallboard: its `queue-waiting-<queue>` shows the new number waiting.
       Both clocks are this machine's wall clock (the page's `performance.timeOrigin +
       performance.now()`). An event whose pixel never shows is counted as missed.
    2. The console under a storm: 1,000 agents, 50 state changes a second for 30 s (10 s
       quick). Every animation frame's gap (requestAnimationFrame) and every long task are
       recorded; the same page idle for 5 s in the same run is the baseline.
    3. Page weight and first render of each page: the bytes of every response the page
       loads, gzip-compressed as a server would send them, against the issue's 300 KB; the
       first contentful paint, beside that of an empty page in the same browser.

The goals (issue 11): event to pixel p95 under 500 ms; no frame over 100 ms; each page
under 300 KB compressed and first render under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from benchmarks.ami_source import AmiSource

CHROMIUM = "/usr/bin/chromium"
CCGATEWAY = Path(sys.executable).with_name("ccgateway")
PASSWORD = "benchmark-password-1"
# Records every change of an element whose test id the benchmark reads, with the wall clock.
OBSERVER = """
() => {
  window.__seen = [];
  const note = (node) => {
    for (let n = node; n && n.getAttribute; n = n.parentElement) {
      const id = n.getAttribute('data-testid');
      if (id === 'agent-state') {
        const row = n.closest('[data-testid^="agent-row-"]');
        if (!row) return;
        window.__seen.push([performance.timeOrigin + performance.now(),
                            row.getAttribute('data-testid').replace('agent-row-', 'agent-state-'),
                            n.getAttribute('data-state') || '']);
        return;
      }
      if (id && id.startsWith('queue-waiting-')) {
        window.__seen.push([performance.timeOrigin + performance.now(), id,
                            n.textContent.trim()]);
        return;
      }
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      note(r.type === 'characterData' ? r.target.parentElement : r.target);
      for (const added of r.addedNodes) {
        if (added.querySelectorAll) {
          for (const n of added.querySelectorAll('[data-testid]')) note(n);
        }
      }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true,
                             attributes: true, attributeFilter: ['data-state']});
}
"""
FRAMES = """
() => {
  window.__frames = []; window.__long = [];
  let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push(e.duration);
    }).observe({entryTypes: ['longtask']});
  } catch (e) {}
}
"""


@dataclass
class Sent:
    at: float
    kind: str  # "agent" or "waiting"
    key: str  # agent id or queue id
    value: str  # the state, or the number waiting after the change


@dataclass
class Served:
    url: str
    admin_key: str
    process: subprocess.Popen[bytes]
    folder: Path
    source: AmiSource
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(agents: int) -> AsyncIterator[Served]:
    """The installed controller against the scripted AMI source, with `agents` devices."""
    source = AmiSource([f"PJSIP/bench{k}" for k in range(1, agents + 1)])
    ami_port = await source.start()
    folder = Path(tempfile.mkdtemp(prefix="ccgw-pages-"))
    port, key = free_port(), secrets.token_urlsafe(24)
    config = folder / "ccgateway.toml"
    config.write_text(
        f'database_url = "sqlite:///{folder}/ccgateway.db"\nlog_level = "WARNING"\n'
        f'[asterisk]\nport = {ami_port}\nsecret = "bench"\n'
        f"[api]\nport = {port}\n"
    )
    log = folder / "serve.log"
    env = dict(os.environ, CCGW_ADMIN_KEY=key)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(CCGATEWAY), "serve", "--config", str(config)], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    r = await http.get("/v1/health", headers={"Authorization": f"Bearer {key}"})
                    if r.status_code == 200 and r.json().get("pbx_ready"):
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the controller did not start: {log.read_text()[-800:]}")
                await asyncio.sleep(0.2)
        yield Served(url, key, process, folder, source, log)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()
        await source.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def configure(srv: Served, agents: int, queues: int) -> None:
    """Agents who toggle (skill `floor`) and queues whose callers wait for a paused `desk`
    agent, so the two flows never meet: no offer is ever rung."""
    headers = {"Authorization": f"Bearer {srv.admin_key}"}
    async with httpx.AsyncClient(base_url=srv.url, headers=headers, timeout=30) as http:

        async def post(path: str, body: dict[str, Any]) -> None:
            r = await http.post(path, json=body)
            if r.status_code >= 300:
                raise RuntimeError(f"{path}: {r.status_code} {r.text}")

        await post("/v1/skills", {"id": "floor", "name": "Floor"})
        await post("/v1/skills", {"id": "desk", "name": "Desk"})
        for q in range(queues):
            await post(
                "/v1/queues",
                {
                    "id": f"q{q}",
                    "name": f"Queue {q}",
                    "extension": str(300 + q),
                    "requires": {"desk": 1},
                },
            )
        await post(
            "/v1/agents",
            {"id": "desk", "name": "Desk", "device": "PJSIP/bench-desk", "skills": {"desk": 1}},
        )
        await post("/v1/agents/desk/state", {"state": "paused", "reason": "benchmark"})
        sem = asyncio.Semaphore(8)

        async def agent(k: int) -> None:
            async with sem:
                await post(
                    "/v1/agents",
                    {
                        "id": f"a{k}",
                        "name": f"Agent {k}",
                        "device": f"PJSIP/bench{k}",
                        "skills": {"floor": 1},
                    },
                )
                await post(f"/v1/agents/a{k}/state", {"state": "paused", "reason": "start"})

        await asyncio.gather(*(agent(k) for k in range(1, agents + 1)))
        for name, role in (("sup", "supervisor"), ("board", "wallboard")):
            await post("/v1/users", {"username": name, "password": PASSWORD, "role": role})


async def signed_in(browser: Browser, srv: Served, user: str, page_path: str) -> Page:
    context: BrowserContext = await browser.new_context(viewport={"width": 1920, "height": 1080})
    r = await context.request.post(
        f"{srv.url}/v1/session", data={"username": user, "password": PASSWORD}
    )
    if r.status != 200:
        raise RuntimeError(f"login {user}: {r.status} {await r.text()}")
    page = await context.new_page()
    await page.goto(f"{srv.url}{page_path}")
    await page.wait_for_load_state("networkidle")
    return page


async def stream_listener(srv: Served, seen: list[tuple[float, str, str, str]]) -> None:
    """The baseline: a raw WebSocket reader; (time, kind, key, value) per item."""
    uri = srv.url.replace("http", "ws") + "/v1/events"
    waiting: dict[str, set[str]] = {}
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Bearer {srv.admin_key}"}, max_size=None
    ) as ws:
        async for raw in ws:
            at = time.time()
            item = json.loads(raw)
            data = item["data"]
            if item["topic"] == "agent.state":
                seen.append((at, "agent", data["agent_id"], data["state"]))
            elif item["topic"] == "call.state":
                queue = waiting.setdefault(data["queue_id"], set())
                queue.add(data["call_id"]) if data["state"] == "waiting" else queue.discard(
                    data["call_id"]
                )
                seen.append((at, "waiting", data["queue_id"], str(len(queue))))
            elif item["topic"] == "call.ended":
                for queue_id, calls in waiting.items():
                    if data["call_id"] in calls:
                        calls.discard(data["call_id"])
                        seen.append((at, "waiting", queue_id, str(len(calls))))


@dataclass
class Traffic:
    sent: list[Sent] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)


async def run_traffic(
    srv: Served,
    agents: int,
    queues: int,
    seconds: float,
    changes_per_s: float,
    callers_per_s: float,
    seed: int = 7,
) -> Traffic:
    rng = random.Random(seed)
    traffic = Traffic()
    state = {f"a{k}": "paused" for k in range(1, agents + 1)}
    order = list(state)
    rng.shuffle(order)
    hangups: list[tuple[float, str, str]] = []
    start = time.monotonic()
    step, ticks, callers = 0.05, 0, 0
    change_credit = caller_credit = 0.0
    while (now := time.monotonic() - start) < seconds:
        change_credit += changes_per_s * step
        caller_credit += callers_per_s * step
        while change_credit >= 1:
            change_credit -= 1
            agent = order[ticks % len(order)]
            ticks += 1
            target = "available" if state[agent] == "paused" else "paused"
            state[agent] = target
            device = f"PJSIP/bench{agent[1:]}"
            at = srv.source.send_feature(device, "available" if target == "available" else "pause")
            traffic.sent.append(Sent(at, "agent", agent, target))
        while caller_credit >= 1:
            caller_credit -= 1
            callers += 1
            q = rng.randrange(queues)
            queue_id, uid = f"q{q}", f"bench-{callers}"
            traffic.waiting[queue_id] = traffic.waiting.get(queue_id, 0) + 1
            at = srv.source.send_waiting(
                uid, str(300 + q), f"+4930{callers:07d}", f"Caller {callers}"
            )
            traffic.sent.append(Sent(at, "waiting", queue_id, str(traffic.waiting[queue_id])))
            hangups.append((now + rng.uniform(5, 15), uid, queue_id))
        for due, uid, queue_id in [h for h in hangups if h[0] <= now]:
            hangups.remove((due, uid, queue_id))
            traffic.waiting[queue_id] -= 1
            at = srv.source.send_hangup(uid)
            traffic.sent.append(Sent(at, "waiting", queue_id, str(traffic.waiting[queue_id])))
        await asyncio.sleep(max(0.0, start + (now + step) - time.monotonic()))
    for _, uid, queue_id in hangups:  # the rest leave, so the next phase starts empty
        traffic.waiting[queue_id] -= 1
        srv.source.send_hangup(uid)
    return traffic


def latencies(
    sent: list[Sent], seen: list[tuple[float, str, str, str]], kinds: set[str]
) -> tuple[list[float], int]:
    """For each sent event, when its key first showed a state at least as new as it.

    A page draws once per frame, so two changes of one queue within a frame show only the
    second: an observation counts for event i when its value is that of event i or of a
    later event j of the same key already sent by then (j's state includes i's).
    """
    by_key: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for at, kind, key, value in seen:
        by_key.setdefault((kind, key), []).append((at, value))
    events: dict[tuple[str, str], list[Sent]] = {}
    for s in sent:
        if s.kind in kinds:
            events.setdefault((s.kind, s.key), []).append(s)
    found, missed = [], 0
    for key, series in events.items():
        observed = sorted(by_key.get(key, []))
        for i, s in enumerate(series):
            hit = None
            for at, value in observed:
                if at < s.at:
                    continue
                if any(j.value == value and j.at <= at for j in series[i:]):
                    hit = at
                    break
            if hit is None:
                missed += 1
            else:
                found.append((hit - s.at) * 1000)
    return found, missed


def dom_seen(raw: list[list[Any]]) -> list[tuple[float, str, str, str]]:
    out = []
    for at, testid, text in raw:
        at = at / 1000
        if testid.startswith("agent-state-"):
            out.append((at, "agent", testid.removeprefix("agent-state-"), text))
        elif testid.startswith("queue-waiting-"):
            out.append((at, "waiting", testid.removeprefix("queue-waiting-"), text))
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, values: list[float], missed: int, total: int) -> str:
    return (
        f"  {name:<30} {len(values):>6} {missed:>6}   "
        f"{pct(values, 50):>7.1f} {pct(values, 95):>7.1f} {pct(values, 99):>7.1f} "
        f"{max(values, default=float('nan')):>7.1f}"
    )


async def event_to_pixel(browser: Browser, quick: bool) -> None:
    agents, queues = 200, 20
    seconds = 20 if quick else 60
    async with served(agents) as srv:
        await configure(srv, agents, queues)
        console = await signed_in(browser, srv, "sup", "/ui/console")
        board = await signed_in(browser, srv, "board", "/ui/wallboard")
        for page in (console, board):
            await page.evaluate(OBSERVER)
        seen: list[tuple[float, str, str, str]] = []
        listener = asyncio.create_task(stream_listener(srv, seen))
        await asyncio.sleep(1.0)
        traffic = await run_traffic(srv, agents, queues, seconds, 20, 4)
        await asyncio.sleep(3.0)
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        console_seen = dom_seen(await console.evaluate("window.__seen"))
        board_seen = dom_seen(await board.evaluate("window.__seen"))
        print(
            f"\n1. Event to pixel: {agents} agents, {queues} queues, {seconds} s, "
            f"{len(traffic.sent)} events (20 agent changes/s, 4 callers/s)"
        )
        print(
            f"  {'ms from the AMI event to':<30} {'seen':>6} {'missed':>6}   "
            f"{'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
        )
        agents_sent = [s for s in traffic.sent if s.kind == "agent"]
        waits_sent = [s for s in traffic.sent if s.kind == "waiting"]
        for name, sent, seen_by in (
            ("stream: agent state (baseline)", agents_sent, seen),
            ("console: agent state", agents_sent, console_seen),
            ("stream: waiting (baseline)", waits_sent, seen),
            ("console: queue waiting", waits_sent, console_seen),
            ("wallboard: queue waiting", waits_sent, board_seen),
        ):
            values, missed = latencies(sent, seen_by, {"agent", "waiting"})
            print(row(name, values, missed, len(sent)))


async def storm(browser: Browser, quick: bool) -> None:
    agents, rate = 1000, 50
    seconds = 10 if quick else 30
    async with served(agents) as srv:
        await configure(srv, agents, 1)
        console = await signed_in(browser, srv, "sup", "/ui/console")
        await console.evaluate(FRAMES)
        await asyncio.sleep(5.0)
        idle = await console.evaluate("window.__frames.splice(0)")
        idle_long = await console.evaluate("window.__long.splice(0)")
        await run_traffic(srv, agents, 1, seconds, rate, 0)
        busy = await console.evaluate("window.__frames.splice(0)")
        busy_long = await console.evaluate("window.__long.splice(0)")
        shown = await console.locator("[data-testid^='agent-row-']").count()
        print(
            f"\n2. The console under a storm: {agents} agents ({shown} rows shown), "
            f"{rate} state changes/s for {seconds} s"
        )
        print(
            f"  {'frames (ms)':<30} {'frames':>6} {'>100ms':>6}   "
            f"{'p50':>7} {'p99':>7} {'max':>7}   long tasks (max ms)"
        )
        for name, frames, longs in (
            ("idle (baseline)", idle, idle_long),
            ("storm", busy, busy_long),
        ):
            print(
                f"  {name:<30} {len(frames):>6} {sum(f > 100 for f in frames):>6}   "
                f"{pct(frames, 50):>7.1f} {pct(frames, 99):>7.1f} "
                f"{max(frames, default=float('nan')):>7.1f}   {len(longs)} "
                f"({max(longs, default=0):.0f})"
            )


async def weight(browser: Browser) -> None:
    async with served(20) as srv:
        await configure(srv, 20, 4)
        headers = {"Authorization": f"Bearer {srv.admin_key}"}
        async with httpx.AsyncClient(base_url=srv.url, headers=headers) as http:
            await http.post(
                "/v1/users",
                json={"username": "ag", "password": PASSWORD, "role": "agent", "agent_id": "a1"},
            )
        print("\n3. Page weight and first render (Chromium, this machine)")
        print(f"  {'page':<22} {'requests':>8} {'bytes':>9} {'gzip':>9}   {'first paint ms':>14}")
        empty = await browser.new_page()
        await empty.goto("data:text/html,<p>x</p>")
        await asyncio.sleep(0.3)
        fcp = await first_paint(empty)
        print(f"  {'empty page (baseline)':<22} {'':>8} {'':>9} {'':>9}   {fcp:>14.0f}")
        for user, path in (
            ("ag", "/ui/"),
            ("ag", "/ui/agent"),
            ("sup", "/ui/console"),
            ("board", "/ui/wallboard"),
        ):
            context = await browser.new_context()
            if path != "/ui/":
                await context.request.post(
                    f"{srv.url}/v1/session", data={"username": user, "password": PASSWORD}
                )
            page = await context.new_page()
            bodies: list[bytes] = []
            page.on("response", lambda r, kept=bodies: asyncio.ensure_future(keep(r, kept)))
            await page.goto(f"{srv.url}{path}")
            await page.wait_for_load_state("networkidle")
            await asyncio.sleep(0.3)
            raw = sum(len(b) for b in bodies)
            packed = sum(len(gzip.compress(b)) for b in bodies)
            print(
                f"  {path:<22} {len(bodies):>8} {raw:>9} {packed:>9}   "
                f"{await first_paint(page):>14.0f}"
            )
            await context.close()
        print("  (goal: under 300 KB compressed and first render under 1 s each)")


async def keep(response: Any, bodies: list[bytes]) -> None:
    """A page's own files, not the API's answers (those are data, not weight)."""
    with contextlib.suppress(Exception):
        if "/v1/" not in response.url:
            bodies.append(await response.body())


async def first_paint(page: Page) -> float:
    value = await page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || -1"
    )
    return float(value)


async def main(quick: bool) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            await event_to_pixel(browser, quick)
            await storm(browser, quick)
            await weight(browser)
        finally:
            await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter phases")
    args = parser.parse_args()
    asyncio.run(main(args.quick))
