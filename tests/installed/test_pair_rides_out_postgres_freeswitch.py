"""test_pair_rides_out_postgres.py's two scenarios on a real FreeSWITCH (the sandbox): a
pair of installed controllers driving FreeSWITCH alone.

PostgreSQL stopped at once: the active rides it out on its owner mark there (the global
CCGW_OWNER, rewritten every MARK_EVERY_S) instead of stopping at its lease's deadline; a
caller who rings in meanwhile is served by an agent (FreeSWITCH's own word: a CHANNEL_BRIDGE
on an Event Socket connection of the test's own); the standby stays a standby; once
PostgreSQL is back the same controller renews the lease at the same epoch and the call's
record, kept in its journal, is written.

A partition (the active alone cut off from PostgreSQL): the standby takes the lease and the
mark, and commands only once the old active, reading the new mark, has stopped: each
controller's Event Socket connection passes a recording relay of the test's own, and the
old active sends nothing but reads of the mark once the new one commands.

Skips (never fails) without a FreeSWITCH binary, as the other FreeSWITCH live tests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from ccgateway.pbx.ownership import VARIABLE as MARK
from ccgateway.pbx.ownership import Mark, parse_mark
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from tests.installed.conftest import ServedController
from tests.installed.pair_riding import (
    DatabaseSwitch,
    call_over_in_the_outage,
    cut_a_off_until_b_commands,
    start_postgresql_and_renew,
    stop_postgresql_and_ride,
)
from tests.installed.test_pair import pair, wait_for_role
from tests.installed.test_pair_asterisk import ok, pbx_ready, until
from tests.pbx.asterisk.proxy import Proxy
from tests.pg_server import PostgresServer
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.esl_recorder import EslRecorder
from tests.sandbox.freeswitch_e2e import MARKS, agent, bridged_agents, freeswitch_sandbox, queue

__all__ = ["pair"]  # the fixture, used by name

pytestmark = [*MARKS, pytest.mark.postgres]

CALLER = "+4930410078"
PARTITION_CALLER = "+4930410079"
MARK_STALE_S = 3.5  # FreeSwitchPbx's mark_stale_s: another node could take it after that
RIDE_S = 2.0  # ha.ride_s's default: how long a's mark found its own lets it command


@pytest.fixture
def database(server: PostgresServer) -> str:
    """The pair's database (test_pair.py's `pair` asks for it): a PostgreSQL server of this
    test's own, which it stops and starts."""
    return server.url


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-pair-ride"), agents=1) as sandbox:
        yield sandbox


def on_freeswitch(sandbox: FreeSwitchSandbox) -> dict[str, str]:
    """A controller's settings that drive the sandbox FreeSWITCH alone (no Asterisk)."""
    return {
        "CCGW_ASTERISK__ENABLED": "false",
        "CCGW_FREESWITCH__ENABLED": "true",
        "CCGW_FREESWITCH__PORT": str(ESL_PORT),
        "CCGW_FREESWITCH__PASSWORD_FILE": str(sandbox.password_file),
    }


def queue_410_with_agent1(a: ServedController) -> None:
    """Once `a` drives FreeSWITCH: line 410 of the sandbox's dialplan as a queue, and its
    phone agent1 as the queue's agent."""
    until("a's FreeSWITCH link", lambda: pbx_ready(a))
    ok(a, "POST", "/v1/skills", {"id": "ha", "name": "HA"})
    ok(a, "POST", "/v1/queues", queue(id="ha", name="HA", extension="410",
                                      requires={"ha": 5}, wrapup_s=0))  # fmt: skip
    ok(a, "POST", "/v1/agents", agent(1, skills={"ha": 7}))


def caller_uuid(observer: EslObserver, caller: str = CALLER) -> str | None:
    """The caller's channel, as FreeSWITCH named it when it was created."""
    found = observer.named("CHANNEL_CREATE", **{"Caller-Caller-ID-Number": caller})
    return found[0]["Unique-ID"] if found else None


