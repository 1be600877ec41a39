"""Erasure among millions of contacts, and routing while the retention purge runs.

What is measured
    1. Erasure: a database holding N contacts (one campaign, one list), N old finished
       calls and a dial, disposition and refusal for each of the erased numbers; then
       `SqlPrivacyStore.erase` of `--erase` numbers spread over the list, one at a time,
       each timed with `time.perf_counter` (one transaction: contacts, calls, dials,
       dispositions, refusals, callbacks, notes, tasks, suppressions, the audit entry).
       Baseline: `SqlPrivacyStore.export` of the same numbers just before, which reads every
       row about the person that the erasure then changes: the least any erasure must do.
    2. Routing while purging: the real controller (`build_controller`: stores, centre,
       dispatcher, services) on the same database, with a PBX double that timestamps each
       command, 20 agents on one queue, and callers arriving at `--rate` a second (each
       answered at once and hung up after 1 s). A decision's latency is the time from the
       caller's `CallWaiting` handed to the dispatcher to the `RingAgent` reaching the PBX.
       Three phases of equal length in the same run: the baseline with no purge, then
       with the retention purge deleting the N old finished calls and `--recordings` old
       recordings with their files (30-day periods) in batches through the dispatcher's
       writer, where the finished calls' own records are written too (the phase lasts until
       the purge is done, at least `--seconds`), then the baseline again: the two baselines
       show how much the machine alone moves the tail.

    python -m benchmarks.privacy [--contacts 1000000] [--recordings 100000] [--url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, text

from ccgateway.app import build_controller
from ccgateway.domain.commands import PbxCommand, RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.outbound.campaigns import CampaignState, DialMode, DialOutcome
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.persistence.database import open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.privacy_store import SqlPrivacyStore
from ccgateway.settings import PrivacySettings, RecordingSettings, RetentionSettings, Settings
from ccgateway.testing.pbx import FakePbx

ADMIN = "benchmark-admin-key-0123456789"
DAY = 86400.0
AGENTS = 20


def number(n: int) -> str:
    return f"+4420{n:08d}"


def fill_recordings(engine: Engine, count: int, folder: Path, now: float) -> float:
    """`count` recordings of old calls 400 days old, each with a small file of its own."""
    old = now - 400 * DAY
    began = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"rec-old-{n}.wav").write_bytes(b"RIFF" + bytes(1020))
    sqlite = engine.dialect.name == "sqlite"
    rows = (
        f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {count - 1}) "
        if sqlite
        else ""
    )
    source = "FROM s" if sqlite else f"FROM generate_series(0, {count - 1}) AS s(n)"
    # Callers of their own (+4421...): none of them is erased in part 1, whose store-level
    # erasure leaves the files to the service.
    digits = "printf('+4421%08d', n)" if sqlite else "'+4421' || lpad(n::text, 8, '0')"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO recordings (id, call_id, pbx, queue_id, agent_id, caller_number,"
                " started_at, ended_at, pauses, file, channel_id, failure, consent, size) "
                f"{rows}SELECT 'rec-old-' || n, 'old-' || n, 'asterisk', 'q', 'a1', {digits},"
                f" {old}, {old} + 60, '[]', 'rec-old-' || n || '.wav', '', '', 'heard', 1024"
                f" {source}"
            )
        )
    return time.perf_counter() - began


def fill(engine: Engine, size: int, now: float) -> float:
    """N contacts and N finished calls 400 days old, made by the database itself."""
    old = now - 400 * DAY
    SqlOutboundStore(engine).put_campaign(_campaign(), CampaignState.PAUSED)
    sqlite = engine.dialect.name == "sqlite"
    rows = (
        f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {size - 1}) "
        if sqlite
        else ""
    )
    source = "FROM s" if sqlite else f"FROM generate_series(0, {size - 1}) AS s(n)"
    digits = "printf('+4420%08d', n)" if sqlite else "'+4420' || lpad(n::text, 8, '0')"
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact_lists (campaign_id, id, name, created_at, contacts, "
                f"rejected, source) VALUES ('bench', 'big', 'Big', {old}, {size}, 0, 'bench')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO contacts (campaign_id, id, list_id, number, time_zones, line_type,"
                " region, name, business, consents, fields, priority, state, attempts,"
                " last_outcome, outcomes, updated_at) "
                f"{rows}SELECT 'bench', 'k' || n, 'big', {digits}, '[\"Europe/London\"]',"
                " 'fixed', 'GB', 'Person ' || n, false, '{}', '{}', 0, 'done', 1, '', '{}',"
                f" {old} {source}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO interactions (call_id, queue_id, agent_id, caller_number, outcome,"
                " arrived_at, answered_at, ended_at, wait_s, talk_s, offers, detail, kind,"
                f" channel) {rows}SELECT 'old-' || n, 'q', 'a1', {digits}, 'answered',"
                f" {old} + n * 0.001, {old} + 5, {old} + 60, 5, 55, 1, '', 'inbound', 'voice'"
                f" {source}"
            )
        )
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - began


def _campaign() -> Any:
    from ccgateway.domain.outbound.campaigns import Campaign
    from ccgateway.domain.outbound.rules import Purpose

    return Campaign(
        id="bench",
        name="Bench",
        purpose=Purpose.SERVICE,
        rule_set_id="uk",
        mode=DialMode.PREDICTIVE,
        queue_id="q",
        caller_id="+442071234567",
        abandon_message="ccgw-abandon",
    )


def records_of(engine: Engine, numbers: list[str], now: float) -> None:
    store = SqlOutboundStore(engine)
    for n, person in enumerate(numbers):
        at = now - 10 * DAY
        dial_id = f"dial-{n}"
        store.add_dial(
            DialRecord(dial_id, "bench", f"k{n}", person, "uk", DialMode.PREDICTIVE,
                       "+442071234567", at, at + 60, DialOutcome.CONNECTED)
        )  # fmt: skip
        store.add_disposition(DispositionRecord(dial_id, "bench", f"k{n}", "a1", "sale", at))
        store.add_refusal(RefusalRecord("bench", f"k{n}", person, "calling_hours", "", at, None))


def erasure(engine: Engine, size: int, count: int, now: float) -> tuple[list[float], list[float]]:
    """(erase ms, export ms) per number."""
    store = SqlPrivacyStore(engine)
    chosen = [number(size * (i + 1) // (count + 1)) for i in range(count)]
    records_of(engine, chosen, now)
    exports, erasures = [], []
    for i, person in enumerate(chosen):
        began = time.perf_counter()
        held = store.export(person)
        exports.append((time.perf_counter() - began) * 1000)
        assert held["contacts"] and held["dial_records"], person
        began = time.perf_counter()
        erased = store.erase(person, f"h:{i}", now, "benchmark")
        erasures.append((time.perf_counter() - began) * 1000)
        assert erased["contacts"] == 1 and erased["dial_records"] == 1, erased
    return erasures, exports


class TimedPbx(FakePbx):
    """The PBX double, noting when each ring arrives and answering the agent at once."""

    def __init__(self) -> None:
        super().__init__()
        self.rung: dict[str, float] = {}
        self.legs: dict[str, str] = {}

    async def execute(self, command: PbxCommand) -> None:
        if isinstance(command, RingAgent):
            self.rung[command.call_id] = time.perf_counter()
            self.legs[command.call_id] = command.leg_id
            self.emit(AgentLegAnswered(command.leg_id))
        await super().execute(command)


async def routing_phase(
    controller: Any, pbx: TimedPbx, rate: float, seconds: float, purge: bool, first: int
) -> tuple[list[float], dict[str, int], float]:
    """(decision ms, rows purged per kind, purge seconds) for callers arriving at `rate`."""
    dispatcher = controller.dispatcher
    purging = None
    began = time.perf_counter()
    if purge:
        purging = asyncio.create_task(controller.retention.purge("benchmark"))
    posted: dict[str, float] = {}
    n = first
    while True:
        due = began + (n - first) / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        call_id = f"call-{n}"
        posted[call_id] = time.perf_counter()
        dispatcher.post_event(CallWaiting(call_id, "900", number(n % 1000), "Caller"))
        asyncio.get_running_loop().call_later(1.0, dispatcher.post_event, ChannelHungUp(call_id))
        n += 1
        enough = time.perf_counter() - began >= seconds
        if enough and (purging is None or purging.done()):
            break
    await asyncio.sleep(1.5)  # the last calls end
    report = await purging if purging is not None else None
    took = report.finished_at - report.started_at if report else 0.0
    removed = {k.value: v for k, v in report.removed.items() if v} if report else {}
    latencies = [(pbx.rung[c] - at) * 1000 for c, at in posted.items() if c in pbx.rung]
    if len(latencies) != len(posted):
        raise SystemExit(f"{len(posted) - len(latencies)} callers were never offered an agent")
    return latencies, removed, took


async def routing(url: str, rate: float, seconds: float, files: Path) -> list[tuple[str, Any]]:
    settings = Settings.model_construct(
        database_url=url,
        admin_key=SecretStr(ADMIN),
        privacy=PrivacySettings(key=SecretStr("benchmark-privacy-key")),
        retention=RetentionSettings(batch_rows=5000),
        recordings=RecordingSettings(directory=files),
    )
    pbx = TimedPbx()
    controller = build_controller(settings, [pbx])
    task = asyncio.create_task(controller.dispatcher.run())
    await pbx.running.wait()
    pbx.emit(PbxResynced())
    transport = httpx.ASGITransport(app=controller.api)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://b", headers=headers) as c:
        for method, path, body in [
            ("POST", "/v1/skills", {"id": "en", "name": "English"}),
            ("POST", "/v1/queues", {"id": "q", "name": "Q", "extension": "900",
                                    "requires": {"en": 1}, "ring_timeout_s": 10, "wrapup_s": 0}),
            *[("POST", "/v1/agents", {"id": f"a{i}", "name": f"A{i}", "device": f"PJSIP/a{i}",
                                      "skills": {"en": 5}}) for i in range(AGENTS)],
            *[("POST", f"/v1/agents/a{i}/state", {"state": "available"}) for i in range(AGENTS)],
            ("PUT", "/v1/retention", {"default": {"interactions": 30, "recordings": 30}}),
        ]:  # fmt: skip
            answer = await c.request(method, path, json=body)
            assert answer.is_success, answer.text
    results = []
    try:
        first = 0
        # The baseline before and after: how much the machine alone moves the figures.
        for name, purge in (("no purge", False), ("purging", True), ("no purge", False)):
            latencies, removed, took = await routing_phase(
                controller, pbx, rate, seconds, purge, first
            )
            first += len(latencies)
            results.append((name, (latencies, removed, took)))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        controller.engine.dispose()
    return results


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="and as many old calls")
    parser.add_argument("--erase", type=int, default=20, help="people erased, one at a time")
    parser.add_argument("--rate", type=float, default=10.0, help="callers a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="each routing phase, at least")
    parser.add_argument("--recordings", type=int, default=100_000, help="old ones, with files")
    parser.add_argument("--url", help="a PostgreSQL URL (an empty database); SQLite if none")
    args = parser.parse_args(argv)
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'privacy.db'}"
        engine = open_database(url)
        backend = engine.dialect.name
        filled = fill(engine, args.contacts, now)
        files = Path(folder) / "recordings"
        filled += fill_recordings(engine, args.recordings, files, now)
        erase_ms, export_ms = erasure(engine, args.contacts, args.erase, now)
        engine.dispose()
        phases = asyncio.run(routing(url, args.rate, args.seconds, files))
        files_left = sum(1 for _ in files.iterdir())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("Erasure and the retention purge: ccgateway against a baseline in the same run")
    print(f"date       {time.strftime('%Y-%m-%d')}")
    print(f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average {load}")
    print(f"python     {platform.python_implementation()} {platform.python_version()}")
    print(f"database   {backend}: {args.contacts:,} contacts, {args.contacts:,} finished calls "
          f"and {args.recordings:,} recordings with their files, 400 days old "
          f"(made in {filled:.1f} s)")  # fmt: skip
    print()
    print(f"Erasure of one person among {args.contacts:,} contacts ({args.erase} people)")
    print(f"{'':28} {'p50':>9} {'max':>9}")
    print(f"{'erase (one transaction)':28} {statistics.median(erase_ms):>7.1f}ms "
          f"{max(erase_ms):>7.1f}ms")  # fmt: skip
    print(f"{'baseline: export (reads)':28} {statistics.median(export_ms):>7.1f}ms "
          f"{max(export_ms):>7.1f}ms")  # fmt: skip
    print()
    print(f"Routing decision latency, callers at {args.rate:g}/s, {AGENTS} agents")
    print(f"{'phase':10} {'decisions':>9} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  purge")
    for name, (latencies, removed, took) in phases:
        purged = ", ".join(f"{n:,} {kind}" for kind, n in removed.items())
        purged = f"{purged} in {took:.1f} s" if removed else "-"
        p50, p95, p99 = p(latencies, 0.5), p(latencies, 0.95), p(latencies, 0.99)
        print(
            f"{name:10} {len(latencies):>9} {p50:>6.2f}ms {p95:>6.2f}ms {p99:>6.2f}ms"
            f" {max(latencies):>6.2f}ms  {purged}"
        )
    print(f"recordings' files left after the purge: {files_left:,} of {args.recordings:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
