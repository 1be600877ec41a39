"""Consults (attended transfers) and a three-way conference on a real FreeSWITCH 1.10.12, as
tests/e2e/test_transfers.py does them on Asterisk: sipp customers routed by the controller to
sipp agent phones; every join is checked on FreeSWITCH's own events (CHANNEL_BRIDGE, and
mod_conference's CUSTOM conference::maintenance), read on a raw Event Socket connection of
the test's own. The harness is the e2e one (tests/e2e/harness.py) with that observer.

The controller talks to FreeSWITCH through a recording proxy (tests/sandbox/esl_recorder.py);
with CCGW_ESL_CAPTURE=<folder>, each test's part of that conversation (both ways, every
message as FreeSWITCH sent it) is written to <folder>/<name>.jsonl: how
tests/pbx/freeswitch/recorded/consult_*.jsonl were made, which CI replays through the same
controller (tests/pbx/freeswitch/test_consults.py).

FreeSWITCH is in no package registry this project reaches: these tests skip when no binary
is found ($CCGW_FREESWITCH_BIN, else `freeswitch` on PATH; see
tests/sandbox/test_freeswitch_sandbox.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ccgateway.domain.transfers import CONSULT_RING_S
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT, phone_port
from ccgateway.sandbox.freeswitch_probes import esl_api
from ccgateway.sandbox.lock import asterisk_lock
from tests.e2e.harness import Centre, running_centre
from tests.e2e.test_callbacks_and_rules import records, set_states
from tests.sandbox.esl_recorder import EslRecorder
from tests.sandbox.test_freeswitch_recording import EslObserver
from tests.sandbox.test_freeswitch_sandbox import BINARY, LOCK

pytestmark = [
    pytest.mark.freeswitch,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(
        BINARY is None,
        reason="no FreeSWITCH binary ($CCGW_FREESWITCH_BIN or `freeswitch` on PATH): "
        "FreeSWITCH is in no package registry we reach; build it by hand to run these",
    ),
]
WATCHED = (
    "CHANNEL_CREATE CHANNEL_PARK CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP "
    "CHANNEL_EXECUTE BACKGROUND_JOB CUSTOM conference::maintenance"
)
QUEUE = {"id": "front", "name": "Front", "extension": "330", "ring_timeout_s": 8,
         "wrapup_s": 0, "pbx": "freeswitch"}  # fmt: skip
AGENTS = 3


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-transfers"))
        try:
            sandbox.up(agents=AGENTS, phones={3: "noanswer"}, binary=BINARY)
            yield sandbox
        finally:
            sandbox.down()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recorder(sandbox: FreeSwitchSandbox) -> AsyncIterator[EslRecorder]:
    """The controller's Event Socket conversation, kept for CI to replay."""
    recorder = EslRecorder(ESL_PORT, sandbox.esl_password())
    yield recorder
    await recorder.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, recorder: EslRecorder, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-transfers-db")) / "ccgateway.db"
    observer = EslObserver(sandbox.esl_password(), watched=WATCHED)
    port = await recorder.start()  # the controller talks to FreeSWITCH through it
    freeswitch = {"enabled": True, "port": port, "password_file": sandbox.password_file}
    async with running_centre(
        sandbox, db, observer, asterisk={"enabled": False}, freeswitch=freeswitch
    ) as centre:
        await centre.call("POST", "/v1/queues", QUEUE)
        for k in range(1, AGENTS + 1):
            agent = {"id": f"agent{k}", "name": f"A{k}", "device": f"user/100{k}",
                     "pbx": "freeswitch"}  # fmt: skip
            await centre.call("POST", "/v1/agents", agent)
        yield centre


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def clean_slate(centre: Centre) -> AsyncIterator[None]:
    """Every test starts with no call: one that failed half-way must not leave an agent on
    a call for the next ones (a single failure once failed the whole module)."""
    yield
    await asyncio.to_thread(esl_api, centre.sandbox.esl_password(), "hupall NORMAL_CLEARING")
    await centre.until("no call left", lambda: _no_calls(centre), 20)


