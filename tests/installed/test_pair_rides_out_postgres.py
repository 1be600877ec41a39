"""A pair of installed controllers on two sandbox Asterisks, PostgreSQL stopped at once (a
crash, or a failover's gap, seen by both): the active rides it out on each PBX's owner mark
instead of stopping at its lease's deadline. A caller who rings in on each PBX meanwhile is
served by an agent of that PBX (each Asterisk's own word: an observer's bridge), the standby
stays a standby since nobody can take the lease, and once PostgreSQL is back the same
controller renews the lease at the same epoch and the calls' records, kept in its journal,
are written through the fence."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.chaos import tap
from benchmarks.chaos_log import Action
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.asterisk_config import SECOND
from tests.e2e.ami_observer import AmiObserver
from tests.installed.conftest import ServedController
from tests.installed.pair_riding import (
    DatabaseSwitch,
    call_over_in_the_outage,
    cut_a_off_until_b_commands,
    start_postgresql_and_renew,
    stop_postgresql_and_ride,
)
from tests.installed.test_pair import admin, wait_for_role
from tests.installed.test_pair_asterisk import ok, on_asterisk, pbx_ready, until
from tests.pbx.asterisk.proxy import Proxy
from tests.pg_server import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.asterisk]

CALLER = "+4930410077"
RIDING_CALLER = "+4930410079"  # served by a while it rides, cut off from PostgreSQL
EAST_CALLER = "+4930500078"


def node(
    name: str,
    server: PostgresServer,
    sandbox: Sandbox,
    folder: Path,
    database_url: str | None = None,
    ami_port: int = 5038,
    east: Sandbox | None = None,
) -> ServedController:
    """A controller of the pair (its database and AMI reached through relays if given;
    driving the second sandbox Asterisk too as `east` if given)."""
    folder.mkdir()
    env = {"CCGW_DATABASE_URL": database_url or server.url, "CCGW_HA__MODE": "pair",
           "CCGW_HA__NODE_ID": name}  # fmt: skip
    ami = {**on_asterisk(sandbox), "CCGW_ASTERISK__PORT": str(ami_port)}
    second = "" if east is None else (
        f'[pbxes.east]\nkind = "asterisk"\nhost = "127.0.0.1"\nport = {SECOND.ami_port}\n'
        f'secret = "{east.ami_secret()}"\n'
    )  # fmt: skip
    served = ServedController(folder, second, env={**env, **ami})
    served.env["CCGW_HA__ADVERTISE_URL"] = served.base_url
    served.launch()
    return served


def bridged_to(observer: Any, device: str, since: int) -> list[dict[str, str]]:
    """Asterisk's BridgeEnter events of `device`'s channels, from event number `since` on."""
    return [
        e
        for e in observer.events[since:]
        if e.get("Event") == "BridgeEnter" and e.get("Channel", "").startswith(f"{device}-")
    ]


def queue_410_with(served: ServedController, agent: str) -> None:
    """Line 410 of the sandbox's dialplan as a queue, and one of its phones as its agent."""
    ok(served, "POST", "/v1/skills", {"id": "ha", "name": "HA"})
    ok(served, "POST", "/v1/queues", {"id": "ha", "name": "HA", "extension": "410",
                                      "requires": {"ha": 5}, "wrapup_s": 0})  # fmt: skip
    ok(served, "POST", "/v1/agents", {"id": agent, "name": agent, "device": f"PJSIP/{agent}",
                                      "skills": {"ha": 7}})  # fmt: skip


async def test_the_active_rides_out_postgresql_s_absence_on_the_pbx_marks_and_keeps_routing(
    asterisk_sandbox: Sandbox, east: Sandbox, server: PostgresServer, tmp_path: Path
) -> None:
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    east_observer = AmiObserver(secret=east.ami_secret(), port=SECOND.ami_port)
    await observer.start()
    await east_observer.start()
    nodes: list[ServedController] = []
    try:
        await asyncio.to_thread(
            scenario, asterisk_sandbox, east, server, tmp_path, (observer, east_observer), nodes
        )
    finally:
        for served in nodes:
            served.close()
        await observer.stop()
        await east_observer.stop()


