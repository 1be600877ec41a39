"""The routing engine over the API: requirements with attributes, relaxation and overflow,
priorities, decisions with their explanations, and refusals that say what was wrong."""

from __future__ import annotations

from ccgateway.domain.events import AgentLegAnswered, CallWaiting, PbxResynced
from tests.services.stack import Stack


async def test_relaxation_overflow_and_decisions(stack: Stack) -> None:
    await stack.ok("PATCH", "/v1/agents/a3", {"attributes": {"team": "vip"}})
    vip = {
        "id": "vip",
        "name": "VIP",
        "extension": "300",
        "requirement": 'de >= 9 or (en >= 9 and team == "vip")',
        "strategy": "most_skilled",
        "weight": 2.0,
        "priority": 3,
        "relaxation": [
            {"after_s": 20, "requirement": "de >= 5", "priority_boost": 2},
            {"after_s": 60, "overflow_to": "german"},
        ],
    }
    created = await stack.ok("POST", "/v1/queues", vip)
    assert created["effective_requirement"] == 'de >= 9 or en >= 9 and team == "vip"'
    assert created["relaxation"][1] == {
        "after_s": 60.0,
        "requirement": None,
        "priority_boost": 0,
        "overflow_to": "german",
    }
    for k in (1, 2, 3):  # nobody free: the callers wait
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    await stack.emit(PbxResynced(), CallWaiting("c1", "300", "+4930"))
    [call] = await stack.ok("GET", "/v1/calls")
    assert (call["queue_id"], call["priority"], call["state"]) == ("vip", 3, "waiting")

    await stack.advance(20)
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "available"})  # de 5: now enough
    await stack.settle()
    [ring] = stack.pbx.rings()
    assert (ring.call_id, ring.agent_id) == ("c1", "a2")
    offer, relax = await stack.ok("GET", "/v1/decisions?call_id=c1")
    assert (relax["kind"], relax["rule"], relax["explanation"]) == (
        "relax",
        "queue vip step 1: after 20 s",
        "now needs de >= 5, priority +2",
    )
    assert (offer["kind"], offer["agent_id"], offer["rule"]) == ("offer", "a2", "queue vip step 1")
    assert "priority 5" in offer["explanation"] and "highest proficiency" in offer["explanation"]
    assert await stack.ok("GET", "/v1/decisions?agent_id=a1") == []


async def test_a_caller_overflows_and_a_supervisor_raises_priority(stack: Stack) -> None:
    await stack.ok("POST", "/v1/queues", {
        "id": "en", "name": "English", "extension": "301", "requires": {"en": 10},
        "relaxation": [{"after_s": 30, "overflow_to": "german"}],
    })  # fmt: skip
    for k in (1, 2, 3):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    await stack.emit(PbxResynced(), CallWaiting("c1", "301"), CallWaiting("c2", "200"))
    await stack.advance(30)
    calls = {c["call_id"]: c for c in await stack.ok("GET", "/v1/calls")}
    assert calls["c1"]["queue_id"] == "german"
    [overflow] = await stack.ok("GET", "/v1/decisions?queue_id=german")
    assert overflow["kind"] == "overflow" and overflow["call_id"] == "c1"

    supervisor = await stack.ok("POST", "/v1/keys", {"role": "supervisor", "name": "sup"})
    changed = await stack.ok("PATCH", "/v1/calls/c2", {"priority": 9}, key=supervisor["key"])
    assert changed["priority"] == 9
    await stack.ok("POST", "/v1/agents/a1/state", {"state": "available"})
    await stack.settle()
    assert [r.call_id for r in stack.pbx.rings()] == ["c2"]  # c1 came first, c2 is a VIP

    agent_key = await stack.ok("POST", "/v1/keys", {"role": "agent", "agent_id": "a1", "name": "a"})
    status, error_id, _ = await stack.error(
        "PATCH", "/v1/calls/c1", {"priority": 1}, key=agent_key["key"]
    )
    assert (status, error_id) == (403, "forbidden")
    assert (await stack.error("PATCH", "/v1/calls/nope", {"priority": 1}))[:2] == (404, "not-found")
    status, error_id, message = await stack.error("PATCH", "/v1/calls/c1", {"priority": 500})
    assert (status, error_id) == (422, "invalid-value") and "0-100" in message


