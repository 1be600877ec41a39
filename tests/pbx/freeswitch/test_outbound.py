"""Outbound campaigns and callbacks as a real FreeSWITCH 1.10.12 put them on the wire.

Recorded on 2026-12-06 by tests/sandbox/test_freeswitch_outbound.py (CCGW_ESL_CAPTURE) from a
FreeSWITCH built by hand, dialplans/freeswitch as shipped, the sandbox's gateway `trunk` to a
sipp callee that behaves as each number says (sandbox/scenarios/callee.xml) and sipp agent
phones; `recorded/outbound_*.esl` hold the event frames of a raw Event Socket listener byte
for byte, `recorded/outbound_channels.json` FreeSWITCH's `show channels as json` with one
customer talking to an agent and one still ringing:

- outbound_list.esl: a campaign dialling a person ("Hello?"), an answering machine (an 8 s
  greeting, a beep), a busy line, an invalid number, one that never answers and a silent
  line;
- outbound_abandoned.esl: a person with no agent to take them: the message at the grace;
  outbound_abandoned_us.esl the same under the US rules (the grace from AMD's verdict);
- outbound_preview.esl: a preview accepted by its agent: the agent's leg, then the customer;
  outbound_preview_busy.esl the same to a busy line.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from ccgateway.domain.events import (
    AgentLegAnswered,
    CallbackAnswered,
    CallbackFailed,
    ChannelHungUp,
    LegFailure,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundFailed,
    OutboundLive,
    PbxEvent,
    PbxResynced,
)
from ccgateway.pbx.freeswitch import esl, outbound, translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.freeswitch.client import EventHeaders

RECORDED = Path(__file__).parent / "recorded"
NUMBER = re.compile(r"origination_uuid=(ob-[^,}]+).*\}sofia/gateway/trunk/(\+\d+)")


def recorded_events(name: str) -> list[EventHeaders]:
    frames = esl.EslParser().feed((RECORDED / name).read_bytes())
    return [e for f in frames if (e := esl.parse_event(f)) is not None]


def as_adapter_reads(event: EventHeaders) -> PbxEvent | None:
    """What the adapter itself (FreeSwitchPbx._on_event, its link up) hands the centre for
    one event."""
    pbx = FreeSwitchPbx(password="replay", inbound_context=translate.INBOUND_CONTEXT)
    handed: list[PbxEvent] = []
    pbx._gate.emit = handed.append
    pbx._on_event(event)
    assert len(handed) <= 1
    return handed[0] if handed else None


def by_number(events: list[EventHeaders]) -> dict[str, list[PbxEvent]]:
    """Each dialled number's domain events, in order (the dial id is named by the originate's
    own arguments in its BACKGROUND_JOB)."""
    numbers = {
        m.group(1): m.group(2) for e in events if (m := NUMBER.search(e.get("Job-Command-Arg", "")))
    }
    found: dict[str, list[PbxEvent]] = defaultdict(list)
    for event in events:
        domain = as_adapter_reads(event)
        dial = getattr(domain, "dial_id", None) or getattr(domain, "channel_id", None)
        if domain is not None and dial in numbers:
            found[numbers[dial]].append(domain)
    return found


def seconds(later: EventHeaders, earlier: EventHeaders) -> float:
    return (int(later["Event-Date-Timestamp"]) - int(earlier["Event-Date-Timestamp"])) / 1e6


def test_every_outcome_of_a_list_as_the_dialer_hears_it() -> None:
    events = recorded_events("outbound_list.esl")
    found = by_number(events)
    person, machine = found["+442079102080"], found["+442079202000"]
    dial = person[0].dial_id  # type: ignore[union-attr]
    assert person[:2] == [OutboundAnswered(dial), OutboundLive(dial, "human")]
    assert isinstance(person[-1], ChannelHungUp) and person[-1].cause == 16
    mid = machine[0].dial_id  # type: ignore[union-attr]
    assert machine[0] == OutboundAnswered(mid)
    assert machine[1] == MachineDetected(mid, "LONGGREETING-2300")  # AMD's verdict
    assert isinstance(machine[2], MachineDetected) and "avmd beep" in machine[2].detail
    assert not any(isinstance(e, OutboundLive) for e in machine)
    # never answered: the channel's hang-up, then the originate's -ERR, the same failure
    assert {(type(e), e.failure) for e in found["+442079400000"]} == {  # type: ignore[attr-defined]
        (OutboundFailed, LegFailure.BUSY)
    }
    assert {(type(e), e.failure) for e in found["+442079300000"]} == {  # type: ignore[attr-defined]
        (OutboundFailed, LegFailure.NO_ANSWER)
    }
    assert {(type(e), e.failure) for e in found["+442079500000"]} == {  # type: ignore[attr-defined]
        (OutboundFailed, LegFailure.UNREACHABLE)  # 404: the dialer's "failed"
    }
    silent = found["+442079700000"]
    assert isinstance(silent[1], MachineDetected)
    assert silent[1].detail == "INITIALSILENCE-2500"  # no voice within 2.5 s
    # a failed customer dial is never taken for an agent leg's failure
    assert all(type(e).__name__ != "AgentLegFailed" for es in found.values() for e in es)


def test_the_person_s_agent_leg_answers_at_once_claims_and_is_bridged_within_2_s() -> None:
    events = recorded_events("outbound_list.esl")
    [live] = [e for e in events if e.get("ccgw_step") == "live"]
    dial = live["Unique-ID"]
    [answered] = [e for e in events if e.get("ccgw_step") == "answered" and e["Unique-ID"] == dial]
    [claim] = [
        e
        for e in events
        if e.get("Application") == "hash" and dial in e.get("Application-Data", "")
    ]
    leg = claim["Unique-ID"]
    assert claim["Application-Data"] == f"insert_ifempty/ccgw_claim/{dial}/{leg}"
    leg_answer = next(
        e for e in events if e["Event-Name"] == "CHANNEL_ANSWER" and e["Unique-ID"] == leg
    )
    # the answer at FreeSWITCH's own microsecond
    at = int(leg_answer["Caller-Channel-Answered-Time"]) / 1e6
    assert as_adapter_reads(leg_answer) == AgentLegAnswered(leg, at)
    [bridge] = [e for e in events if e["Event-Name"] == "CHANNEL_BRIDGE"]
    assert {bridge["Unique-ID"], bridge["Other-Leg-Unique-ID"]} == {dial, leg}
    assert seconds(bridge, answered) < 2.0
    assert seconds(live, answered) < 1.8  # AMD's HUMAN: "Hello?" and 0.8 s of silence
    # the leg was originated with the auto-answer header and the claim
    [job] = [e for e in events if f"origination_uuid={leg}" in e.get("Job-Command-Arg", "")]
    assert "sip_auto_answer=true" in job["Job-Command-Arg"]


def test_the_abandon_message_starts_2_s_after_the_answer() -> None:
    events = recorded_events("outbound_abandoned.esl")
    [abandoned] = [e for e in events if e.get("ccgw_step") == "abandoned"]
    dial = abandoned["Unique-ID"]
    assert as_adapter_reads(abandoned) == OutboundAbandoned(dial)
    late = (int(abandoned["ccgw_at_us"]) - int(abandoned["ccgw_answered_us"])) / 1e6
    assert 1.9 <= late <= 2.05
    [message] = [
        e for e in events if e.get("Application") == "playback" and e.get("Unique-ID") == dial
    ]
    assert 0 <= seconds(message, abandoned) < 0.1
    [hangup] = [e for e in events if e["Event-Name"] == "CHANNEL_HANGUP" and e["Unique-ID"] == dial]
    assert hangup["variable_ccgw_phase"] == "abandoned"
    assert as_adapter_reads(hangup) == ChannelHungUp(dial, 16, "NORMAL_CLEARING")


def test_under_us_rules_the_grace_runs_from_amd_s_verdict() -> None:
    events = recorded_events("outbound_abandoned_us.esl")
    [live] = [e for e in events if e.get("ccgw_step") == "live"]
    [abandoned] = [e for e in events if e.get("ccgw_step") == "abandoned"]
    at = int(abandoned["ccgw_at_us"]) / 1e6
    assert 1.9 <= at - int(live["Event-Date-Timestamp"]) / 1e6 <= 2.05
    assert at - int(abandoned["ccgw_answered_us"]) / 1e6 > 2.5  # AMD's time did not count
    assert as_adapter_reads(live) == OutboundLive(live["Unique-ID"], "human")


def test_a_preview_is_the_agent_s_leg_then_the_customer() -> None:
    events = recorded_events("outbound_preview.esl")
    got = [
        d
        for e in events
        if isinstance(d := as_adapter_reads(e), (AgentLegAnswered, CallbackAnswered))
    ]
    [first, second] = got
    assert isinstance(first, AgentLegAnswered) and second == CallbackAnswered(first.leg_id)
    assert first.leg_id.startswith("ccgw-")


def test_events_on_channels_that_are_not_the_dialer_s_mean_nothing() -> None:
    """A step event or a callback's answer names its channel by the ids the controller chose
    (ob-, ccgw-): anything else (a caller's channel, a forged variable) is not a dial's."""
    events = recorded_events("outbound_list.esl")
    [live] = [e for e in events if e.get("ccgw_step") == "live"]
    assert outbound.to_event({**live, "Unique-ID": "bf839f41-3bae-493e-a551-a2ca2c1aa93e"}) is None
    answer = next(
        e
        for e in recorded_events("outbound_preview.esl")
        if e["Event-Name"] == "CHANNEL_ANSWER" and e.get("variable_ccgw_callback_leg")
    )
    assert outbound.to_event({**answer, "variable_ccgw_callback_leg": "ob-x"}) is None
    unknown_step = {**live, "ccgw_step": "exploded"}
    assert outbound.to_event(unknown_step) is None


def test_a_preview_to_a_busy_line_fails_busy_on_the_agent_s_leg() -> None:
    events = recorded_events("outbound_preview_busy.esl")
    got = [
        d
        for e in events
        if isinstance(d := as_adapter_reads(e), (AgentLegAnswered, CallbackFailed))
    ]
    [answered, failed] = got
    assert isinstance(answered, AgentLegAnswered)
    assert failed == CallbackFailed(answered.leg_id, LegFailure.BUSY, "dial status USER_BUSY")


@pytest.mark.parametrize(
    "name", ["outbound_list.esl", "outbound_preview.esl", "outbound_preview_busy.esl"]
)
def test_the_recorded_custom_events_are_subscribed(name: str) -> None:
    for event in recorded_events(name):
        if event["Event-Name"] == "CUSTOM":
            assert event["Event-Subclass"] in (*translate.CUSTOM, *outbound.CUSTOM)


def test_a_resync_finds_the_talking_customer_and_the_ringing_one() -> None:
    rows = (RECORDED / "outbound_channels.json").read_text()
    created = min(float(r["created_epoch"]) for r in json.loads(rows)["rows"])
    snapshot = translate.to_snapshot(rows, now=created + 10)
    found = outbound.with_outbound(snapshot, rows, created + 10)
    stages = sorted((d.stage, d.campaign_id) for d in found.outbound)
    assert stages == [("agent", "e2e-out"), ("ringing", "")]
    [talking] = [d for d in found.outbound if d.stage == "agent"]
    # the agent leg names the customer it talks to: the dialer's recovery adopts the talk
    assert [leg.caller_id for leg in found.agent_legs if leg.answered] == [talking.dial_id]
    # and its agent's device, the user it dialled (its extension is now take~<dial>)
    assert [leg.device for leg in found.agent_legs] == ["user/1001"]
    assert all(0 < d.age_s <= 10 for d in found.outbound)
    assert time.time() > created  # the rows are a real switch's, from the past
    assert PbxResynced() != found