def owner_mark(sandbox: FreeSwitchSandbox) -> tuple[Mark | None, float]:
    """The owner mark FreeSWITCH holds and its age in FreeSWITCH's (whole) seconds."""
    mark = parse_mark(sandbox.api(f"global_getvar {MARK}").strip())
    now = float(sandbox.api("strepoch").strip())
    return mark, now - mark.stamp if mark is not None else float("inf")


async def test_the_active_rides_out_postgresql_s_absence_on_the_freeswitch_mark(
    sandbox: FreeSwitchSandbox, pair: Callable[..., ServedController], server: PostgresServer
) -> None:
    observer = EslObserver(sandbox.esl_password())
    await observer.start()
    try:
        await asyncio.to_thread(scenario, sandbox, pair, server, observer)
    finally:
        await observer.stop()


def scenario(
    sandbox: FreeSwitchSandbox,
    pair: Callable[..., ServedController],
    server: PostgresServer,
    observer: EslObserver,
) -> None:
    a = pair("a", on_freeswitch(sandbox))
    assert wait_for_role(a, "active")["epoch"] == 1
    queue_410_with_agent1(a)
    ok(a, "POST", "/v1/agents/agent1/state", {"state": "available"})
    b = pair("b", on_freeswitch(sandbox))
    wait_for_role(b, "standby")

    stopped = stop_postgresql_and_ride(a, server)
    sandbox.call("410", hangup_after=4, caller=CALLER)
    uuid = until("the caller's channel", lambda: caller_uuid(observer))
    until(
        "the caller bridged to agent1 while PostgreSQL is away",
        lambda: bridged_agents(observer, uuid) == {1},
    )
    bridged_after = time.monotonic() - stopped
    mark, age = owner_mark(sandbox)
    assert mark is not None and (mark.node, mark.epoch) == ("a", 1), mark
    assert age < MARK_STALE_S, age  # a kept rewriting it while riding
    [bridge] = observer.bridges_of(uuid)
    sides = bridge.get("Channel-Name"), bridge.get("Other-Leg-Channel-Name")
    print(f"bridged {bridged_after:.1f} s after PostgreSQL stopped: {sides}")
    print(f"FreeSWITCH's owner mark then: {mark.encode()!r}, {age:.0f} s old")
    call_over_in_the_outage(a, b, CALLER)
    assert observer.hung_up(uuid) is not None
    start_postgresql_and_renew(a, b, server, {CALLER: "agent1"})


# What the old active may still send once the new one commands: its keeper's reads of the
# mark (each round reads it and FreeSWITCH's time; finding b's mark is what fences it) and
# the link's keep-alive probe (a read, sent after 45 s of silence). No write, not even of
# its own mark: a mark written then would be a's word over b's.
READS_AFTER = frozenset({f"api global_getvar {MARK}", "api strepoch", "api status"})


async def test_an_active_cut_off_from_postgresql_alone_stops_before_the_new_holder_commands_on_freeswitch(  # noqa: E501
    sandbox: FreeSwitchSandbox, pair: Callable[..., ServedController], server: PostgresServer
) -> None:
    """test_pair_rides_out_postgres.py's partition on FreeSWITCH: a's way to PostgreSQL goes
    dark (a relay that swallows everything), b's stays. b takes the lease, then the mark,
    and waits out a's ride before it commands; a, riding meanwhile, reads b's mark and
    stops. Every command each sends to FreeSWITCH passes a relay of ours (EslRecorder): a
    sends none but reads of the mark after b starts commanding. b serves a caller, a's
    health says standby, and when a can reach the database again it exits (75)."""
    loop = asyncio.get_running_loop()
    database = Proxy(("127.0.0.1", server.port))
    database_port = await database.start()
    password = sandbox.esl_password()
    wires = {node: EslRecorder(ESL_PORT, password) for node in ("a", "b")}
    esl_ports = {node: await wire.start() for node, wire in wires.items()}
    observer = EslObserver(password)
    await observer.start()

    switch = DatabaseSwitch(database, loop)

    def on_relays(node: str) -> dict[str, str]:
        return {**on_freeswitch(sandbox), "CCGW_FREESWITCH__PORT": str(esl_ports[node])}

    via_relay = server.url.replace(f":{server.port}/", f":{database_port}/")
    try:
        await asyncio.to_thread(
            partition, sandbox, pair, observer, wires,
            {"a": {**on_relays("a"), "CCGW_DATABASE_URL": via_relay}, "b": on_relays("b")},
            switch.cut, switch.reach_again,
        )  # fmt: skip
    finally:
        database.frozen = False
        await observer.stop()
        await database.stop()
        for wire in wires.values():
            await wire.stop()


