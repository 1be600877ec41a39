"""A predictive dialer's calls as Asterisk 22 reported them (tests/fixtures/ami/outbound.ami,
recorded by tests/fixtures/ami/record_outbound.py), as domain events; and the actions that
place them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    ChannelHungUp,
    LegFailure,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundFailed,
    OutboundLive,
    PbxEvent,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.actions import Actions, originate_agent
from ccgateway.ports import InvalidWireValue
from tests.pbx.asterisk.test_translate import messages

RECORDING = messages((Path(__file__).parents[2] / "fixtures/ami/outbound.ami").read_bytes())


def events_by_dial() -> dict[str, list[PbxEvent]]:
    found: dict[str, list[PbxEvent]] = defaultdict(list)
    for message in RECORDING:
        event = translate.to_event(message)
        key = getattr(event, "dial_id", None) or getattr(event, "channel_id", None)
        if event is not None and isinstance(key, str) and key.startswith("ob-"):
            found[key].append(event)
    return found


def kinds(events: list[PbxEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_each_outcome_becomes_the_events_the_dialer_acts_on() -> None:
    got = events_by_dial()
    live = ["OutboundAnswered", "OutboundLive", "ChannelHungUp"]
    assert kinds(got["ob-rec-1"]) == live  # a person, bridged to an agent
    assert kinds(got["ob-rec-2"]) == [*live[:2], "OutboundAbandoned", "ChannelHungUp"]
    for machine in ("ob-rec-3", "ob-rec-4", "ob-rec-5"):  # hang-up, message, silent line
        assert kinds(got[machine]) == ["OutboundAnswered", "MachineDetected", "ChannelHungUp"]
    assert kinds(got["ob-rec-10"]) == ["OutboundAnswered", "ChannelHungUp"]  # left during AMD
    assert kinds(got["ob-rec-11"]) == live  # left while waiting for an agent
    live_event = got["ob-rec-1"][1]
    assert isinstance(live_event, OutboundLive) and live_event.amd == "human"
    machine_event = got["ob-rec-5"][1]
    assert isinstance(machine_event, MachineDetected)
    assert machine_event.detail.startswith("INITIALSILENCE")


@pytest.mark.parametrize(
    ("dial", "failure"),
    [
        ("ob-rec-6", LegFailure.NO_ANSWER),  # rang out (15 s)
        ("ob-rec-7", LegFailure.BUSY),  # 486: the cause comes before the vague response
        ("ob-rec-8", LegFailure.UNREACHABLE),  # 404
        ("ob-rec-9", LegFailure.UNREACHABLE),  # 503
    ],
)
def test_a_dial_never_answered_fails_first_with_its_cause(dial: str, failure: LegFailure) -> None:
    first = events_by_dial()[dial][0]
    assert isinstance(first, OutboundFailed) and first.failure is failure


def test_the_failed_originates_dummy_channel_is_not_a_dial() -> None:
    for message in RECORDING:
        if message.get("Channel", "").startswith("OutgoingSpoolFailed"):
            event = translate.to_event(message)
            assert not isinstance(event, (OutboundFailed, OutboundAnswered, OutboundLive))


def test_a_resync_sees_where_each_campaign_customer_is() -> None:
    lists: dict[str, list[dict[str, str]]] = {}
    for m in RECORDING:
        if m.get("Event") == "CoreShowChannel":
            lists.setdefault(m.get("ActionID", ""), []).append(dict(m))
    ringing, amd, talking = (translate.to_snapshot(c, []) for c in lists.values())
    assert ringing.callers == ()  # in the trunk's context, dialling: not a caller of a queue
    assert [(d.dial_id, d.stage, d.campaign_id) for d in ringing.outbound] == [
        ("ob-rec-1", "ringing", "")
    ]
    assert [(d.stage, d.campaign_id) for d in amd.outbound] == [("answered", "spring-offer")]
    [leg] = talking.agent_legs
    assert [d.stage for d in talking.outbound] == ["agent"] and leg.caller_id == "ob-rec-1"


def test_the_agent_leg_and_the_rest_of_the_recording_still_translate() -> None:
    agent = [translate.to_event(m) for m in RECORDING if m.get("Uniqueid") == "ccgw-rec-agent1"]
    assert AgentLegAnswered("ccgw-rec-agent1") in agent
    assert any(isinstance(e, ChannelHungUp) for e in agent)
    assert OutboundAbandoned("ob-rec-2") in events_by_dial()["ob-rec-2"]


def dial(**changes: object) -> DialCustomer:
    base = dict(
        dial_id="ob-1a2b",
        campaign_id="spring-offer",
        number="+447700900123",
        caller_id="+442071234567",
        caller_name="Example Ltd",
        ring_s=20.0,
        amd=True,
        machine_message=None,
        abandon_message="ccgw-sorry",
        grace_s=2.0,
        grace_counts_amd=True,
    )
    return DialCustomer(**{**base, **changes})  # type: ignore[arg-type]


def test_a_dial_is_an_originate_into_ccgw_outbound_with_the_campaign_as_extension() -> None:
    [action] = Actions("trunk").dial_customer(dial())
    assert action["Channel"] == "PJSIP/+447700900123@trunk"
    assert (action["Context"], action["Exten"], action["ChannelId"]) == (
        "ccgw-outbound",
        "spring-offer",
        "ob-1a2b",
    )
    assert action["Timeout"] == "20000" and action["CallerID"] == '"Example Ltd" <+442071234567>'
    variables = dict(v.split("=", 1) for v in action["Variable"].split(","))
    assert variables["CCGW_AMD"] == "1" and variables["CCGW_MACHINE_ACTION"] == "hangup"
    assert variables["CCGW_GRACE"] == "2.000" and variables["CCGW_GRACE_AFTER_AMD"] == "0"
    us = Actions().dial_customer(dial(grace_counts_amd=False, machine_message="leave-msg"))[0]
    assert "CCGW_GRACE_AFTER_AMD=1" in us["Variable"]
    assert "CCGW_MACHINE_ACTION=message" in us["Variable"]


@pytest.mark.parametrize(
    "bad",
    [
        {"dial_id": "ccgw-1"},  # the agent legs' prefix
        {"campaign_id": "h"},  # a special extension
        {"campaign_id": "failed"},
        {"number": "+44 77"},
        {"abandon_message": "x,y"},
        {"caller_id": "anonymous"},
    ],
)
def test_what_cannot_go_on_the_wire_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidWireValue):
        Actions().dial_customer(dial(**bad))


def test_a_dialers_agent_leg_asks_the_phone_to_answer_at_once() -> None:
    ring = RingAgent("ccgw-9", "ob-1a2b", "a1", "PJSIP/agent1", 5.0, auto_answer=True)
    variable = originate_agent(ring)["Variable"]
    assert variable.startswith("CCGW_CALLER=ob-1a2b,")
    assert "PJSIP_HEADER(add,Call-Info)=<sip:autoanswer.invalid>;answer-after=0" in variable
    plain = originate_agent(RingAgent("ccgw-9", "c1", "a1", "PJSIP/agent1", 5.0))
    assert plain["Variable"] == "CCGW_CALLER=c1"