async def _no_calls(centre: Centre) -> bool:
    return not await centre.call("GET", "/v1/calls")


async def talking_to_agent1(centre: Centre, caller: str) -> dict[str, Any]:
    """A customer of `front` connected to agent1, with agents 2 and 3 paused."""
    await set_states(centre, {2: "paused", 3: "paused", 1: "available"})
    await centre.place(QUEUE["extension"], caller, hangup_after=90)
    call = await centre.until("the call with agent1", lambda: _connected(centre, caller), 20)
    await centre.until("the bridge", lambda: _bridged(centre, call["call_id"], 1), 10)
    return call


async def test_an_attended_transfer_consults_then_hands_the_caller_over(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    call = await talking_to_agent1(centre, "+4930330002")
    caller = call["call_id"]
    await set_states(centre, {2: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    await centre.until("the agents talking", lambda: _agents_bridged(centre, 1, 2), 10)
    # The two agents talk; the caller holds (parked again, music), in no bridge with agent2;
    # agent1 heard ringback while agent2's phone rang.
    assert not _bridged(centre, caller, 2)
    agent1_leg = _leg_of(centre, caller, 1)
    # waiting, then the consult: its playback may start a moment after the agents' bridge
    # (one full live run saw 1 of 2 at this point and failed)
    await centre.until(
        "the caller's hold music again",
        lambda: _played(centre, caller, "local_stream://moh") >= 2,
        5,
    )
    assert _played(centre, agent1_leg, "tone_stream://%(2000,4000,440,480);loops=-1") == 1
    await asyncio.sleep(1.5)  # a moment of the agents' talk: nobody is dropped meanwhile
    assert not _ended(centre, caller, agent1_leg) and _bridged(centre, agent1_leg, 2)
    view = await centre.call("POST", f"{path}/complete")
    assert view["agent_id"] == "agent2"
    await centre.until("the caller bridged to agent2", lambda: _bridged(centre, caller, 2), 15)
    await centre.until("agent1 free again", lambda: _agent_state(centre, 1, "available"), 10)
    await _hang_up(centre, caller)
    await centre.until("both parts recorded", lambda: _count(centre, caller, 2), 15)
    parts = await records(centre, call_id=caller)
    assert [(p["agent_id"], p["outcome"]) for p in parts] == [
        ("agent1", "transferred"),
        ("agent2", "answered"),
    ]
    _capture(recorder, "consult_completed", since)


async def test_a_cancelled_consult_brings_agent1_back_and_a_conference_joins_three(
    centre: Centre, recorder: EslRecorder
) -> None:
    await centre.until("agent2 free", lambda: _agent_state(centre, 2, "available"), 10)
    since = recorder.mark()
    call = await talking_to_agent1(centre, "+4930330003")
    caller = call["call_id"]
    await set_states(centre, {2: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    await centre.until("the agents talking", lambda: _agents_bridged(centre, 1, 2), 10)
    bridges_before = len(_bridges(centre, caller))
    view = await centre.call("POST", f"{path}/cancel")
    assert view["agent_id"] == "agent1"
    await centre.until(
        "the caller back with agent1",
        lambda: len(_bridges(centre, caller)) > bridges_before and _bridged(centre, caller, 1),
        15,
    )
    # Now a conference: consult agent2 again and join all three.
    await centre.until("agent2 free again", lambda: _agent_state(centre, 2, "available"), 10)
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    await centre.until("the agents talking again", lambda: _agents_bridged(centre, 1, 2, 2), 10)
    await centre.call("POST", f"{path}/conference")
    joined = await centre.until("three in the conference", lambda: _conference(centre, caller), 15)
    assert {_user(name) for name in joined} == {"1001", "1002", None}, joined
    await _hang_up(centre, caller)  # the caller leaves: the conference ends for all
    await centre.until("agent1 free", lambda: _agent_state(centre, 1, "available"), 15)
    await centre.until("agent2 free", lambda: _agent_state(centre, 2, "available"), 15)
    calls = await centre.call("GET", "/v1/calls")
    assert [c for c in calls if c["call_id"] == caller] == []
    parts = await records(centre, call_id=caller)
    print("records:", [(p["agent_id"], p["outcome"], p["detail"]) for p in parts])
    _capture(recorder, "consult_cancelled_conference", since)


async def test_a_consult_nobody_answers_is_cancelled_and_agent1_is_back(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    call = await talking_to_agent1(centre, "+4930330004")
    caller = call["call_id"]
    await set_states(centre, {3: "available"})  # agent3's phone rings and never answers
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
    await centre.until("agent3 rung", lambda: _agent_state(centre, 3, "reserved"), 10)
    consult_leg = await centre.until("the consult leg", lambda: _ringing_leg(centre, caller), 10)
    bridges_before = len(_bridges(centre, caller))
    view = await centre.call("POST", f"{path}/cancel")
    assert view["agent_id"] == "agent1"
    await centre.until(
        "the caller back with agent1",
        lambda: len(_bridges(centre, caller)) > bridges_before and _bridged(centre, caller, 1),
        15,
    )
    [job] = await centre.until("the originate's end", lambda: _job_of(centre, consult_leg), 10)
    assert job["_body"].startswith("-ERR"), job  # FreeSWITCH's word: it never answered
    await centre.until("agent3 free again", lambda: _agent_state(centre, 3, "available"), 10)
    await _hang_up(centre, caller)
    [part] = await centre.until("the record", lambda: records(centre, call_id=caller), 15)
    assert (part["agent_id"], part["outcome"]) == ("agent1", "answered")
    _capture(recorder, "consult_not_answered", since)


async def consulting_agent2(centre: Centre, caller_number: str) -> tuple[str, str, str]:
    """A caller with agent1, who consults agent2 (answered, the two agents talking): the
    caller's uuid, agent1's leg and the consult leg."""
    await centre.until("agent2 off any call", lambda: _off_calls(centre, 2), 10)
    call = await talking_to_agent1(centre, caller_number)
    caller = call["call_id"]
    await set_states(centre, {2: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await centre.until("agent2 on the consult", lambda: _agent_state(centre, 2, "on_call"), 15)
    agent1, agent2 = _leg_of(centre, caller, 1), _leg_of(centre, caller, 2)
    await centre.until("the agents talking", lambda: _bridged(centre, agent2, 1), 10)
    return caller, agent1, agent2


async def test_agent1_hanging_up_during_the_consult_hands_the_caller_over(
    centre: Centre, recorder: EslRecorder
) -> None:
    """As on a desk phone: the consulting agent putting the phone down completes it."""
    since = recorder.mark()
    caller, agent1, _ = await consulting_agent2(centre, "+4930330005")
    await _hang_up(centre, agent1)  # agent1 puts the phone down
    await centre.until("the caller bridged to agent2", lambda: _bridged(centre, caller, 2), 15)
    await centre.until("agent1 free again", lambda: _agent_state(centre, 1, "available"), 10)
    [live] = [c for c in await centre.call("GET", "/v1/calls") if c["call_id"] == caller]
    assert (live["agent_id"], live["state"]) == ("agent2", "connected")
    await _hang_up(centre, caller)
    await centre.until("both parts recorded", lambda: _count(centre, caller, 2), 15)
    parts = await records(centre, call_id=caller)
    assert [(p["agent_id"], p["outcome"]) for p in parts] == [
        ("agent1", "transferred"),
        ("agent2", "answered"),
    ]
    _capture(recorder, "consult_agent_hung_up", since)


async def test_agent2_hanging_up_during_the_consult_brings_agent1_back(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    caller, agent1, agent2 = await consulting_agent2(centre, "+4930330006")
    await _hang_up(centre, agent2)  # the consulted party puts the phone down
    await centre.until(
        "the caller back with agent1",
        lambda: len(_bridges(centre, caller)) == 2 and _bridged(centre, caller, 1),
        15,
    )  # agent1 at first, then agent1 again
    await centre.until("agent2 free again", lambda: _agent_state(centre, 2, "available"), 10)
    assert not _ended(centre, caller, agent1)
    await _hang_up(centre, caller)
    [part] = await centre.until("the record", lambda: records(centre, call_id=caller), 15)
    assert (part["agent_id"], part["outcome"]) == ("agent1", "answered")
    _capture(recorder, "consult_consulted_hung_up", since)


async def test_an_agent_leaving_the_conference_leaves_the_other_two_talking(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    caller, agent1, agent2 = await consulting_agent2(centre, "+4930330007")
    await centre.call("POST", f"/v1/calls/{caller}/transfer/conference")
    await centre.until("three in the conference", lambda: _conference(centre, caller), 15)
    await _hang_up(centre, agent1)  # agent1 leaves the conference
    await centre.until("agent1 free again", lambda: _agent_state(centre, 1, "available"), 10)
    await asyncio.sleep(1.0)  # the caller and agent2 go on talking
    assert not _ended(centre, caller, agent2)
    [live] = [c for c in await centre.call("GET", "/v1/calls") if c["call_id"] == caller]
    assert (live["agent_id"], live["state"]) == ("agent2", "connected")
    await _hang_up(centre, caller)
    await centre.until("agent2 free", lambda: _agent_state(centre, 2, "available"), 15)
    await centre.until("both parts recorded", lambda: _count(centre, caller, 2), 15)
    parts = await records(centre, call_id=caller)
    assert [(p["agent_id"], p["outcome"], p["detail"]) for p in parts] == [
        ("agent1", "transferred", "left the conference"),
        ("agent2", "answered", ""),
    ]
    _capture(recorder, "conference_agent_left", since)


async def test_the_caller_leaving_during_the_consult_ends_both_agents_legs(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    caller, agent1, agent2 = await consulting_agent2(centre, "+4930330008")
    await _hang_up(centre, caller)  # the held caller gives up
    await centre.until("agent1 free", lambda: _agent_state(centre, 1, "available"), 15)
    await centre.until("agent2 free", lambda: _agent_state(centre, 2, "available"), 15)
    await centre.until("both agent legs ended", lambda: _ended_all(centre, agent1, agent2), 15)
    [part] = await centre.until("the record", lambda: records(centre, call_id=caller), 15)
    assert (part["agent_id"], part["outcome"]) == ("agent1", "answered")
    _capture(recorder, "consult_caller_left", since)


async def test_a_consult_that_rings_out_brings_agent1_back_by_itself(
    centre: Centre, recorder: EslRecorder
) -> None:
    """Agent3's phone rings and never answers: FreeSWITCH ends the originate at its timeout
    (the domain's consult ring time) and the controller brings agent1 back, unasked."""
    since = recorder.mark()
    call = await talking_to_agent1(centre, "+4930330009")
    caller = call["call_id"]
    await set_states(centre, {3: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
    consult_leg = await centre.until("the consult leg", lambda: _ringing_leg(centre, caller), 10)
    [job] = await centre.until(
        "the originate's end", lambda: _job_of(centre, consult_leg), CONSULT_RING_S + 10
    )
    print("consult ring-out:", job["_body"].strip())
    assert job["_body"].startswith("-ERR"), job
    await centre.until(
        "the caller back with agent1",
        lambda: len(_bridges(centre, caller)) == 2 and _bridged(centre, caller, 1),
        15,
    )
    await _hang_up(centre, caller)
    [part] = await centre.until("the record", lambda: records(centre, call_id=caller), 15)
    assert (part["agent_id"], part["outcome"]) == ("agent1", "answered")
    _capture(recorder, "consult_rang_out", since)


async def ringing_agent3(centre: Centre, caller_number: str) -> tuple[str, str, str]:
    """A caller with agent1, who consults agent3 (whose phone never answers): the caller's
    uuid, agent1's leg and the ringing consult leg."""
    call = await talking_to_agent1(centre, caller_number)
    caller = call["call_id"]
    await set_states(centre, {3: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await centre.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
    consult_leg = await centre.until("the consult leg", lambda: _ringing_leg(centre, caller), 10)
    return caller, _leg_of(centre, caller, 1), consult_leg


async def test_the_caller_leaving_while_the_consult_rings_ends_every_leg(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    caller, agent1, consult = await ringing_agent3(centre, "+4930330010")
    await _hang_up(centre, caller)
    await centre.until("every leg ended", lambda: _ended_all(centre, agent1, consult), 15)
    await centre.until("agent1 free", lambda: _agent_state(centre, 1, "available"), 15)
    await centre.until("agent3 free", lambda: _agent_state(centre, 3, "available"), 15)
    [part] = await centre.until("the record", lambda: records(centre, call_id=caller), 15)
    assert (part["agent_id"], part["outcome"]) == ("agent1", "answered")
    await set_states(centre, {3: "paused"})
    _capture(recorder, "consult_caller_left_ringing", since)


async def test_agent1_hanging_up_while_the_consult_rings_puts_the_caller_back_in_line(
    centre: Centre, recorder: EslRecorder
) -> None:
    since = recorder.mark()
    caller, agent1, consult = await ringing_agent3(centre, "+4930330011")
    parks = len(_parks(centre, caller))
    await _hang_up(centre, agent1)
    await centre.until("the consult leg ended", lambda: _ended(centre, consult), 15)
    await centre.until("the caller parked again", lambda: len(_parks(centre, caller)) > parks, 15)
    [live] = [c for c in await centre.call("GET", "/v1/calls") if c["call_id"] == caller]
    # back in the line, and offered again to whoever is free: agent3 (whose phone rings), or
    # agent1 once free again (no wrap-up here), whose phone answers at once
    assert (live["state"], live["agent_id"]) in {
        ("waiting", None),
        ("offering", "agent3"),
        ("offering", "agent1"),
        ("connected", "agent1"),
    }, live
    assert not _ended(centre, caller)
    await _hang_up(centre, caller)
    await centre.until("both records", lambda: _count(centre, caller, 2), 15)
    parts = await records(centre, call_id=caller)
    assert (parts[0]["agent_id"], parts[0]["outcome"]) == ("agent1", "transferred")
    taken = [p for p in parts[1:] if p["outcome"] == "answered"]
    assert parts[-1]["outcome"] == ("answered" if taken else "abandoned"), parts
    _capture(recorder, "consult_agent_hung_up_ringing", since)


# --- what FreeSWITCH said ---------------------------------------------------------------------


def _events(centre: Centre) -> list[dict[str, str]]:
    return list(centre.observer.events)


def _user(channel_name: str) -> str | None:
    """The agent's user in a leg's channel name (sofia/<profile>/1002@127.0.0.1:5202)."""
    for k in range(1, AGENTS + 1):
        if f"/100{k}@127.0.0.1:{phone_port(k)}" in channel_name:
            return f"100{k}"
    return None


def _bridges(centre: Centre, uuid: str) -> list[dict[str, str]]:
    return [
        e
        for e in _events(centre)
        if e.get("Event-Name") == "CHANNEL_BRIDGE"
        and uuid in (e.get("Bridge-A-Unique-ID"), e.get("Bridge-B-Unique-ID"))
    ]


def _bridged(centre: Centre, caller: str, agent: int) -> bool:
    """The last bridge of the caller is with agent K's phone."""
    found = _bridges(centre, caller)
    if not found:
        return False
    last = found[-1]
    names = (last.get("Caller-Channel-Name", ""), last.get("Other-Leg-Channel-Name", ""))
    return any(_user(n) == f"100{agent}" for n in names)


def _agents_bridged(centre: Centre, a: int, b: int, times: int = 1) -> bool:
    pairs = [
        {_user(e.get("Caller-Channel-Name", "")), _user(e.get("Other-Leg-Channel-Name", ""))}
        for e in _events(centre)
        if e.get("Event-Name") == "CHANNEL_BRIDGE"
    ]
    return pairs.count({f"100{a}", f"100{b}"}) >= times


def _leg_of(centre: Centre, caller: str, agent: int) -> str:
    """The uuid of the leg the controller made for `caller` to agent K's phone."""
    [leg] = {
        e["Unique-ID"]
        for e in _events(centre)
        if e.get("Event-Name") == "CHANNEL_ANSWER"
        and e.get("variable_ccgw_caller") == caller
        and _user(e.get("Channel-Name", "")) == f"100{agent}"
    }
    return leg


def _played(centre: Centre, uuid: str, sound: str) -> int:
    """How many times FreeSWITCH started playing `sound` on the channel `uuid`."""
    return sum(
        1
        for e in _events(centre)
        if e.get("Event-Name") == "CHANNEL_EXECUTE"
        and e.get("Unique-ID") == uuid
        and e.get("Application") == "playback"
        and e.get("Application-Data") == sound
    )


def _ringing_leg(centre: Centre, caller: str) -> str | None:
    """The consult leg's uuid, from the originate the controller sent (its job's argument
    appears only once it ends; the leg's own events name it meanwhile)."""
    for e in _events(centre):
        if e.get("variable_ccgw_caller") == caller and e.get("variable_ccgw_consult"):
            return e.get("Unique-ID")
    return None


def _job_of(centre: Centre, leg: str) -> list[dict[str, str]]:
    return [
        e
        for e in _events(centre)
        if e.get("Event-Name") == "BACKGROUND_JOB"
        and f"origination_uuid={leg}," in e.get("Job-Command-Arg", "")
    ]


def _ended(centre: Centre, *uuids: str) -> bool:
    return any(
        e.get("Event-Name") == "CHANNEL_HANGUP" and e.get("Unique-ID") in uuids
        for e in _events(centre)
    )


def _parks(centre: Centre, uuid: str) -> list[dict[str, str]]:
    return [
        e
        for e in _events(centre)
        if e.get("Event-Name") == "CHANNEL_PARK" and e.get("Unique-ID") == uuid
    ]


def _ended_all(centre: Centre, *uuids: str) -> bool:
    return all(_ended(centre, uuid) for uuid in uuids)


def _conference(centre: Centre, room: str) -> list[str] | None:
    joined = [
        e.get("Channel-Name", "")
        for e in _events(centre)
        if e.get("Event-Subclass") == "conference::maintenance"
        and e.get("Action") == "add-member"
        and e.get("Conference-Name") == room
    ]
    return joined if len(joined) >= 3 else None


async def _hang_up(centre: Centre, uuid: str) -> None:
    """The customer puts the phone down (FreeSWITCH is told to end their leg)."""
    answer = await asyncio.to_thread(esl_api, centre.sandbox.esl_password(), f"uuid_kill {uuid}")
    assert answer.startswith("+OK"), answer


async def _connected(centre: Centre, caller: str) -> dict[str, Any] | None:
    for call in await centre.call("GET", "/v1/calls"):
        if (call["caller_number"], call["agent_id"], call["state"]) == (
            caller,
            "agent1",
            "connected",
        ):
            return dict(call)
    return None


async def _agent_state(centre: Centre, k: int, state: str) -> bool:
    return (await centre.agent(k))["state"] == state


async def _off_calls(centre: Centre, k: int) -> bool:
    return (await centre.agent(k))["state"] in ("available", "paused")


async def _count(centre: Centre, call_id: str, n: int) -> bool:
    return len(await records(centre, call_id=call_id)) >= n


def _capture(recorder: EslRecorder, name: str, since: int) -> None:
    """This test's part of the controller's conversation with FreeSWITCH, for CI."""
    folder = os.environ.get("CCGW_ESL_CAPTURE")
    if folder:
        recorder.save(Path(folder, f"{name}.jsonl"), since, without_owner_mark=True)