def partition(
    sandbox: FreeSwitchSandbox,
    pair: Callable[..., ServedController],
    observer: EslObserver,
    wires: dict[str, EslRecorder],
    env: dict[str, dict[str, str]],
    cut_a_from_the_database: Callable[[], None],
    reach_the_database_again: Callable[[], None],
) -> None:
    a = pair("a", env["a"])
    assert wait_for_role(a, "active")["epoch"] == 1
    queue_410_with_agent1(a)
    b = pair("b", env["b"])
    wait_for_role(b, "standby")

    b_commands_from = cut_a_off_until_b_commands(a, b, cut_a_from_the_database)
    # b serves a caller (agent1 made available on b: a hears nothing of it).
    ok(b, "POST", "/v1/agents/agent1/state", {"state": "available"})
    sandbox.call("410", hangup_after=3, caller=PARTITION_CALLER)
    uuid = until("the caller's channel", lambda: caller_uuid(observer, PARTITION_CALLER))
    until("the caller bridged to agent1 by b", lambda: bridged_agents(observer, uuid) == {1})

    a_sent, b_sent = wires["a"].commands(), wires["b"].commands()
    a_after = [line for at, line in a_sent if at >= b_commands_from]
    assert {mark_command(line) for line in a_after} <= READS_AFTER, a_after
    a_marked = max(at for at, line in a_sent if line.startswith(SET_MARK))
    # a confirmed its mark last just before that write; it may ride ride_s from then on
    assert b_commands_from - a_marked >= RIDE_S, b_commands_from - a_marked
    b_marked = min(at for at, line in b_sent if line.startswith(SET_MARK + "b"))
    b_first = min((at, line) for at, line in b_sent if at >= b_commands_from
                  and mark_command(line) not in (*READS_AFTER, SET_MARK))  # fmt: skip
    # b wrote its mark and then waited: nothing but the mark's rounds until it commanded
    b_before = {mark_command(line) for at, line in b_sent if b_marked <= at < b_commands_from}
    assert b_before <= {f"api global_getvar {MARK}", "api strepoch", SET_MARK}, b_before
    print(
        f"a's last mark write {b_commands_from - a_marked:.2f} s before b commanded "
        f"(b's mark written {b_commands_from - b_marked:.2f} s before; its first command on "
        f"the wire {b_first[0] - b_commands_from:.2f} s after: {b_first[1]!r}); "
        f"a sent after: {Counter(a_after)}"
    )

    assert a.process is not None and a.process.poll() is None  # riding on, fenced: harmless
    reach_the_database_again()
    assert a.process.wait(20) == 75, a.log()[-3000:]  # told the lease is gone
    assert "the lease is no longer ours" in a.log()
    assert not [line for at, line in wires["a"].commands() if at >= b_commands_from
                and mark_command(line) not in READS_AFTER]  # fmt: skip


SET_MARK = f"api global_setvar {MARK}="


def mark_command(line: str) -> str:
    """A command line with the mark's value left out (a write of the mark, whoever's)."""
    return SET_MARK if line.startswith(SET_MARK) else line
