"""PostgreSQL away (stopped at once, as a crash or a failover's gap): the controller routes
on, keeps the centre's writes in order, answers reads of history with 503, and writes
everything once the server is back, nothing lost or doubled. The real controller
(`build_controller`) on a real PostgreSQL server that the test stops and starts; the PBX and
the clock are the test doubles."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.services import dispatcher as dispatcher_module
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import ADMIN_KEY, Harness, build_harness, hermetic_settings
from tests.api.dialer_helpers import NOON, number, screened_and_listed
from tests.harness_api import request
from tests.pg_server import PostgresServer
from tests.services.test_metrics import a_centre_with_one_answered_call

pytestmark = pytest.mark.postgres


async def step(harness: Harness) -> None:
    """The dispatcher has taken what was emitted and carried out its commands; unlike
    `Harness.settle` it does not wait for the database."""

    async def nothing(center: Center, now: float) -> tuple[None, list[Command]]:
        return None, []

    await harness.controller.dispatcher.perform(nothing)
    for _ in range(3):
        await asyncio.sleep(0)


async def served_call(harness: Harness, call_id: str, talk_s: float) -> RingAgent:
    """A caller in line 200, rung to a free agent who answers, talks and hangs up."""
    rung = len(harness.pbx.rings())
    harness.pbx.emit(CallWaiting(call_id, "200", caller_number="+4930123456"))
    [*_, ring] = await harness.pbx.wait_for(RingAgent, rung + 1)
    assert ring.call_id == call_id
    harness.clock.advance(2)
    harness.pbx.emit(AgentLegAnswered(ring.leg_id))
    await step(harness)
    harness.clock.advance(talk_s)
    harness.pbx.emit(ChannelHungUp(call_id, 16))
    await step(harness)
    return ring


async def until(condition: object, what: str, timeout_s: float = 20.0) -> None:
    assert callable(condition)
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


async def test_routing_goes_on_while_postgresql_is_away_and_nothing_is_lost_or_doubled(
    server: PostgresServer,
) -> None:
    harness = build_harness(hermetic_settings(server.url))
    dispatcher = harness.controller.dispatcher
    async with harness.running():
        for path, body in (
            ("/v1/skills", {"id": "de", "name": "German"}),
            ("/v1/queues", {"id": "german", "name": "German", "extension": "200", "wrapup_s": 0}),
            ("/v1/agents", {"id": "a1", "name": "A1", "device": "PJSIP/agent1"}),
            ("/v1/agents/a1/state", {"state": "available"}),
        ):
            assert (await request(harness, "POST", path, body)).status_code in (200, 201)
        harness.pbx.emit(PbxResynced())
        await served_call(harness, "before", 10)
        await harness.settle()

        server.stop()
        away = await served_call(harness, "during-1", 20)  # routed with the database away
        await until(lambda: not dispatcher.database_available, "the writer finds it away")
        during = await served_call(harness, "during-2", 30)
        assert (away.agent_id, during.agent_id) == ("a1", "a1")
        history = await request(harness, "GET", "/v1/interactions")
        assert history.status_code == 503
        assert history.json()["error_id"] == "database-unavailable"
        assert history.headers["retry-after"] == "5"
        health = (await request(harness, "GET", "/v1/health")).json()
        assert (health["pbx_ready"], health["database"]) == (True, False)
        change = await request(harness, "POST", "/v1/skills", {"id": "fr", "name": "French"})
        assert change.status_code == 503  # refused whole: nothing half-written
        assert dispatcher.pending_writes >= 1

        server.start()
        await until(lambda: dispatcher.database_available, "the writer finds it back")
        await harness.settle()
        records = (await request(harness, "GET", "/v1/interactions")).json()
        ids = [r["call_id"] for r in records]
        assert sorted(ids) == ["before", "during-1", "during-2"]  # each once
        talk = {r["call_id"]: r["talk_s"] for r in records}
        assert talk == {"before": 10, "during-1": 20, "during-2": 30}
        skills = (await request(harness, "GET", "/v1/skills")).json()
        assert [s["id"] for s in skills] == ["de"]
        health = (await request(harness, "GET", "/v1/health")).json()
        assert health["database"] is True


async def test_a_dial_the_database_kept_waiting_is_not_placed_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its contact was saved as being dialled, but later than a dial may be placed (here:
    any delay at all): the dial fails as not sent and is recorded, nobody is called."""
    monkeypatch.setattr(dispatcher_module, "DIAL_LATE_S", -1.0)
    harness = build_harness(clock=ManualClock(NOON))  # the UK's calling window is open
    async with harness.running() as h:
        await a_centre_with_one_answered_call(h)
        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        transport = httpx.ASGITransport(app=h.controller.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
            await screened_and_listed(client, ADMIN_KEY, "renewals")
            await h.advance(600)  # a1's wrap-up
            started = await client.post("/v1/campaigns/renewals/start", headers=auth)
            assert started.status_code == 200, started.text
            for _ in range(10):
                await h.advance(0.5)
            dials = (await client.get("/v1/campaigns/renewals/dials", headers=auth)).json()
            agent = (await client.get("/v1/agents/a1", headers=auth)).json()
    assert h.pbx.sent(DialCustomer) == []
    assert [(d["number"], d["outcome"], d["detail"]) for d in dials] == [
        (number(2), "failed", "not dialled: the database kept it waiting too long")
    ]
    assert agent["state"] == "available"  # kept for the dial, let go with it


def test_after_a_restart_the_pools_connections_are_made_again_not_reported_away(
    server: PostgresServer,
) -> None:
    """The pool tests a connection before lending it (pre-ping) and makes a new one if the
    server ended it: that test's failure must not be raised as the database being away."""
    from sqlalchemy import text

    from ccgateway.persistence import open_database

    engine = open_database(server.url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    server.stop()
    server.start()
    with engine.connect() as connection:  # the pooled connection is dead: a new one
        assert connection.execute(text("SELECT 2")).scalar_one() == 2
    engine.dispose()