def scenario(
    sandbox: Sandbox,
    east: Sandbox,
    server: PostgresServer,
    tmp_path: Path,
    observers: tuple[Any, Any],
    nodes: list[ServedController],
) -> None:
    observer, east_observer = observers
    a = node("a", server, sandbox, tmp_path / "a", east=east)
    nodes.append(a)
    assert wait_for_role(a, "active")["epoch"] == 1
    until("a's PBX links", lambda: admin(a, "GET", "/v1/health").json()["pbxes"]
          == {"asterisk": True, "east": True})  # fmt: skip
    queue_410_with(a, "agent5")
    ok(a, "POST", "/v1/agents/agent5/state", {"state": "available"})
    # East's queue (its extension 5000) and its phone agent1, an agent of its own.
    ok(a, "POST", "/v1/queues", {"id": "ha-east", "name": "HA east", "extension": "5000",
                                 "requires": {"ha": 5}, "wrapup_s": 0, "pbx": "east"})  # fmt: skip
    ok(a, "POST", "/v1/agents", {"id": "east1", "name": "east1", "device": "PJSIP/agent1",
                                 "skills": {"ha": 7}, "pbx": "east"})  # fmt: skip
    ok(a, "POST", "/v1/agents/east1/state", {"state": "available"})
    b = node("b", server, sandbox, tmp_path / "b", east=east)
    nodes.append(b)
    wait_for_role(b, "standby")

    stopped = stop_postgresql_and_ride(a, server)
    seen, east_seen = len(observer.events), len(east_observer.events)
    sandbox.call("410", hangup_after=4, caller=CALLER)
    east.call("5000", hangup_after=4, caller=EAST_CALLER)
    bridged = until(
        "the caller bridged to agent5 while PostgreSQL is away",
        lambda: bridged_to(observer, "PJSIP/agent5", seen),
    )
    print(f"bridged {time.monotonic() - stopped:.1f} s after PostgreSQL stopped: {bridged[0]}")
    east_bridged = until(
        "east's caller bridged to east's agent1 meanwhile",
        lambda: bridged_to(east_observer, "PJSIP/agent1", east_seen),
    )
    print(f"on east {time.monotonic() - stopped:.1f} s after: {east_bridged[0]}")
    call_over_in_the_outage(a, b, CALLER, EAST_CALLER)
    start_postgresql_and_renew(a, b, server, {CALLER: "agent5", EAST_CALLER: "east1"})


async def test_an_active_cut_off_from_postgresql_alone_stops_before_the_new_holder_commands(
    asterisk_sandbox: Sandbox, server: PostgresServer, tmp_path: Path
) -> None:
    """A partition: a's way to PostgreSQL goes dark (a relay that swallows everything), b's
    stays. b takes the lease, then the PBX's mark, and waits out a's ride before it
    commands; a, riding meanwhile, reads b's mark and stops. Every AMI action each sent
    passes a relay of ours: a sends none after b starts commanding. When a can reach the
    database again it is told the lease is gone, leaves what it could not write (the record
    of a call it served while riding) for b, and exits (75); b takes it in, and the call has
    one record (b wrote its own from the PBX's end marks at its takeover)."""
    loop = asyncio.get_running_loop()
    database = Proxy(("127.0.0.1", server.port))
    database_port = await database.start()
    actions: list[Action] = []
    ami = {node: tap(node, actions) for node in ("a", "b")}
    ami_ports = {node: await relay.start() for node, relay in ami.items()}
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    nodes: list[ServedController] = []

    switch = DatabaseSwitch(database, loop)

    try:
        await asyncio.to_thread(
            partition, asterisk_sandbox, server, tmp_path, observer, nodes,
            database_port, ami_ports, actions, switch.cut,
            switch.reach_again,
        )  # fmt: skip
    finally:
        database.frozen = False
        for served in nodes:
            served.close()
        await observer.stop()
        for relay in (database, *ami.values()):
            await relay.stop()


def partition(
    sandbox: Sandbox,
    server: PostgresServer,
    tmp_path: Path,
    observer: Any,
    nodes: list[ServedController],
    database_port: int,
    ami_ports: dict[str, int],
    actions: list[Action],
    cut_a_from_the_database: Any,
    reach_the_database_again: Any,
) -> None:
    via_relay = server.url.replace(f":{server.port}/", f":{database_port}/")
    a = node("a", server, sandbox, tmp_path / "a", via_relay, ami_ports["a"])
    nodes.append(a)
    assert wait_for_role(a, "active")["epoch"] == 1
    until("a's PBX link", lambda: pbx_ready(a))
    queue_410_with(a, "agent6")
    ok(a, "POST", "/v1/agents/agent6/state", {"state": "available"})
    b = node("b", server, sandbox, tmp_path / "b", None, ami_ports["b"])
    nodes.append(b)
    wait_for_role(b, "standby")

    b_commands_from = cut_a_off_until_b_commands(
        a, b, cut_a_from_the_database,
        lambda: sandbox.call("410", hangup_after=1.5, caller=RIDING_CALLER),
    )  # fmt: skip
    # b serves a caller (agent6 made available on b: a hears nothing of it).
    ok(b, "POST", "/v1/agents/agent6/state", {"state": "available"})
    seen = len(observer.events)
    sandbox.call("410", hangup_after=3, caller=CALLER)
    until("the caller bridged to agent6 by b", lambda: bridged_to(observer, "PJSIP/agent6", seen))
    # What a sent once b commanded: at most reads of the mark (then it was fenced) and pings.
    a_after = [x.name for x in actions if x.node == "a" and x.at >= b_commands_from]
    assert set(a_after) <= {"Getvar", "Ping"}, a_after
    a_marked = max(x.at for x in actions if x.node == "a" and x.name == "Setvar")
    print(f"a's last mark {b_commands_from - a_marked:.2f} s before b commanded; after: {a_after}")

    assert a.process is not None and a.process.poll() is None  # riding on, fenced: harmless
    reach_the_database_again()
    assert a.process.wait(20) == 75, a.log()[-3000:]  # told the lease is gone
    assert "the lease is no longer ours" in a.log()
    assert "a left 1 unwritten writes for the next active" in a.log(), a.log()[-3000:]
    until("b taking in what a left", lambda: "took in 1 writes left by a (epoch 1)" in b.log())
    records = [r for r in ok(b, "GET", "/v1/interactions?limit=50")
               if r["caller_number"] == RIDING_CALLER]  # fmt: skip
    assert len(records) == 1, records
