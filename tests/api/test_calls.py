"""Calls through the API: the PBX is our fake, everything else is real (SQLite on a file)."""

from __future__ import annotations

from pathlib import Path

from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    PbxResynced,
)
from ccgateway.testing import ManualClock
from tests.api.conftest import seed
from tests.services.stack import Stack

T0 = 1_700_000_000.0  # the manual clock's start: 2023-11-14T22:13:20Z


async def test_a_call_from_waiting_to_history(stack: Stack) -> None:
    assert (await stack.ok("GET", "/v1/health"))["pbx_ready"] is False
    await stack.emit(PbxResynced(), CallWaiting("c1", "200", "+4930111", "Ann"))
    assert (await stack.ok("GET", "/v1/health")) == {
        "pbx_ready": True,
        "pbxes": {"asterisk": True},
        "database": True,
        "problems": {},
        "role": "single",  # not one of a pair (a pair's active says active, node, epoch)
        "node": None,
        "epoch": None,
        "passive": {},
    }
    [ring] = stack.pbx.rings()
    # a3 lacks German; a1 and a2 have been idle as long, so the lower id goes first
    assert (ring.call_id, ring.agent_id, ring.device, ring.timeout_s) == (
        "c1",
        "a1",
        "PJSIP/agent1",
        10,
    )
    [call] = await stack.ok("GET", "/v1/calls")
    assert (call["call_id"], call["state"], call["agent_id"]) == ("c1", "offering", "a1")
    assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "reserved"

    await stack.advance(4)
    await stack.emit(AgentLegAnswered(ring.leg_id))
    [call] = await stack.ok("GET", "/v1/calls")
    assert (call["state"], call["agent_id"], call["wait_s"]) == ("connected", "a1", 4.0)
    assert call["arrived_at"] == "2023-11-14T22:13:20Z"
    agent = await stack.ok("GET", "/v1/agents/a1")
    assert (agent["state"], agent["call_id"], agent["calls_answered"]) == ("on_call", "c1", 1)
    status = await stack.ok("GET", "/v1/queues/german/status")
    assert (status["connected"], status["waiting"], status["agents_available"]) == (1, 0, 1)

    await stack.advance(42)
    await stack.emit(ChannelHungUp("c1", 16))
    assert await stack.ok("GET", "/v1/calls") == []
    assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "wrap_up"
    await stack.advance(30)  # the queue's wrap-up
    assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "available"

    [record] = await stack.ok("GET", "/v1/interactions?queue_id=german")
    assert record == {
        "call_id": "c1",
        "queue_id": "german",
        "agent_id": "a1",
        "caller_number": "+4930111",
        "outcome": "answered",
        "arrived_at": "2023-11-14T22:13:20Z",
        "answered_at": "2023-11-14T22:13:24Z",
        "ended_at": "2023-11-14T22:14:06Z",
        "arrived_epoch": T0,
        "answered_epoch": T0 + 4,
        "ended_epoch": T0 + 46,
        "wait_s": 4.0,
        "talk_s": 42.0,
        "offers": 1,
        "detail": "",
        "kind": "inbound",
        "channel": "voice",
    }
    assert await stack.ok("GET", "/v1/interactions?queue_id=other") == []
    assert await stack.ok("GET", "/v1/interactions?agent_id=a2") == []


async def test_no_answer_pauses_the_agent_and_offers_the_call_to_the_next(stack: Stack) -> None:
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))
    [first] = stack.pbx.rings()
    await stack.emit(AgentLegFailed(first.leg_id, LegFailure.NO_ANSWER))
    first_again, second = stack.pbx.rings()
    assert first_again == first and (second.agent_id, second.call_id) == ("a2", "c1")
    agent = await stack.ok("GET", "/v1/agents/a1")
    assert (agent["state"], agent["reason"]) == ("paused", "not ready: no_answer")
    [call] = await stack.ok("GET", "/v1/calls")
    assert (call["agent_id"], call["offers"]) == ("a2", 2)


async def test_a_ring_the_pbx_never_reports_on_ends_at_the_timeout(stack: Stack) -> None:
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))
    [first] = stack.pbx.rings()
    await stack.advance(9)
    assert len(stack.pbx.rings()) == 1
    await stack.advance(60)  # well past the ring timeout and the grace for the PBX's verdict
    assert ("hang_up", first.leg_id) in stack.pbx.commands
    assert [r.agent_id for r in stack.pbx.rings()] == ["a1", "a2"]
    assert (await stack.ok("GET", "/v1/agents/a1"))["state"] == "paused"


async def test_an_abandoned_caller_is_recorded(stack: Stack) -> None:
    for k in (1, 2):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "lunch"})
    await stack.emit(PbxResynced(), CallWaiting("c1", "200", "+4930222"))
    assert stack.pbx.rings() == []
    status = await stack.ok("GET", "/v1/queues/german/status")
    assert (status["waiting"], status["agents_available"]) == (1, 0)
    await stack.advance(25)
    assert (await stack.ok("GET", "/v1/queues/german/status"))["longest_wait_s"] == 25.0
    await stack.emit(ChannelHungUp("c1"))
    [record] = await stack.ok("GET", "/v1/interactions")
    assert (record["outcome"], record["agent_id"], record["wait_s"], record["talk_s"]) == (
        "abandoned",
        None,
        25.0,
        0.0,
    )
    assert record["answered_at"] is None and record["answered_epoch"] is None


async def test_a_call_for_an_unknown_extension_is_rejected_and_recorded(stack: Stack) -> None:
    await stack.emit(PbxResynced(), CallWaiting("c1", "999"))
    assert ("fallback", "c1") in stack.pbx.commands
    [record] = await stack.ok("GET", "/v1/interactions")
    assert (record["outcome"], record["queue_id"]) == ("rejected", None)


