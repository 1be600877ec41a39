"""End to end on the real sandbox Asterisk: a caller who presses 1 during an announcement is
called back (agent first, then the outside phone behind the trunk), a returning caller goes
to their last agent, a closed queue plays its message, and a caller past the max wait
leaves a voicemail. sipp plays the customers, the agent phones and the outside world; what
Asterisk did is read from a raw AMI connection of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Centre, records, running_centre, set_states
from tests.sandbox.ami import AmiSession

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

AGENTS = [1, 2, 3]
QUEUES = [
    {  # callers hear "press 1" 4 s into the wait; a callback rings the customer 20 s
        "id": "support",
        "name": "Support",
        "extension": "220",
        "ring_timeout_s": 6,
        "wrapup_s": 0,
        "announce": {"position": False, "offer_callback": True, "first_s": 5, "every_s": 15},
        "callback": {"attempts": 2, "retry_s": 30, "ring_s": 20},
        "last_agent_wait_s": 20,
    },
    {  # never open
        "id": "night",
        "name": "Night",
        "extension": "221",
        "hours": {"timezone": "Europe/Berlin", "weekly": {}},
        "limits": {"on_closed": {"kind": "message", "target": "vm-goodbye"}},
    },
    {  # nobody waits longer than 10 s: the caller leaves a message in mailbox 200
        "id": "sales",
        "name": "Sales",
        "extension": "222",
        "limits": {"max_wait_s": 10, "on_max_wait": {"kind": "voicemail", "target": "200@ccgw"}},
    },
]
SPOOL = Path("/var/cache/ccgateway/asterisk-root/var/spool/ccgateway-sandbox/voicemail/ccgw/200")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("rules")) / "ccgateway.db"
    async with running_centre(asterisk_sandbox, db) as centre:
        for queue in QUEUES:
            await centre.call("POST", "/v1/queues", queue)
        for k in AGENTS:
            body = {"id": f"agent{k}", "name": f"Agent {k}", "device": f"PJSIP/agent{k}"}
            await centre.call("POST", "/v1/agents", body)
        yield centre


async def test_pressing_1_keeps_the_place_and_an_agent_calls_the_customer_back(
    centre: Centre,
) -> None:
    await set_states(centre, {1: "paused", 2: "paused", 3: "paused"})
    await centre.place("220", "+4930220001", hangup_after=40, key="1")
    [left] = await centre.until(
        "the caller leaving for a callback",
        lambda: records(centre, caller_number="+4930220001", outcome="callback"),
        30,
    )
    assert left["queue_id"] == "support" and left["wait_s"] >= 4.0
    requested = centre.seen(
        "UserEvent", UserEvent="CCGWCallbackRequested", Uniqueid=left["call_id"]
    )
    assert requested, "Asterisk never read the key"
    await centre.until(  # after the confirmation
        "the caller hung up by Asterisk", lambda: _hung_up(centre, left["call_id"]), 15
    )
    assert centre.seen("Hangup", Uniqueid=left["call_id"], Context="ccgw-message")
    [callback] = await centre.call("GET", "/v1/callbacks")
    assert (callback["number"], callback["state"], callback["origin_call_id"]) == (
        "+4930220001",
        "waiting",
        left["call_id"],
    )

    # An agent logs in: reserved first (their phone rings), then the customer is dialled.
    await set_states(centre, {2: "available"})
    customer = await centre.until(
        "the customer answering the callback",
        lambda: _customer_answered(centre),
        30,
    )
    done = await centre.call("GET", f"/v1/callbacks/{callback['id']}")
    assert done["state"] == "connected" and done["attempts"] == 1
    agent = await centre.agent(2)
    assert (agent["state"], agent["call_id"]) == ("on_call", callback["id"])
    # Asterisk put the agent's leg and the outside customer in one bridge.
    bridge = {e["BridgeUniqueid"] for e in centre.seen("BridgeEnter", Uniqueid=customer)}
    agents_in = [
        e["Channel"]
        for e in centre.observer.events
        if e.get("Event") == "BridgeEnter" and e.get("BridgeUniqueid") in bridge
    ]
    assert any(c.startswith("PJSIP/agent2-") for c in agents_in), agents_in

    await hang_up(centre, _agent_leg(centre, customer))
    [record] = await centre.until(
        "the callback's record", lambda: records(centre, kind="callback"), 15
    )
    assert (record["outcome"], record["agent_id"], record["caller_number"]) == (
        "answered",
        "agent2",
        "+4930220001",
    )
    assert (await centre.call("GET", f"/v1/callbacks/{callback['id']}"))["state"] == "done"
    assert await centre.call("GET", "/v1/callbacks") == []


async def test_a_returning_caller_is_offered_to_the_agent_who_served_them_last(
    centre: Centre,
) -> None:
    # agent2 served +4930220001 (the callback above); agent1 has been idle longer.
    await set_states(centre, {2: "paused", 1: "available"})
    await asyncio.sleep(0.5)
    await set_states(centre, {2: "available"})
    before = len(await centre.interactions())
    await centre.place("220", "+4930220001", hangup_after=4)
    await centre.until("the returning call's record", lambda: centre.finished(before + 1), 30)
    [record] = (await centre.interactions())[before:]
    assert (record["agent_id"], record["outcome"]) == ("agent2", "answered"), record
    decisions = await centre.call("GET", f"/v1/decisions?call_id={record['call_id']}")
    assert decisions[0]["rule"] == "queue support: last agent"
    assert centre.observer.bridged_pairs().get(record["call_id"]) == {"PJSIP/agent2"}


async def test_a_closed_queue_plays_its_message_and_queues_nobody(centre: Centre) -> None:
    await centre.place("221", "+4930221001", hangup_after=20)
    [record] = await centre.until(
        "the closed call's record", lambda: records(centre, outcome="closed"), 20
    )
    assert record["detail"] == "closed: message vm-goodbye"
    await centre.until(
        "the caller hung up by Asterisk", lambda: _hung_up(centre, record["call_id"]), 15
    )
    played = centre.seen("Hangup", Uniqueid=record["call_id"], Context="ccgw-message")
    assert played, "the caller did not leave from the message context"


async def test_a_caller_past_the_max_wait_leaves_a_voicemail(centre: Centre) -> None:
    await set_states(centre, {1: "paused", 2: "paused", 3: "paused"})
    before = set(SPOOL.glob("INBOX/msg*.wav")) if SPOOL.exists() else set()
    await centre.place("222", "+4930222001", hangup_after=18, speak_after=9)
    [record] = await centre.until(
        "the timed-out call's record", lambda: records(centre, outcome="timed_out"), 25
    )
    assert record["detail"] == "waited 10 s: voicemail 200@ccgw"
    assert record["wait_s"] >= 10.0
    message = await centre.until(
        "a message in mailbox 200",
        lambda: _new_message(before),
        20,
    )
    assert message.stat().st_size > 0


async def _customer_answered(centre: Centre) -> str | None:
    answered = centre.seen("UserEvent", UserEvent="CCGWCallbackAnswered")
    return answered[-1]["Uniqueid"] if answered else None


def _agent_leg(centre: Centre, customer: str) -> str:
    [answered] = [
        e
        for e in centre.seen("UserEvent", UserEvent="CCGWCallbackAnswered")
        if e.get("Uniqueid") == customer
    ]
    return answered["AgentLeg"]


async def hang_up(centre: Centre, channel: str) -> None:
    """The agent puts the phone down (here: Asterisk is told to hang up the agent's leg)."""
    ami = AmiSession()
    await ami.login(centre.sandbox.ami_secret())
    try:
        reply = await ami.send({"Action": "Hangup", "Channel": channel})
        assert reply.get("Response") == "Success", reply
    finally:
        await ami.close()


async def _hung_up(centre: Centre, uniqueid: str) -> bool:
    return bool(centre.seen("Hangup", Uniqueid=uniqueid))


async def _new_message(before: set[Path]) -> Path | None:
    now = set(SPOOL.glob("INBOX/msg*.wav")) if SPOOL.exists() else set()
    fresh = sorted(now - before)
    return fresh[0] if fresh else None
