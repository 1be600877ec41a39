"""The agent desktop's resources: a contact's history, notes, one live call, the directory;
and who may read them. The PBX is our fake, everything else is real (SQLite on a file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    ChannelHungUp,
    OutboundAnswered,
    OutboundLive,
    PbxResynced,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.services.event_hub import EventHub, Published
from ccgateway.testing import ManualClock
from tests.api.conftest import seed
from tests.api.dialer_helpers import CAMPAIGN, NOON, agent_key, csv_of, import_list, number, send
from tests.services.stack import ADMIN, Stack

ANN = "+4930111"
BOB = "+4930222"


def history_of(value: str, form: str = "number") -> str:
    return f"/v1/history?{form}={quote(value)}"


async def wallboard_key(stack: Stack) -> str:
    body = {"name": "tv", "role": "wallboard"}
    return str((await stack.ok("POST", "/v1/keys", body))["key"])


async def published(hub: EventHub) -> list[Published]:
    """Everything the hub has published so far."""
    found: list[Published] = []

    async def take() -> None:
        async for item in hub.subscribe(0):
            found.append(item)
            if item.seq == hub.last_seq:
                return

    await asyncio.wait_for(take(), 2.0)
    return found


async def test_a_finished_call_is_in_the_history_of_its_number_with_its_notes(
    stack: Stack,
) -> None:
    a1, a2 = await agent_key(stack, "a1"), await agent_key(stack, "a2")
    await stack.emit(PbxResynced(), CallWaiting("c1", "200", ANN, "<b>Ann</b>"))
    [ring] = stack.pbx.rings()
    assert ring.agent_id == "a1"
    # The screen pop: the ringing agent reads the call and the (empty) history of its number.
    call = await stack.ok("GET", "/v1/calls/c1", key=a1)
    assert (call["caller_number"], call["caller_name"], call["state"]) == (
        ANN,
        "<b>Ann</b>",
        "offering",
    )
    empty = await stack.ok("GET", history_of(ANN), key=a1)
    assert empty == {"number": ANN, "interactions": [], "dials": [], "callbacks": [], "notes": []}
    # Another agent may not read that call, nor that number's history.
    assert (await stack.error("GET", "/v1/calls/c1", key=a2))[:2] == (403, "forbidden")
    assert (await stack.error("GET", history_of(ANN), key=a2))[:2] == (403, "forbidden")
    # The call's notices carry the caller for the screen pop; its end names the agent.
    await stack.advance(4)
    await stack.emit(AgentLegAnswered(ring.leg_id))
    await stack.advance(60)
    await stack.emit(ChannelHungUp("c1", 16))
    events = await published(stack.hub)
    offered = [e.data for e in events if e.topic == "call.state" and e.data["state"] == "offering"]
    assert offered == [
        {
            "call_id": "c1",
            "queue_id": "german",
            "state": "offering",
            "agent_id": "a1",
            "caller_number": ANN,
            "caller_name": "<b>Ann</b>",
            "arrived_at": stack.clock.now() - 64,
            "kind": "inbound",
        }
    ]
    [ended] = [e.data for e in events if e.topic == "call.ended"]
    assert ended == {"call_id": "c1", "outcome": "answered", "agent_id": "a1"}

    # The finished call is in the history of its number: in any agent's later screen pop.
    [record] = (await stack.ok("GET", history_of(ANN)))["interactions"]
    assert (record["call_id"], record["agent_id"], record["outcome"], record["talk_s"]) == (
        "c1",
        "a1",
        "answered",
        60.0,
    )
    # Notes: the agent notes its own (past) call; the number is the call's.
    text = "wants a refund\n\tcall after 6 <script>alert(1)</script> 👍"
    note = await stack.ok("POST", "/v1/notes", {"call_id": "c1", "text": text}, key=a1)
    assert (note["number"], note["agent_id"], note["call_id"], note["text"]) == (
        ANN,
        "a1",
        "c1",
        text,
    )
    await stack.advance(1)
    by_supervisor = await stack.ok("POST", "/v1/notes", {"number": ANN, "text": "VIP"})
    assert (by_supervisor["agent_id"], by_supervisor["author"]) == (None, None)
    for body, key, (status, error_id) in [
        ({"call_id": "c1", "text": "mine"}, a2, (403, "forbidden")),  # another agent's call
        ({"number": ANN, "text": "mine"}, a1, (403, "forbidden")),  # agents note calls only
        ({"call_id": "nope", "text": "x"}, a1, (403, "forbidden")),  # says nothing to agents
        ({"call_id": "nope", "text": "x"}, ADMIN, (404, "not-found")),
        ({"text": "x"}, ADMIN, (422, "invalid-value")),
        ({"number": "12 ab", "text": "x"}, ADMIN, (422, "invalid-value")),
        ({"call_id": "c1", "text": "nul \x00 in it"}, a1, (422, "invalid-value")),
        ({"call_id": "c1", "text": "bell \x07"}, a1, (422, "invalid-value")),
        ({"call_id": "c1", "text": " \n "}, a1, (422, "invalid-value")),
        ({"call_id": "c1", "text": ""}, a1, (422, "invalid-request")),
        ({"call_id": "c1", "text": "x" * 2001}, a1, (422, "invalid-request")),
    ]:
        got = await stack.error("POST", "/v1/notes", body, key)
        assert got[:2] == (status, error_id), (body, got)
    # The agent who served the number still reads its history, notes newest first.
    history = await stack.ok("GET", history_of(ANN), key=a1)
    assert [n["id"] for n in history["notes"]] == [by_supervisor["id"], note["id"]]
    assert [i["call_id"] for i in history["interactions"]] == ["c1"]

    # A second caller, served by a2: a1 may not read that number, a2 may.
    await stack.advance(29)  # a1's wrap-up
    await stack.ok("POST", "/v1/agents/a1/state", {"state": "paused", "reason": "lunch"})
    await stack.emit(CallWaiting("c2", "200", BOB, "Bob"))
    [ring2] = [r for r in stack.pbx.rings() if r.call_id == "c2"]
    assert ring2.agent_id == "a2"
    assert (await stack.ok("GET", "/v1/calls/c2", key=a2))["agent_id"] == "a2"
    assert (await stack.error("GET", "/v1/calls/c2", key=a1))[:2] == (403, "forbidden")
    assert (await stack.ok("GET", history_of(BOB), key=a2))["interactions"] == []
    assert (await stack.error("GET", history_of(BOB), key=a1))[:2] == (403, "forbidden")
    assert (await stack.error("GET", "/v1/calls/nope", key=a1))[:2] == (404, "not-found")


async def test_bad_history_requests_and_the_wallboard_are_refused(stack: Stack) -> None:
    tv = await wallboard_key(stack)
    for path, key, (status, error_id) in [
        ("/v1/history", ADMIN, (422, "invalid-value")),
        (f"{history_of(ANN)}&contact_id=x:y", ADMIN, (422, "invalid-value")),
        (history_of("030 111"), ADMIN, (422, "invalid-value")),
        (history_of("1" * 33), ADMIN, (422, "invalid-request")),
        (history_of("renewals", "contact_id"), ADMIN, (422, "invalid-value")),
        (history_of("renewals:nobody", "contact_id"), ADMIN, (404, "not-found")),
        (history_of(ANN), tv, (403, "forbidden")),
        ("/v1/directory", tv, (403, "forbidden")),
        ("/v1/calls/c1", tv, (403, "forbidden")),
    ]:
        got = await stack.error("GET", path, key=key)
        assert got[:2] == (status, error_id), (path, got)
    assert (await stack.error("POST", "/v1/notes", {"number": ANN, "text": "x"}, tv))[:2] == (
        403,
        "forbidden",
    )


async def test_the_directory_lists_targets_pause_codes_and_each_campaigns_dispositions(
    stack: Stack,
) -> None:
    script = {"text": "Hello {name}", "questions": [{"id": "ok", "text": "OK?", "kind": "yes_no"}]}
    await stack.ok("POST", "/v1/campaigns", {**CAMPAIGN, "script": script})
    a3 = await agent_key(stack, "a3")
    directory = await stack.ok("GET", "/v1/directory", key=a3)
    assert directory["queues"] == [
        {"id": "german", "name": "German", "extension": "200", "wrapup_s": 30.0}
    ]
    assert directory["agents"] == [
        {"id": "a1", "name": "A1"},
        {"id": "a2", "name": "A2"},
        {"id": "a3", "name": "A3"},
    ]
    assert directory["pause_codes"] == []  # the test centre has none configured
    codes = [d["code"] for d in directory["dispositions"]["renewals"]]
    assert codes == [
        "sale",
        "not_interested",
        "callback",
        "call_later",
        "wrong_number",
        "do_not_call",
    ]
    assert directory["scripts"]["renewals"]["text"] == "Hello {name}"
    assert [q["id"] for q in directory["scripts"]["renewals"]["questions"]] == ["ok"]
    assert await stack.ok("GET", "/v1/directory") == directory


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Stack]:
    """The seeded centre at noon (UTC) on a Tuesday: the UK's calling window is open."""
    started = await Stack.start(tmp_path / "ccgateway.db", ManualClock(NOON))
    await seed(started)
    yield started
    await started.stop()


