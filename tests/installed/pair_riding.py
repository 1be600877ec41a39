"""What the tests of a pair riding out PostgreSQL's absence share, whichever PBX it drives
(test_pair_rides_out_postgres.py on Asterisk, test_pair_rides_out_postgres_freeswitch.py on
FreeSWITCH): the outage begun and ridden past the lease's deadline, the call served meanwhile
seen over, and PostgreSQL's return."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tests.installed.conftest import ServedController
from tests.installed.test_pair import admin, wait_for_role
from tests.installed.test_pair_asterisk import ok, pbx_ready, until
from tests.pbx.asterisk.proxy import Proxy
from tests.pg_server import PostgresServer

LEASE_S = 3.0  # ha.lease_s's default


def stop_postgresql_and_ride(a: ServedController, server: PostgresServer) -> float:
    """PostgreSQL stopped at once and the active `a` seen riding past its lease's deadline
    (still running, still active); the monotonic moment PostgreSQL stopped."""
    server.stop()
    stopped = time.monotonic()
    time.sleep(LEASE_S + 1.0)  # past a's deadline: it would have exited here before
    assert a.process is not None and a.process.poll() is None, a.log()[-3000:]
    assert "commanding each PBX only while its owner mark is found ours" in a.log()
    assert admin(a, "GET", "/v1/health").json()["role"] == "active"
    return stopped


def call_over_in_the_outage(a: ServedController, b: ServedController, *callers: str) -> None:
    """The callers' calls ended on the riding `a`, no history served with holes, and `b`
    still a standby (nobody can take the lease meanwhile)."""
    until("the calls over", lambda: not [c for c in ok(a, "GET", "/v1/calls")
                                         if c.get("caller_number") in callers])  # fmt: skip
    assert admin(a, "GET", "/v1/interactions").status_code == 503  # history: not with holes
    assert b.process is not None and b.process.poll() is None
    wait_for_role(b, "standby")


def start_postgresql_and_renew(
    a: ServedController, b: ServedController, server: PostgresServer, answered: dict[str, str]
) -> None:
    """PostgreSQL back: `a` renews the lease at epoch 1, `b` names it the active, and each
    caller's record (kept in a's journal) is written, answered by its agent (`answered`:
    caller number -> agent id)."""
    server.start()
    until("a renewing its lease", lambda: "renewed the lease at epoch 1" in a.log(), 20)
    health = admin(a, "GET", "/v1/health").json()
    assert (health["role"], health["epoch"]) == ("active", 1)
    until(
        "b naming a as active",
        lambda: (wait_for_role(b, "standby")["active"] or {}).get("node") == "a",
    )  # type: ignore[union-attr]
    records = until(
        "the calls' records written",
        lambda: {
            r["caller_number"]: (r["outcome"], r["agent_id"])
            for r in ok(a, "GET", "/v1/interactions?limit=50")
            if r["caller_number"] in answered
        } if admin(a, "GET", "/v1/interactions").status_code == 200 else None,
    )  # fmt: skip
    assert records == {caller: ("answered", agent) for caller, agent in answered.items()}
    assert "not sent: the lease is lost" not in a.log()
    assert a.process is not None and a.process.poll() is None


def cut_a_off_until_b_commands(
    a: ServedController,
    b: ServedController,
    cut_a_from_the_database: Callable[[], None],
    meanwhile: Callable[[], object] = lambda: None,
) -> float:
    """A partition: `a` alone cut off from PostgreSQL (then `meanwhile` runs); `b` takes the
    lease at epoch 2 and the PBX after waiting out a's ride, and `a` is fenced by b's mark
    and says standby. The moment b started commanding (its log's word: the wire's is the
    caller's to check)."""
    cut_a_from_the_database()
    meanwhile()
    assert wait_for_role(b, "active", within=20)["epoch"] == 2
    until("b's PBX link", lambda: pbx_ready(b))
    assert "may still command on its mark while the database is away" in b.log()
    [owns] = [line for line in b.log().splitlines() if "owns the PBX now" in line]
    until("a fenced by b's mark", lambda: "fenced: b (epoch 2) owns the PBX" in a.log())
    until("a no longer active", lambda: admin(a, "GET", "/v1/health").status_code == 503)
    assert admin(a, "GET", "/v1/health").json()["role"] == "standby"
    return logged_at(owns)


def logged_at(line: str) -> float:
    """The moment a controller's log line was written (its default format, UTC here)."""
    stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return stamp.replace(tzinfo=UTC).timestamp()


class DatabaseSwitch:
    """a's way to PostgreSQL through a relay of the test's, switched from the scenario's
    thread: off as across a partition (new connections hang), on again (the hung ones go,
    new ones work)."""

    def __init__(self, relay: Proxy, loop: asyncio.AbstractEventLoop) -> None:
        self.relay, self.loop = relay, loop

    def cut(self) -> None:
        self.relay.frozen = True
        self.loop.call_soon_threadsafe(self.relay.cut)

    def reach_again(self) -> None:
        self.relay.frozen = False
        self.loop.call_soon_threadsafe(self.relay.cut)