async def test_a_supervisor_moves_a_waiting_caller_to_another_queue(stack: Stack) -> None:
    await stack.ok("POST", "/v1/queues", {
        "id": "en", "name": "English", "extension": "301", "requires": {"en": 10},
    })  # fmt: skip
    await stack.ok("POST", "/v1/queues", {
        "id": "shut", "name": "Shut", "extension": "302", "requires": {"de": 10},
        "limits": {"on_no_agents": {"kind": "fallback"}},
    })  # fmt: skip
    for k in (1, 2, 3):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    await stack.emit(PbxResynced(), CallWaiting("c1", "301", "+4930"))
    await stack.advance(12)
    supervisor = await stack.ok("POST", "/v1/keys", {"role": "supervisor", "name": "sup"})
    sup = supervisor["key"]

    status, error_id, message = await stack.error(
        "PATCH", "/v1/calls/c1", {"queue_id": "shut", "priority": 7}, key=sup
    )
    assert (status, error_id) == (409, "conflict") and "takes no caller now" in message
    [call] = await stack.ok("GET", "/v1/calls")
    assert (call["queue_id"], call["priority"]) == ("en", 0)  # a refused move changes nothing
    assert (await stack.error("PATCH", "/v1/calls/c1", {"queue_id": "nope"}, key=sup))[:2] == (
        422,
        "invalid-value",
    )
    assert (await stack.error("PATCH", "/v1/calls/c1", {}, key=sup))[0] == 422

    moved = await stack.ok("PATCH", "/v1/calls/c1", {"queue_id": "german"}, key=sup)
    assert (moved["queue_id"], moved["state"], moved["wait_s"]) == ("german", "waiting", 12.0)
    await stack.ok("POST", "/v1/agents/a1/state", {"state": "available"})  # de 8: german
    await stack.settle()
    [ring] = stack.pbx.rings()
    assert (ring.call_id, ring.agent_id) == ("c1", "a1")
    await stack.emit(AgentLegAnswered(ring.leg_id))
    status, _, message = await stack.error("PATCH", "/v1/calls/c1", {"queue_id": "en"}, key=sup)
    assert status == 409 and "only a waiting caller is moved" in message


async def test_bad_routing_settings_are_refused_with_the_reason(stack: Stack) -> None:
    base = {"id": "x", "name": "X", "extension": "400"}
    cases = [
        ({"requirement": "de >= 11"}, "at column 7: level 11 is above 10"),
        ({"requirement": "de => 5"}, "unknown operator '=>' (did you mean '>='?)"),
        ({"requirement": "fr >= 2"}, "unknown skill(s): fr"),
        ({"strategy": "random"}, "strategy"),
        ({"weight": 0}, "weight must be between 0.1 and 100"),
        ({"relaxation": [{"after_s": 10}]}, "must change something"),
        ({"relaxation": [{"after_s": 10, "overflow_to": "nowhere"}]}, "unknown queue 'nowhere'"),
        (
            {
                "relaxation": [
                    {"after_s": 20, "requirement": "de"},
                    {"after_s": 10, "priority_boost": 1},
                ]
            },
            "strictly increasing",
        ),
    ]
    for extra, expected in cases:
        status, _, message = await stack.error("POST", "/v1/queues", {**base, **extra})
        assert status == 422 and expected in message, (extra, message)
    assert [q["id"] for q in await stack.ok("GET", "/v1/queues")] == ["german"]  # nothing saved
    status, _, message = await stack.error(
        "PATCH", "/v1/agents/a1", {"attributes": {"team": 'say "hi"'}}
    )
    assert status == 422 and "without quotes or control characters" in message
