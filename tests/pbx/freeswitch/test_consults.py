"""Consults and three-way conferences on FreeSWITCH: the words sent, and the controller's whole
conversation with a real FreeSWITCH 1.10.12 replayed through the real controller.

recorded/consult_*.jsonl are the controller's Event Socket conversations (both ways, one
message a record, the transcripts' format) during tests/sandbox/test_freeswitch_transfers.py
on the FreeSWITCH sandbox (sipp customers and agent phones; 2026-12-06), kept by a recording
proxy (tests/sandbox/esl_recorder.py, CCGW_ESL_CAPTURE=<folder>):
- consult_completed: agent1 consults agent2, then completes: the caller goes to agent2;
- consult_cancelled_conference: agent1 consults agent2 and cancels (agent1 back with the
  caller), consults again and makes a conference; the caller leaves, which ends it for all;
- consult_not_answered: agent1 consults agent3, whose phone rings and never answers; agent1
  cancels and is back with the caller;
- consult_agent_hung_up: agent1 puts the phone down during the consult (a desk phone's
  transfer): the caller goes to agent2;
- consult_consulted_hung_up: agent2 puts the phone down during the consult: agent1 is back;
- conference_agent_left: agent1 leaves the three-way conference; the caller and agent2 go on;
- consult_caller_left: the held caller hangs up while the agents talk: both agents' legs end;
- consult_rang_out: agent3's phone never answers and FreeSWITCH ends the consult's originate
  at its timeout (CHANNEL_HANGUP and BACKGROUND_JOB `-ERR NO_ANSWER`): agent1 is back;
- consult_caller_left_ringing: the held caller hangs up while agent3's phone rings: the
  consult leg and agent1's waiting leg end;
- consult_agent_hung_up_ringing: agent1 hangs up while agent3's phone rings: the consult leg
  ends and the caller goes back into the queue's line (offered to agent3 again, then gone).
(The phones hanging up were legs ended by the test on an Event Socket connection of its own:
here they are FreeSWITCH's events in the controller's stream, as then.)
Here a server answers each command the controller sends with what FreeSWITCH answered to the
same command (and the events that followed it), and the test drives the same API calls:
the controller must send exactly the recorded commands, none other, and write the same
records. The leg ids the controller chooses are the recorded ones (its id source is set).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.commands import (
    CancelConsult,
    Conference,
    RingConsult,
    StartConsult,
)
from ccgateway.pbx.freeswitch import consults
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import InvalidWireValue
from ccgateway.settings import Settings
from tests.pbx.freeswitch.scripted import ScriptedServer, recorded_turns
from tests.sandbox.esl_recorder import RESYNC  # the resync's reads

RECORDED = Path(__file__).parent / "recorded"
# the commands of the first resync (tests/sandbox/esl_recorder.py keeps them as the opening):
# events recorded after them are the scenario's, pushed when the test says

ADMIN = "consult-admin-key-0123456"
QUEUE = {"id": "front", "name": "Front", "extension": "330", "ring_timeout_s": 8,
         "wrapup_s": 0, "pbx": "freeswitch"}  # fmt: skip
CALLER = "d2aa7088-e173-43c6-8767-e5e2119ba4a3"
AGENT_LEG = "ccgw-f38bfbf0e8fb4437beb040f8852c657"
CONSULT_LEG = "ccgw-4bd24c6b456f436a8f13eb881060241"


# --- the words -----------------------------------------------------------------------------


def test_a_consult_starts_by_telling_the_agent_leg_where_to_wait_then_holding_the_caller() -> None:
    words = consults.start_consult(StartConsult(CALLER, AGENT_LEG, "330"), "ccgw-inbound")
    assert words == [
        ("uuid_setvar", AGENT_LEG, "transfer_after_bridge", "wait:XML:ccgw-consult"),
        ("uuid_transfer", CALLER, "330", "XML", "ccgw-inbound"),
    ]


def test_the_consult_leg_is_ours_and_goes_back_to_park_when_its_partner_leaves() -> None:
    ring = RingConsult(CONSULT_LEG, CALLER, AGENT_LEG, "user/1002", False, "+49 30,1", 30.0)
    command, variables, app = consults.ring_consult(ring, "sofia/gateway/trunk/{number}")
    assert (command, app) == ("originate", "&park()")
    assert variables == (
        f"{{origination_uuid={CONSULT_LEG},ccgw_caller={CALLER},ccgw_consult={AGENT_LEG},"
        "originate_timeout=30,origination_caller_id_number=+49301,"
        "origination_caller_id_name=Consult,transfer_after_bridge=back:XML:ccgw-consult}"
        "user/1002"
    )
    number = RingConsult(CONSULT_LEG, CALLER, AGENT_LEG, "+4940555", True, "1", 30.0)
    _, variables, _ = consults.ring_consult(number, "sofia/gateway/trunk/{number}")
    assert variables.endswith("}sofia/gateway/trunk/+4940555")


@pytest.mark.parametrize(
    "ring",
    [
        RingConsult(CONSULT_LEG, CALLER, AGENT_LEG, "user/1002 &park()", False, "1", 30),
        RingConsult(CONSULT_LEG, CALLER, AGENT_LEG, "4940555,x", True, "1", 30),
        RingConsult("leg id", CALLER, AGENT_LEG, "user/1002", False, "1", 30),
        RingConsult(CONSULT_LEG, CALLER, "x\n\napi hupall", "user/1002", False, "1", 30),
    ],
)
def test_what_would_split_a_word_is_refused(ring: RingConsult) -> None:
    with pytest.raises(InvalidWireValue):
        consults.ring_consult(ring, "sofia/gateway/trunk/{number}")


def test_a_consult_still_ringing_is_ended_and_the_agent_sent_back() -> None:
    words = consults.cancel_ringing(CancelConsult(CALLER, AGENT_LEG, CONSULT_LEG))
    assert words == [
        ("uuid_kill", CONSULT_LEG),
        ("uuid_transfer", AGENT_LEG, "back", "XML", "ccgw-consult"),
    ]


def test_a_conference_moves_the_bridged_agents_together_then_the_caller() -> None:
    words = consults.conference(Conference(CALLER, (AGENT_LEG, CONSULT_LEG), "330"))
    assert words == [
        ("uuid_transfer", AGENT_LEG, "-both", CALLER, "XML", "ccgw-conf-agent"),
        ("uuid_transfer", CALLER, "330", "XML", "ccgw-conf-caller"),
    ]
    with pytest.raises(InvalidWireValue):
        consults.conference(Conference(CALLER, (AGENT_LEG,), "330 x"))


# --- the recorded conversations, through the real controller -------------------------------


class Replay:
    def __init__(self, controller: Controller, server: ScriptedServer, api: httpx.AsyncClient,
                 arrival: list[str], commands: list[str]) -> None:  # fmt: skip
        self.controller, self.server, self.api = controller, server, api
        self.arrival, self.commands = arrival, commands

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.api.request(method, path, json=body)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None

    async def states(self, states: dict[int, str]) -> None:
        for k, state in states.items():
            body: dict[str, Any] = {"state": state}
            if state == "paused":
                body["reason"] = "break"
            await self.call("POST", f"/v1/agents/agent{k}/state", body)

    async def until(self, what: str, check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while not (result := await _value(check())):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; sent {self.sent()[-4:]}")
            await asyncio.sleep(0.01)
        return result

    def sent(self) -> list[str]:
        return [_first_line(c) for c in self.server.received]

    async def agent(self, k: int) -> str:
        return str((await self.call("GET", f"/v1/agents/agent{k}"))["state"])

    async def records(self, caller: str) -> list[tuple[str, str]]:
        await self.controller.dispatcher.drain_writes()
        found = await self.call("GET", "/v1/interactions")
        return [(r["agent_id"], r["outcome"]) for r in found if r["call_id"] == caller]

    async def talking_to_agent1(self) -> str:
        """As the live test: agents 2 and 3 paused, agent1 available, the caller arrives."""
        await self.states({2: "paused", 3: "paused", 1: "available"})
        self.server.push(self.arrival)
        caller = _uuid_of(self.arrival)
        await self.until("the bridge", lambda: _has(self.sent(), f"api uuid_bridge {caller} "))
        return caller

    def assert_faithful(self) -> None:
        """Every recorded command sent, nothing else."""
        assert self.server.unanswered == []
        assert sorted(self.sent()) == sorted(self.commands)


async def _value(result: Any) -> Any:
    return await result if asyncio.iscoroutine(result) else result


@asynccontextmanager
async def replaying(name: str, tmp_path: Path) -> AsyncIterator[Replay]:
    transcript = RECORDED / f"{name}.jsonl"
    turns = recorded_turns(transcript, "ctl")
    server = ScriptedServer(greeting=turns[0][1])
    arrival: list[str] = []
    for command, replies in turns[1:]:
        if command.startswith(RESYNC):  # the caller arrives when the test says
            arrival, replies = [*arrival, *replies[1:]], replies[:1]
        server.answer(_first_line(command), (command, replies))
    commands = [_first_line(c) for c, _ in turns[1:]]
    port = await server.start()
    pbx = FreeSwitchPbx(port=port, password="ClueCon")  # hold music: local_stream://moh
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key=ADMIN)
    controller = build_controller(settings, [pbx])
    legs = iter(re.findall(r"origination_uuid=([^,}]+)", transcript.read_text()))
    controller.dispatcher.center.floor.new_id = lambda: next(legs)
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    replay = Replay(controller, server, api, arrival, commands)
    try:
        await replay.until("the resync", lambda: controller.dispatcher.center.pbx_ready)
        await replay.call("POST", "/v1/queues", QUEUE)
        for k in (1, 2, 3):
            agent = {"id": f"agent{k}", "name": f"A{k}", "device": f"user/100{k}",
                     "pbx": "freeswitch"}  # fmt: skip
            await replay.call("POST", "/v1/agents", agent)
        yield replay
    finally:
        await api.aclose()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()
        controller.engine.dispose()


async def test_a_completed_consult_hands_the_caller_to_agent2(tmp_path: Path) -> None:
    async with replaying("consult_completed", tmp_path) as r:
        caller = await r.talking_to_agent1()
        await r.states({2: "available"})
        path = f"/v1/calls/{caller}/transfer"
        await r.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
        await r.until("agent2 on the consult", lambda: _is(r.agent(2), "on_call"))
        await r.until("the agents joined", lambda: _has(r.sent(), "api uuid_bridge ccgw-"))
        sent = r.sent()
        agent1 = _originated(sent)[0]
        # the agent leg learns where to wait before the caller leaves it for hold
        assert sent.index(
            f"api uuid_setvar {agent1} transfer_after_bridge wait:XML:ccgw-consult"
        ) < sent.index(f"api uuid_transfer {caller} 330 XML ccgw-inbound")
        view = await r.call("POST", f"{path}/complete")
        assert view["agent_id"] == "agent2"
        await r.until("both parts recorded", lambda: _count(r.records(caller), 2))
        assert await r.records(caller) == [("agent1", "transferred"), ("agent2", "answered")]
        consult = _originated(r.sent())[1]
        # agent1's leg ended; the consulted leg parked at `back` and was bridged to the caller
        # (at the caller's hang-up agent1's leg is ended again, in case it still waited)
        assert r.sent()[-3:] == [
            f"api uuid_kill {agent1}",
            f"api uuid_bridge {caller} {consult}",
            f"api uuid_kill {agent1}",
        ]
        r.assert_faithful()


async def test_a_cancel_then_a_conference_and_the_caller_leaving_ends_it(tmp_path: Path) -> None:
    async with replaying("consult_cancelled_conference", tmp_path) as r:
        caller = await r.talking_to_agent1()
        await r.states({2: "available"})
        path = f"/v1/calls/{caller}/transfer"
        await r.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
        await r.until("agent2 on the consult", lambda: _is(r.agent(2), "on_call"))
        await r.until("the agents joined", lambda: _has(r.sent(), "api uuid_bridge ccgw-"))
        view = await r.call("POST", f"{path}/cancel")
        assert view["agent_id"] == "agent1"
        agent1, consult = _originated(r.sent())[:2]
        back = f"api uuid_bridge {caller} {agent1}"
        await r.until("agent1 back with the caller", lambda: r.sent().count(back) == 2)
        assert f"api uuid_kill {consult}" in r.sent()  # answered: the agent leg goes back itself
        await r.until("agent2 free again", lambda: _is(r.agent(2), "available"))
        await r.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
        await r.until("agent2 on the consult", lambda: _is(r.agent(2), "on_call"))
        await r.until("joined again", lambda: len(_has(r.sent(), "api uuid_bridge ccgw-")) == 2)
        await r.call("POST", f"{path}/conference")
        await r.until(
            "the conference",
            lambda: _has(r.sent(), f"api uuid_transfer {caller} 330 XML ccgw-conf-caller"),
        )
        assert f"api uuid_transfer {agent1} -both {caller} XML ccgw-conf-agent" in r.sent()
        # FreeSWITCH's word (recorded): the caller leaves and every leg ends
        await r.until("agent1 free", lambda: _is(r.agent(1), "available"))
        await r.until("agent2 free", lambda: _is(r.agent(2), "available"))
        assert await r.call("GET", "/v1/calls") == []
        assert await r.records(caller) == [("agent1", "answered")]
        r.assert_faithful()


async def test_a_consult_nobody_answers_is_cancelled_and_agent1_is_back(tmp_path: Path) -> None:
    async with replaying("consult_not_answered", tmp_path) as r:
        caller = await r.talking_to_agent1()
        await r.states({3: "available"})
        path = f"/v1/calls/{caller}/transfer"
        await r.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
        await r.until("agent3 rung", lambda: len(_originated(r.sent())) == 2)
        view = await r.call("POST", f"{path}/cancel")
        assert view["agent_id"] == "agent1"
        agent1, consult = _originated(r.sent())
        back = f"api uuid_bridge {caller} {agent1}"
        await r.until("agent1 back with the caller", lambda: r.sent().count(back) == 2)
        sent = r.sent()
        assert sent.index(f"api uuid_kill {consult}") < sent.index(
            f"api uuid_transfer {agent1} back XML ccgw-consult"
        )
        await r.until("agent3 free again", lambda: _is(r.agent(3), "available"))
        await r.until("the record", lambda: r.records(caller))
        assert await r.records(caller) == [("agent1", "answered")]
        r.assert_faithful()


async def consulting_agent2(r: Replay) -> tuple[str, str, str]:
    """As the live test: agent1 consults agent2 and the two talk (joined)."""
    caller = await r.talking_to_agent1()
    await r.states({2: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await r.call("POST", path, {"target": "agent", "to": "agent2", "attended": True})
    await r.until("the agents joined", lambda: _has(r.sent(), "api uuid_bridge ccgw-"))
    agent1, consult = _originated(r.sent())
    return caller, agent1, consult


async def test_agent1_hanging_up_during_the_consult_hands_the_caller_over(tmp_path: Path) -> None:
    async with replaying("consult_agent_hung_up", tmp_path) as r:
        caller, _, consult = await consulting_agent2(r)
        # FreeSWITCH's word (recorded): agent1's leg ends, the consult leg parks at `back`
        await r.until("both parts recorded", lambda: _count(r.records(caller), 2))
        assert await r.records(caller) == [("agent1", "transferred"), ("agent2", "answered")]
        assert f"api uuid_bridge {caller} {consult}" in r.sent()
        r.assert_faithful()


async def test_agent2_hanging_up_during_the_consult_brings_agent1_back(tmp_path: Path) -> None:
    async with replaying("consult_consulted_hung_up", tmp_path) as r:
        caller, agent1, consult = await consulting_agent2(r)
        back = f"api uuid_bridge {caller} {agent1}"
        await r.until("agent1 back with the caller", lambda: r.sent().count(back) == 2)
        # the centre's cancel finds the leg gone (FreeSWITCH's -ERR, recorded: not an error)
        assert f"api uuid_kill {consult}" in r.sent()
        await r.until("the record", lambda: r.records(caller))
        assert await r.records(caller) == [("agent1", "answered")]
        r.assert_faithful()


async def test_an_agent_leaving_the_conference_leaves_the_other_two(tmp_path: Path) -> None:
    async with replaying("conference_agent_left", tmp_path) as r:
        caller, agent1, _ = await consulting_agent2(r)
        await r.until("agent2 on the consult", lambda: _is(r.agent(2), "on_call"))
        await r.call("POST", f"/v1/calls/{caller}/transfer/conference")
        await r.until("both parts recorded", lambda: _count(r.records(caller), 2))
        assert await r.records(caller) == [("agent1", "transferred"), ("agent2", "answered")]
        assert f"api uuid_transfer {agent1} -both {caller} XML ccgw-conf-agent" in r.sent()
        r.assert_faithful()


async def test_the_caller_leaving_during_the_consult_ends_both_agents_legs(tmp_path: Path) -> None:
    async with replaying("consult_caller_left", tmp_path) as r:
        caller, agent1, consult = await consulting_agent2(r)
        await r.until("the record", lambda: r.records(caller))
        assert await r.records(caller) == [("agent1", "answered")]
        await r.until("agent1 free", lambda: _is(r.agent(1), "available"))
        await r.until("agent2 free", lambda: _is(r.agent(2), "available"))
        # the centre ends the consulted leg, the adapter the consulting agent's
        await r.until("agent1's leg ended", lambda: f"api uuid_kill {agent1}" in r.sent())
        assert f"api uuid_kill {consult}" in r.sent()
        r.assert_faithful()


async def test_a_consult_that_rings_out_brings_agent1_back_by_itself(tmp_path: Path) -> None:
    async with replaying("consult_rang_out", tmp_path) as r:
        caller = await r.talking_to_agent1()
        await r.states({3: "available"})
        path = f"/v1/calls/{caller}/transfer"
        await r.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
        agent1, consult = await r.until(
            "agent3 rung", lambda: _originated(r.sent())[1:] and _originated(r.sent())
        )
        # FreeSWITCH's word (recorded): NO_ANSWER at the originate's timeout; the centre
        # cancels, and the agent leg, never bridged to the consult, is sent back itself
        back = f"api uuid_bridge {caller} {agent1}"
        await r.until("agent1 back with the caller", lambda: r.sent().count(back) == 2)
        sent = r.sent()
        assert sent.index(f"api uuid_kill {consult}") < sent.index(
            f"api uuid_transfer {agent1} back XML ccgw-consult"
        )
        await r.until("the record", lambda: r.records(caller))
        assert await r.records(caller) == [("agent1", "answered")]
        r.assert_faithful()


async def ringing_agent3(r: Replay) -> tuple[str, str, str]:
    caller = await r.talking_to_agent1()
    await r.states({3: "available"})
    path = f"/v1/calls/{caller}/transfer"
    await r.call("POST", path, {"target": "agent", "to": "agent3", "attended": True})
    agent1, consult = await r.until(
        "agent3 rung", lambda: _originated(r.sent())[1:2] and _originated(r.sent())[:2]
    )
    return caller, agent1, consult


async def test_the_caller_leaving_while_the_consult_rings_ends_every_leg(tmp_path: Path) -> None:
    async with replaying("consult_caller_left_ringing", tmp_path) as r:
        caller, agent1, consult = await ringing_agent3(r)
        await r.until("the record", lambda: r.records(caller))
        assert await r.records(caller) == [("agent1", "answered")]
        await r.until("agent1's leg ended", lambda: f"api uuid_kill {agent1}" in r.sent())
        assert f"api uuid_kill {consult}" in r.sent()
        await r.until("agent3 free", lambda: _is(r.agent(3), "available"))
        await r.states({3: "paused"})
        r.assert_faithful()


async def test_agent1_hanging_up_while_the_consult_rings_requeues_the_caller(
    tmp_path: Path,
) -> None:
    async with replaying("consult_agent_hung_up_ringing", tmp_path) as r:
        caller, _, consult = await ringing_agent3(r)
        await r.until("both records", lambda: _count(r.records(caller), 2))
        records = await r.records(caller)
        # back in the line, agent1 (no wrap-up here) took the caller again: so it went on
        # the real switch this time (tests/sandbox/test_freeswitch_transfers.py)
        assert records == [("agent1", "transferred"), ("agent1", "answered")]
        sent = r.sent()
        requeue = f"api uuid_transfer {caller} 330 XML ccgw-inbound"  # hold, then the line
        assert sent.count(requeue) == 2
        assert sent.index(f"api uuid_kill {consult}") < len(sent) - 1 - sent[::-1].index(requeue)
        r.assert_faithful()


def _first_line(command: str) -> str:
    return command.split("\n", 1)[0]


def _has(sent: list[str], prefix: str) -> list[str]:
    return [c for c in sent if c.startswith(prefix)]


def _originated(sent: list[str]) -> list[str]:
    return [m.group(1) for c in sent if (m := re.search(r"origination_uuid=([^,}]+)", c))]


def _uuid_of(raws: list[str]) -> str:
    """The caller: the channel that parked in the inbound context."""
    [uuid] = {
        m.group(1)
        for raw in raws
        if "Event-Name: CHANNEL_PARK" in raw and "Call-Direction: inbound" in raw
        if (m := re.search(r"\nUnique-ID: (\S+)", raw))
    }
    return uuid


async def _is(state: Any, expected: str) -> bool:
    return bool(await state == expected)


async def _count(records: Any, n: int) -> bool:
    return len(await records) >= n


def test_the_recordings_are_the_transcripts_format() -> None:
    for path in RECORDED.glob("consult_*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            assert set(record) == {"t", "conn", "dir", "raw"}, path
            assert "auth " not in record["raw"] or record["raw"] == "auth ClueCon\n\n"
