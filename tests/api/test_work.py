"""The API of live work over the real services and stores (a fake PBX of our own port):
queue rules, callbacks, tasks, transfers and agents' figures; and the 4xx for bad input."""

from __future__ import annotations

from typing import Any

from ccgateway.domain.commands import DialCallback, PlayMessage, ReturnToQueue, StartConsult
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallbackAnswered,
    CallWaiting,
    ChannelHungUp,
    PbxResynced,
)
from tests.services.stack import Stack


async def key_for(stack: Stack, agent: str) -> str:
    body = {"name": f"desk {agent}", "role": "agent", "agent_id": agent}
    return str((await stack.ok("POST", "/v1/keys", body))["key"])


async def test_queue_rules_round_trip_and_bad_ones_are_refused_with_the_reason(
    stack: Stack,
) -> None:
    rules = {
        "limits": {
            "max_wait_s": 120,
            "on_max_wait": {"kind": "voicemail", "target": "200@ccgw"},
            "max_waiting": 10,
            "on_full": {"kind": "queue", "target": "german"},
            "on_no_agents": {"kind": "callback", "target": None},
            "on_closed": {"kind": "message", "target": "vm-goodbye"},
        },
        "hours": {"timezone": "Europe/Berlin", "weekly": {"mon": ["08:00-18:00"]}, "holidays": []},
        "announce": {
            "position": True,
            "wait_time": True,
            "comfort": "queue-periodic-announce",
            "first_s": 20,
            "every_s": 45,
            "offer_callback": True,
        },
        "callback": {"attempts": 2, "retry_s": 60, "ring_s": 25, "caller_id": "+4930999"},
    }
    queue = {"id": "rules", "name": "Rules", "extension": "299", **rules}
    made = await stack.ok("POST", "/v1/queues", queue)
    assert {k: made[k] for k in rules} == rules
    always = await stack.ok("PATCH", "/v1/queues/rules", {"hours": None})
    assert always["hours"] is None and always["limits"] == rules["limits"]
    for change, message in [
        ({"hours": {"timezone": "Mars/Base", "weekly": {}}}, "unknown time zone"),
        ({"hours": {"timezone": "UTC", "weekly": {"mon": ["9-17"]}}}, "must look like"),
        ({"limits": {"on_full": {"kind": "queue", "target": "nowhere"}}}, "unknown queue"),
        ({"limits": {"on_full": {"kind": "message", "target": "x\r\nAction: Hangup"}}}, "sound"),
        ({"limits": {"max_wait_s": 2}}, "max_wait_s"),
        ({"callback": {"ring_s": 5}}, "at least 15 s"),
        ({"announce": {"every_s": 1}}, "every_s"),
    ]:
        status, error_id, text = await stack.error("PATCH", "/v1/queues/rules", change)
        assert (status, error_id) == (422, "invalid-value") and message in text, (change, text)
    status, error_id, text = await stack.error(
        "PATCH", "/v1/queues/rules", {"limits": {"on_full": {"kind": "elsewhere"}}}
    )
    assert (status, error_id) == (422, "invalid-request") and "limits.on_full.kind" in text


async def test_a_callback_is_requested_listed_dialled_and_done(stack: Stack) -> None:
    await stack.emit(PbxResynced())  # the PBX's picture: offers may be made
    for k in (1, 2):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    await stack.emit(CallWaiting("c1", "200", "+4930111", "Ann"))
    made = await stack.ok("POST", "/v1/calls/c1/callback", {})
    assert (made["number"], made["state"], made["origin_call_id"]) == ("+4930111", "waiting", "c1")
    await stack.settle()  # the PBX commands run as tasks of their own
    assert stack.pbx.sent(PlayMessage)[-1].call_id == "c1"  # the confirmation, then hang-up
    assert [c["id"] for c in await stack.ok("GET", "/v1/callbacks")] == [made["id"]]
    changed = await stack.ok("PATCH", f"/v1/callbacks/{made['id']}", {"name": "Ann B."})
    assert changed["name"] == "Ann B."
    await stack.ok("POST", "/v1/agents/a1/state", {"state": "available"})
    await stack.settle()
    [dial] = stack.pbx.sent(DialCallback)
    assert (dial.agent_id, dial.number) == ("a1", "+4930111")
    status, error_id, _ = await stack.error("DELETE", f"/v1/callbacks/{made['id']}")
    assert (status, error_id) == (409, "conflict")  # an agent is on it
    await stack.emit(AgentLegAnswered(dial.leg_id), CallbackAnswered(dial.leg_id))
    await stack.advance(30)
    await stack.emit(ChannelHungUp(dial.leg_id))
    done = await stack.ok("GET", f"/v1/callbacks/{made['id']}")  # from the store now
    assert (done["state"], done["attempts"]) == ("done", 1)
    [record] = [r for r in await stack.ok("GET", "/v1/interactions") if r["kind"] == "callback"]
    assert (record["outcome"], record["agent_id"], record["talk_s"]) == ("answered", "a1", 30.0)
    figures = await stack.ok("GET", "/v1/agents/a1/figures")
    assert (figures["calls_answered"], figures["callbacks"]) == (1, 1)
    for bad, where in [
        ({"queue_id": "german", "number": "030 123"}, "digits"),
        ({"queue_id": "german", "number": "+4930", "not_before": "2026-12-01T10:00:00"}, "time"),
        ({"queue_id": "nope", "number": "+4930111"}, "no queue"),
    ]:
        status, _, text = await stack.error("POST", "/v1/callbacks", bad)
        assert status in (404, 422) and where in text.lower(), text