async def test_interactions_are_filtered_by_time_and_paged(stack: Stack) -> None:
    await stack.emit(PbxResynced())
    for k in range(4):  # four abandoned calls, an hour apart
        await stack.emit(CallWaiting(f"c{k}", "200"))
        await stack.emit(ChannelHungUp(f"c{k}"))
        await stack.advance(3600)

    async def ids(query: str) -> list[str]:
        return [i["call_id"] for i in await stack.ok("GET", f"/v1/interactions?{query}")]

    # c0 arrived at 22:13:20Z (reserved, then withdrawn), c1 an hour later, ...
    assert await ids("") == ["c0", "c1", "c2", "c3"]
    assert await ids("since=2023-11-14T23:13:20Z") == ["c1", "c2", "c3"]
    assert await ids("since=2023-11-14T23:13:20") == ["c1", "c2", "c3"]  # no offset: UTC
    assert await ids("since=2023-11-15T00:13:20%2B01:00") == ["c1", "c2", "c3"]
    assert await ids("until=2023-11-15T00:13:20Z") == ["c0", "c1"]  # until is exclusive
    assert await ids(f"since={T0 + 3600:.0f}&until={T0 + 3 * 3600:.0f}") == ["c1", "c2"]
    assert await ids("limit=2&offset=1") == ["c1", "c2"]
    assert await ids("agent_id=a1") == []  # never answered: no agent on the record


async def test_configuration_presence_and_history_survive_a_restart(tmp_path: Path) -> None:
    db, clock = tmp_path / "ccgateway.db", ManualClock()
    first = await Stack.start(db, clock)
    await seed(first)
    await first.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "training"})
    await first.ok("POST", "/v1/agents/a3/state", {"state": "logged_out"})
    await first.ok("PATCH", "/v1/queues/german", {"name": "Deutsch"})
    await first.emit(PbxResynced(), CallWaiting("c1", "200"))
    [ring] = first.pbx.rings()
    await first.emit(AgentLegAnswered(ring.leg_id))
    await first.advance(10)
    await first.emit(ChannelHungUp("c1"))
    await first.stop()

    second = await Stack.start(db, clock)
    try:
        queues = await second.ok("GET", "/v1/queues")
        assert [(q["id"], q["name"], q["requires"]) for q in queues] == [
            ("german", "Deutsch", {"de": 5})
        ]
        agents = {a["id"]: a for a in await second.ok("GET", "/v1/agents")}
        assert agents["a1"]["skills"] == {"de": 8}
        assert (agents["a2"]["state"], agents["a2"]["reason"]) == ("paused", "training")
        assert agents["a3"]["state"] == "logged_out"
        # a1 was in wrap-up when the controller stopped: it comes back ready, not busy
        assert agents["a1"]["state"] == "available"
        [record] = await second.ok("GET", "/v1/interactions")
        assert (record["call_id"], record["outcome"], record["talk_s"]) == ("c1", "answered", 10)
    finally:
        await second.stop()


async def test_a_supervisor_can_monitor_a_connected_call(stack: Stack) -> None:
    sup = (await stack.ok("POST", "/v1/keys", {"name": "sup", "role": "supervisor"}))["key"]
    own = (await stack.ok("POST", "/v1/keys", {"name": "desk", "role": "agent", "agent_id": "a1"}))[
        "key"
    ]
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))
    [ring] = stack.pbx.rings()
    body = {"supervisor_device": "PJSIP/sup1", "mode": "whisper"}
    assert await stack.error("POST", "/v1/calls/c1/monitor", body, key=sup) == (
        409,
        "conflict",
        "call c1 is offering: only a connected call can be monitored",
    )
    await stack.emit(AgentLegAnswered(ring.leg_id))
    assert (await stack.error("POST", "/v1/calls/c1/monitor", body, key=own))[:2] == (
        403,
        "forbidden",
    )
    assert (await stack.call("POST", "/v1/calls/c1/monitor", body, key=sup))[0] == 202
    await stack.settle()
    [monitor] = [c for kind, c in stack.pbx.commands if kind == "monitor"]
    assert (monitor.agent_leg_id, monitor.supervisor_device, monitor.mode.value) == (
        ring.leg_id,
        "PJSIP/sup1",
        "whisper",
    )


async def test_figures_and_occupancy_start_again_at_utc_midnight(stack: Stack) -> None:
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))
    [ring] = stack.pbx.rings()
    await stack.advance(2)
    await stack.emit(AgentLegAnswered(ring.leg_id))
    await stack.advance(60)
    await stack.emit(ChannelHungUp("c1", 16))
    assert (await stack.ok("GET", "/v1/queues/german/figures"))["offered"] == 1
    assert (await stack.ok("GET", "/v1/agents/a1"))["occupancy"] > 0.5
    await stack.advance(2 * 3600)  # T0 is 22:13 UTC: now past midnight
    assert (await stack.ok("GET", "/v1/queues/german/figures"))["offered"] == 0
    assert (await stack.ok("GET", "/v1/agents/a1"))["occupancy"] == 0.0


async def test_health_names_what_a_pbx_refuses(stack: Stack) -> None:
    refused = "Asterisk refuses the AMI action CoreShowChannels to user ccgateway: ..."
    stack.pbx.problem = refused  # type: ignore[attr-defined]  # as AsteriskPbx.problem
    health = await stack.ok("GET", "/v1/health")
    assert health["problems"] == {"asterisk": refused}
