"""End to end on the real sandbox Asterisk: a campaign dials a list of sipp callees, each
answering as its number says (a person after 2 s, an answering machine, busy, never,
an invalid number; sandbox/scenarios/callee.xml), with AMD on. A person reaches an agent
(whose phone answers at once), the rest are recorded and retried by the campaign's
schedule, a number on the TPS register is never dialled; with no agent to take a person,
the campaign's message plays within 2 s of the answer, never silence. What Asterisk did is
read from a raw AMI connection of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from tests.e2e.harness import Centre, running_centre

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

# The callee's number ends in K RR TTT: K what it does (1 a person, 2 a machine, 3 never
# answers, 4 busy, 5 invalid), RR seconds of ringing, TTT tenths of a second until it hangs
# up. London numbers (020 79..), valid for phonenumbers.
PERSON = "+442079102080"  # a person after 2 s of ringing, talks 8 s
MACHINE = "+442079202000"
NEVER = "+442079300000"
BUSY = "+442079400000"
INVALID = "+442079500000"
LISTED = "+442079102050"  # a person, but on the TPS register: never dialled
LATE_PERSON = "+442079102060"  # answers when no agent can take the call
CAMPAIGN: dict[str, Any] = {
    "id": "e2e-out",
    "name": "End to end",
    "purpose": "service",
    "rule_set_id": "uk",
    "mode": "predictive",
    "queue_id": "out",
    "caller_id": "+442071234567",
    "caller_name": "Example Ltd",
    "abandon_message": "all-circuits-busy-now",
    "ring_s": 15,
    "amd": {"enabled": True, "machine_action": "hang_up"},
    "script": {
        "text": "Hello {name}",
        "questions": [
            {"id": "happy", "text": "Happy with us?", "kind": "yes_no"},
            {"id": "score", "text": "0-10?", "kind": "scale", "minimum": 0, "maximum": 10},
        ],
    },
}


def daytime_zone(at: float | None = None) -> str:
    """A zone where it is between 09:00 and 20:00 at `at` (default: now; the UK window is
    08:00-21:00 in the callee's time): the test does not depend on when it runs. A replay on
    a clock set to the recording's time asks for that time's zone."""
    now = datetime.now(UTC) if at is None else datetime.fromtimestamp(at, UTC)
    for name in ("Europe/London", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu",
                 "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Kolkata",
                 "Asia/Dubai", "Europe/Moscow", "America/Sao_Paulo"):  # fmt: skip
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError("no daytime zone found")


def csv_of(rows: list[tuple[str, str, int]], at: float | None = None) -> str:
    zone = daytime_zone(at)
    lines = ["id,number,name,priority,timezone"]
    lines += [f"{cid},{number},Person {cid},{prio},{zone}" for cid, number, prio in rows]
    return "\n".join(lines) + "\n"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    asterisk_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("outbound")) / "ccgateway.db"
    await asyncio.to_thread(asterisk_sandbox.set_outside, "callee")
    try:
        async with running_centre(asterisk_sandbox, db) as centre:
            await centre.call("POST", "/v1/skills", {"id": "sales", "name": "Sales"})
            queue = {"id": "out", "name": "Outbound", "extension": "299",
                     "requires": {"sales": 1}, "ring_timeout_s": 6, "wrapup_s": 0}  # fmt: skip
            await centre.call("POST", "/v1/queues", queue)
            for k in (1, 2):
                agent = {"id": f"agent{k}", "name": f"A{k}", "device": f"PJSIP/agent{k}",
                         "skills": {"sales": 5}}  # fmt: skip
                await centre.call("POST", "/v1/agents", agent)
            await register(centre, "tps", [LISTED])
            await centre.call("POST", "/v1/campaigns", CAMPAIGN)
            yield centre
    finally:
        await asyncio.to_thread(asterisk_sandbox.set_outside, "answer")


async def register(centre: Centre, name: str, numbers: list[str]) -> None:
    response = await centre.api.put(
        f"/v1/dnc/registers/{name}",
        content="\n".join(numbers) + "\n",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code < 300, response.text


async def import_list(centre: Centre, list_id: str, rows: list[tuple[str, str, int]]) -> Any:
    response = await centre.api.post(
        f"/v1/campaigns/e2e-out/lists?list_id={list_id}&name={list_id}&region=GB",
        content=csv_of(rows),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def set_agent(centre: Centre, k: int, state: str) -> None:
    body: dict[str, Any] = {"state": state}
    if state == "paused":
        body["reason"] = "break"
    await centre.call("POST", f"/v1/agents/agent{k}/state", body)


async def dials(centre: Centre) -> dict[str, dict[str, Any]]:
    found = await centre.call("GET", "/v1/campaigns/e2e-out/dials?limit=500")
    return {d["contact_id"]: d for d in found}


def user_events(centre: Centre, name: str, dial_id: str) -> list[dict[str, str]]:
    return centre.seen("UserEvent", UserEvent=name, Uniqueid=dial_id)


async def test_a_list_is_dialled_each_outcome_recorded_and_the_law_kept(centre: Centre) -> None:
    rows = [("p1", PERSON, 100), ("m1", MACHINE, 90), ("b1", BUSY, 80), ("i1", INVALID, 70),
            ("n1", NEVER, 60), ("s1", LISTED, 50)]  # fmt: skip
    report = await import_list(centre, "first", rows)
    assert report["imported"] == 6 and report["rejected_count"] == 0
    await set_agent(centre, 1, "available")
    await set_agent(centre, 2, "available")
    await centre.call("POST", "/v1/campaigns/e2e-out/start")

    async def all_ended() -> bool:
        return len(await dials(centre)) >= 5

    await centre.until("five dials to end", all_ended, timeout_s=90)
    found = await dials(centre)
    assert set(found) == {"p1", "m1", "b1", "i1", "n1"}  # never s1: it is on the TPS register
    person = found["p1"]
    assert person["outcome"] == "connected" and person["agent_id"] in ("agent1", "agent2")
    assert person["amd"] == "human" and person["wait_s"] < 2.0
    assert found["m1"]["outcome"] == "machine" and found["m1"]["agent_id"] is None
    assert found["b1"]["outcome"] == "busy"
    assert found["i1"]["outcome"] == "failed"
    assert found["n1"]["outcome"] == "no_answer" and found["n1"]["ring_s"] >= 15.0
    # Asterisk's word: the person was bridged within 2 s of answering (AMD's time included)
    [answered] = user_events(centre, "CCGWOutboundAnswered", person["id"])
    bridged = [e for e in centre.seen("BridgeEnter", Uniqueid=person["id"])]
    assert bridged, "the customer never entered a bridge"
    assert float(bridged[0]["_received"]) - float(answered["_received"]) < 2.0
    # and the machine was never offered to an agent
    machine_id = found["m1"]["id"]
    assert not centre.seen("BridgeEnter", Uniqueid=machine_id)
    assert user_events(centre, "CCGWOutboundMachine", machine_id)

    refusals = await centre.call("GET", "/v1/campaigns/e2e-out/refusals")
    assert [(r["contact_id"], r["rule"]) for r in refusals] == [("s1", "suppressed")]
    busy = await centre.call("GET", "/v1/campaigns/e2e-out/contacts/b1")
    assert busy["progress"]["state"] == "scheduled" and busy["progress"]["outcomes"] == {"busy": 1}
    listed = await centre.call("GET", "/v1/campaigns/e2e-out/contacts/s1")
    assert listed["progress"]["state"] == "suppressed"

    # The agent disposes, with the script's answers; the campaign sums them up.
    disposition = {
        "agent_id": person["agent_id"],
        "code": "sale",
        "answers": {"happy": True, "score": 9},
    }
    await centre.call("POST", f"/v1/dials/{person['id']}/disposition", disposition)
    answers = await centre.call("GET", "/v1/campaigns/e2e-out/answers")
    happy = next(a for a in answers["questions"] if a["question_id"] == "happy")
    assert happy["counts"] == {"yes": 1, "no": 0}
    figures = await centre.call("GET", "/v1/campaigns/e2e-out/figures")
    assert figures["dials"] == 5 and figures["outcomes"]["connected"] == 1
    await centre.call("POST", "/v1/campaigns/e2e-out/pause")


async def test_with_no_agent_to_take_the_person_the_message_plays_within_2_s(
    centre: Centre,
) -> None:
    await set_agent(centre, 2, "paused")
    await asyncio.to_thread(centre.sandbox.set_phone, 1, "noanswer")  # rings, never answers
    try:
        await import_list(centre, "second", [("p2", LATE_PERSON, 100)])
        await set_agent(centre, 1, "available")
        await centre.call("POST", "/v1/campaigns/e2e-out/start")

        async def abandoned() -> dict[str, Any] | None:
            return (await dials(centre)).get("p2")

        record = await centre.until("the dial to p2 to end", abandoned, timeout_s=60)
    finally:
        await centre.call("POST", "/v1/campaigns/e2e-out/pause")
        await asyncio.to_thread(centre.sandbox.set_phone, 1, "answer")
    assert record["outcome"] == "abandoned" and record["connected_at"] is None
    [event] = user_events(centre, "CCGWOutboundAbandoned", record["id"])
    # Asterisk's own clock: the message starts within 2 s of the answer, AMD included
    assert float(event["At"]) - float(event["Answered"]) <= 2.05
    contact = await centre.call("GET", "/v1/campaigns/e2e-out/contacts/p2")
    progress = contact["progress"]
    assert progress["state"] == "scheduled" and progress["outcomes"] == {"abandoned": 1}
    retry = datetime.fromisoformat(progress["next_at"]).timestamp()
    ended = datetime.fromisoformat(record["ended_at"]).timestamp()
    assert retry - ended >= 72 * 3600 - 1  # no call within 72 h of an abandoned one
    figures = await centre.call("GET", "/v1/campaigns/e2e-out/figures")
    assert figures["ledger"]["abandoned"] == 1
