"""End to end on a real FreeSWITCH (the sandbox): the queue rules of
tests/e2e/test_callbacks_and_rules.py but the press-1 callback (FreeSWITCH's queued
callbacks are another part of issue 15): a caller who hangs up while waiting is recorded
as abandoned, a closed queue plays its message, a caller past the max wait leaves a
voicemail, a returning caller goes to their last agent. sipp plays the customers and the
agent phones; what FreeSWITCH did is read from its own events on a raw Event Socket
connection of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import DOMAIN
from tests.e2e.harness import Centre, records, set_states
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    agent,
    bridged_agents,
    freeswitch_centre,
    freeswitch_sandbox,
    queue,
)

pytestmark = [*MARKS, pytest.mark.asyncio(loop_scope="module")]

AGENTS = [1, 2, 3]
QUEUES = [
    queue(  # a returning caller waits up to 20 s for the agent who served them last
        id="support",
        name="Support",
        extension="220",
        ring_timeout_s=6,
        wrapup_s=0,
        last_agent_wait_s=20,
    ),
    queue(  # never open
        id="night",
        name="Night",
        extension="221",
        hours={"timezone": "Europe/Berlin", "weekly": {}},
        limits={"on_closed": {"kind": "message", "target": "vm-goodbye"}},
    ),
    queue(  # nobody waits longer than 10 s: the caller leaves a message in mailbox 200
        id="sales",
        name="Sales",
        extension="222",
        limits={"max_wait_s": 10, "on_max_wait": {"kind": "voicemail", "target": "200"}},
    ),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-rules"), len(AGENTS)) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-e2e-rules-db")) / "ccgateway.db"
    async with freeswitch_centre(sandbox, db) as centre:
        for body in QUEUES:
            await centre.call("POST", "/v1/queues", body)
        for k in AGENTS:
            await centre.call("POST", "/v1/agents", agent(k))
        yield centre


async def test_a_caller_who_hangs_up_while_waiting_is_recorded_as_abandoned(
    centre: Centre,
) -> None:
    await set_states(centre, {1: "paused", 2: "paused", 3: "paused"})
    await centre.place("220", "+4930220009", hangup_after=3)
    [record] = await centre.until(
        "the abandoned call", lambda: records(centre, caller_number="+4930220009"), 20
    )
    assert (record["outcome"], record["agent_id"]) == ("abandoned", None), record
    assert 2.0 <= record["wait_s"] <= 6.0, record
    # FreeSWITCH's word: the caller's own hang-up, while parked in ccgw-inbound.
    hangup = await centre.until(
        "FreeSWITCH's hang-up", lambda: centre.observer.hung_up(record["call_id"]), 10
    )
    assert hangup["Caller-Context"] == "ccgw-inbound", hangup
    assert not bridged_agents(centre.observer, record["call_id"])


async def test_a_returning_caller_is_offered_to_the_agent_who_served_them_last(
    centre: Centre,
) -> None:
    # agent2 serves +4930220001 once; then agent1 is the one idle longer.
    await set_states(centre, {2: "available"})
    await centre.place("220", "+4930220001", hangup_after=3)
    await centre.until(
        "agent2's call", lambda: records(centre, caller_number="+4930220001", agent_id="agent2"), 25
    )
    await set_states(centre, {2: "paused", 1: "available"})
    await set_states(centre, {2: "available"})
    before = len(await centre.interactions())
    await centre.place("220", "+4930220001", hangup_after=4)
    await centre.until("the returning call's record", lambda: centre.finished(before + 1), 30)
    [record] = (await centre.interactions())[before:]
    assert (record["agent_id"], record["outcome"]) == ("agent2", "answered"), record
    decisions = await centre.call("GET", f"/v1/decisions?call_id={record['call_id']}")
    assert decisions[0]["rule"] == "queue support: last agent"
    assert bridged_agents(centre.observer, record["call_id"]) == {2}


async def test_a_closed_queue_plays_its_message_and_queues_nobody(centre: Centre) -> None:
    await centre.place("221", "+4930221001", hangup_after=20)
    [record] = await centre.until(
        "the closed call's record", lambda: records(centre, outcome="closed"), 20
    )
    assert record["detail"] == "closed: message vm-goodbye"
    hangup = await centre.until(
        "the caller hung up by FreeSWITCH", lambda: centre.observer.hung_up(record["call_id"]), 15
    )
    # FreeSWITCH's word: the message was played (sounds.py's file for vm-goodbye) in
    # ccgw-message, which then hung up (sipp would have waited 20 s).
    assert hangup["Caller-Context"] == "ccgw-message", hangup
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING", hangup
    # (the hold music the adapter starts at the arrival is cut short by the message)
    played = [
        e
        for e in centre.observer.named(
            "CHANNEL_EXECUTE_COMPLETE", **{"Unique-ID": record["call_id"]}
        )
        if e.get("Application") == "playback" and e.get("Application-Data") != "local_stream://moh"
    ]
    assert [e.get("Application-Data") for e in played] == ["voicemail/vm-goodbye.wav"], played
    assert played[0].get("Application-Response") == "FILE PLAYED", played[0]


async def test_a_caller_past_the_max_wait_leaves_a_voicemail(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await set_states(centre, {1: "paused", 2: "paused", 3: "paused"})
    box = sandbox.state_dir / "storage/voicemail/default" / DOMAIN / "200"
    before = set(box.glob("msg_*.wav"))
    # At 10 s the caller is sent to voicemail: mod_voicemail's greeting and "leave your
    # message after the tone" take about 5 s, so sipp speaks 15 s after the answer (7 s of
    # speech, into the recording) and hangs up 12 s after that (a message of 1 s or less
    # would be dropped as too short). The record is written at the hang-up.
    await centre.place("222", "+4930222001", hangup_after=12, speak_after=15)
    [record] = await centre.until(
        "the timed-out call's record",
        lambda: records(centre, outcome="timed_out"),
        40,
        lambda: _explain(centre, "+4930222001"),
    )
    assert record["detail"] == "waited 10 s: voicemail 200"
    assert record["wait_s"] >= 10.0
    message = await centre.until(
        "a message in mailbox 200", lambda: sorted(set(box.glob("msg_*.wav")) - before), 20
    )
    assert message[0].stat().st_size > 0
    hangup = await centre.until(
        "the caller's hang-up", lambda: centre.observer.hung_up(record["call_id"]), 15
    )
    assert hangup["Caller-Context"] == "ccgw-voicemail", hangup


async def _explain(centre: Centre, number: str) -> str:
    """The centre's records and calls and FreeSWITCH's hang-ups (a failure's context)."""
    calls = await centre.call("GET", "/v1/calls")
    hangups = [
        {k: e.get(k) for k in ("Unique-ID", "Caller-Context", "Hangup-Cause")}
        for e in centre.observer.named("CHANNEL_HANGUP_COMPLETE")
        if e.get("Caller-Caller-ID-Number") == number
    ]
    return f"records={await centre.interactions()} calls={calls} hangups={hangups}"