async def test_a_task_is_offered_accepted_and_completed_by_its_agent(stack: Stack) -> None:
    await stack.emit(PbxResynced())
    desk = await key_for(stack, "a1")
    for k in (2, 3):
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "paused", "reason": "x"})
    body = {"queue_id": "german", "channel": "chat", "title": "Order 42", "data": {"crm": "42"}}
    task = await stack.ok("POST", "/v1/tasks", body)
    assert (task["state"], task["agent_id"]) == ("offered", "a1")
    mine = await stack.ok("GET", "/v1/tasks", key=desk)
    assert [t["id"] for t in mine] == [task["id"]]
    assert (await stack.ok("GET", "/v1/agents/a1"))["tasks"] == [task["id"]]
    accepted = await stack.ok("POST", f"/v1/tasks/{task['id']}/answer", {"answer": "accept"}, desk)
    assert accepted["state"] == "assigned"
    await stack.advance(90)
    done = await stack.ok("POST", f"/v1/tasks/{task['id']}/answer", {"answer": "complete"}, desk)
    assert (done["state"], done["ended_at"] is not None) == ("completed", True)
    assert (await stack.ok("GET", f"/v1/tasks/{task['id']}"))["state"] == "completed"
    figures = await stack.ok("GET", "/v1/queues/german/figures")
    assert (figures["tasks_completed"], figures["task_aht_s"]) == (1, 90.0)
    other = await key_for(stack, "a2")
    status, error_id, _ = await stack.error(
        "POST", f"/v1/tasks/{task['id']}/answer", {"answer": "accept", "agent_id": "a1"}, other
    )
    assert (status, error_id) == (403, "forbidden")
    status, error_id, text = await stack.error(
        "POST", "/v1/tasks", {"queue_id": "german", "channel": "voice"}
    )
    assert (status, error_id) == (422, "invalid-value") and "voice" in text


async def test_transfers_through_the_api(stack: Stack) -> None:
    await stack.emit(PbxResynced())
    desk = await key_for(stack, "a1")
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "x"})
    await stack.emit(CallWaiting("c1", "200", "+4930111"))
    [ring] = stack.pbx.rings()
    await stack.emit(AgentLegAnswered(ring.leg_id))
    status, error_id, _ = await stack.error(
        "POST", "/v1/calls/c1/transfer", {"target": "agent", "to": "a2"}, desk
    )
    assert (status, error_id) == (409, "conflict")  # a2 is paused
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "available"})
    consult: dict[str, Any] = await stack.ok(
        "POST", "/v1/calls/c1/transfer", {"target": "agent", "to": "a2", "attended": True}, desk
    )
    await stack.settle()
    assert consult["agent_id"] == "a1" and stack.pbx.sent(StartConsult)
    status, error_id, text = await stack.error("POST", "/v1/calls/c1/transfer/complete", None, desk)
    assert (status, error_id) == (409, "conflict") and "not answered" in text
    await stack.ok("POST", "/v1/calls/c1/transfer/cancel", None, desk)
    moved = await stack.ok("POST", "/v1/calls/c1/transfer", {"target": "queue", "to": "german"})
    assert moved["state"] in ("waiting", "offering")
    await stack.settle()
    assert stack.pbx.sent(ReturnToQueue) == [ReturnToQueue("c1", "200", ring.leg_id)]
    other = await key_for(stack, "a3")
    status, error_id, _ = await stack.error(
        "POST", "/v1/calls/c1/transfer", {"target": "queue", "to": "german"}, other
    )
    assert (status, error_id) == (403, "forbidden")
    status, error_id, text = await stack.error(
        "POST", "/v1/calls/c1/transfer", {"target": "number", "to": "12\r\n"}
    )
    assert status == 422 and "digits" in text