async def test_a_contacts_history_has_its_dials_with_their_disposition(day: Stack) -> None:
    stack = day
    await stack.emit(PbxResynced())
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "x"})
    await send(stack, "PUT", "/v1/dnc/registers/tps", number(90).encode(), None)
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    await import_list(stack, "renewals", "l1", csv_of(f"{number(2)},Bo"))
    a1, a2 = await agent_key(stack, "a1"), await agent_key(stack, "a2")
    contact = history_of("renewals:l1-2", "contact_id")
    assert (await stack.error("GET", contact, key=a1))[:2] == (403, "forbidden")  # not yet
    await stack.ok("POST", "/v1/campaigns/renewals/start")
    [dial] = await stack.until(lambda: stack.pbx.sent(DialCustomer))
    await stack.settle()
    await stack.emit(OutboundAnswered(dial.dial_id), OutboundLive(dial.dial_id, "human"))
    [ring] = [r for r in stack.pbx.sent(RingAgent) if r.call_id == dial.dial_id]
    assert (await stack.ok("GET", contact, key=a1))["dials"] == []  # being offered: may read
    await stack.emit(AgentLegAnswered(ring.leg_id))
    await stack.advance(60)
    await stack.emit(ChannelHungUp(dial.dial_id))
    note = await stack.ok("POST", "/v1/notes", {"dial_id": dial.dial_id, "text": "kind"}, key=a1)
    assert (note["number"], note["dial_id"]) == (number(2), dial.dial_id)
    good = {"code": "sale", "answers": {}, "note": "happy"}
    await stack.ok("POST", f"/v1/dials/{dial.dial_id}/disposition", good, a1)

    history: dict[str, Any] = await stack.ok("GET", contact, key=a1)
    assert history["number"] == number(2)
    [dialled] = history["dials"]
    assert (dialled["id"], dialled["agent_id"], dialled["outcome"]) == (
        dial.dial_id,
        "a1",
        "connected",
    )
    assert (dialled["disposition"]["code"], dialled["disposition"]["note"]) == ("sale", "happy")
    assert [(i["call_id"], i["kind"]) for i in history["interactions"]] == [
        (dial.dial_id, "outbound")
    ]
    assert [n["text"] for n in history["notes"]] == ["kind"]
    assert await stack.ok("GET", history_of(number(2))) == history
    assert (await stack.error("GET", contact, key=a2))[:2] == (403, "forbidden")
    assert (await stack.error("GET", history_of("renewals:nobody", "contact_id"), key=a1))[:2] == (
        403,
        "forbidden",
    )
    assert (await stack.error("POST", "/v1/notes", {"dial_id": dial.dial_id, "text": "x"}, a2))[
        :2
    ] == (403, "forbidden")
