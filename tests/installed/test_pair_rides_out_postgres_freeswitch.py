"""test_pair_rides_out_postgres.py's first scenario on a real FreeSWITCH (the sandbox): a
pair of installed controllers driving FreeSWITCH alone, PostgreSQL stopped at once. The
active rides it out on its owner mark there (the global CCGW_OWNER, rewritten every
MARK_EVERY_S) instead of stopping at its lease's deadline; a caller who rings in meanwhile
is served by an agent (FreeSWITCH's own word: a CHANNEL_BRIDGE on an Event Socket connection
of the test's own); the standby stays a standby; once PostgreSQL is back the same controller
renews the lease at the same epoch and the call's record, kept in its journal, is written.

Skips (never fails) without a FreeSWITCH binary, as the other FreeSWITCH live tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from ccgateway.pbx.ownership import VARIABLE as MARK
from ccgateway.pbx.ownership import Mark, parse_mark
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from tests.installed.conftest import ServedController
from tests.installed.pair_riding import (
    call_over_in_the_outage,
    start_postgresql_and_renew,
    stop_postgresql_and_ride,
)
from tests.installed.test_pair import pair, wait_for_role
from tests.installed.test_pair_asterisk import ok, pbx_ready, until
from tests.pg_server import PostgresServer
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import MARKS, agent, bridged_agents, freeswitch_sandbox, queue

__all__ = ["pair"]  # the fixture, used by name

pytestmark = [*MARKS, pytest.mark.postgres]

CALLER = "+4930410078"
MARK_STALE_S = 3.5  # FreeSwitchPbx's mark_stale_s: another node could take it after that


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


def caller_uuid(observer: EslObserver) -> str | None:
    """The caller's channel, as FreeSWITCH named it when it was created."""
    found = observer.named("CHANNEL_CREATE", **{"Caller-Caller-ID-Number": CALLER})
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
    until("a's FreeSWITCH link", lambda: pbx_ready(a))
    ok(a, "POST", "/v1/skills", {"id": "ha", "name": "HA"})
    ok(a, "POST", "/v1/queues", queue(id="ha", name="HA", extension="410",
                                      requires={"ha": 5}, wrapup_s=0))  # fmt: skip
    ok(a, "POST", "/v1/agents", agent(1, skills={"ha": 7}))
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
