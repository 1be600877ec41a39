"""FreeSWITCH translation on the real transcripts' events."""

from __future__ import annotations

import json

import pytest

from ccgateway.domain.commands import Monitor, MonitorMode, RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    Feature,
    FeatureCodeDialled,
    LegFailure,
    MachineDetected,
)
from ccgateway.pbx.freeswitch import commands, translate
from ccgateway.ports import InvalidWireValue
from tests.fixtures.esl import transcript


def events(name: str) -> list[dict[str, str]]:
    lines = transcript(name).read_text().splitlines()
    return [m["event"] for m in map(json.loads, lines) if "event" in m]


def translated(name: str, context: str = "default") -> list[object]:
    return [e for ev in events(name) if (e := translate.to_event(ev, context)) is not None]


def test_a_parked_customer_waits_and_registrations_are_device_states() -> None:
    got = translated("14_agent_register_originate_bridge")
    assert (
        CallWaiting("bf839f41-3bae-493e-a551-a2ca2c1aa93e", "5000", "15551230000", "sipp caller")
        in got
    )
    assert got[0] == DeviceStateChanged("user/1001", DeviceState.AVAILABLE)
    assert got[-1] == DeviceStateChanged("user/1001", DeviceState.UNAVAILABLE)  # expired
    assert {e.channel_id for e in got if isinstance(e, ChannelHungUp)} == {
        "bf839f41-3bae-493e-a551-a2ca2c1aa93e",
        "63748d66-36a3-44fd-94a7-c3226b6b0cfe",
    }


def test_a_caller_s_name_and_number_lose_their_control_characters() -> None:
    [park] = [
        e
        for e in events("14_agent_register_originate_bridge")
        if e.get("Event-Name") == "CHANNEL_PARK" and e.get("Call-Direction") == "inbound"
    ]
    # As decoded from the wire: `%0A` and `%1B` arrive as the characters themselves.
    hostile = park | {
        "Caller-Caller-ID-Name": "Eve\nAction: Hangup\x1b[2J\t<img src=x>",
        "Caller-Caller-ID-Number": "+49\r\n30",
    }
    waiting = translate.to_event(hostile, "default")
    assert isinstance(waiting, CallWaiting)
    assert (waiting.caller_name, waiting.caller_number) == (
        "EveAction: Hangup[2J\t<img src=x>",
        "+4930",
    )


def test_parks_outside_our_context_are_not_callers() -> None:
    assert not any(
        isinstance(e, CallWaiting)
        for e in translated("14_agent_register_originate_bridge", "ccgw-inbound")
    )


def test_only_our_legs_count_as_agent_answers() -> None:
    leg = {"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "ccgw-abc"}
    assert translate.to_event(leg) == AgentLegAnswered("ccgw-abc")
    assert translate.to_event({**leg, "Unique-ID": "someone-else"}) is None
    assert not any(
        isinstance(e, AgentLegAnswered) for e in translated("14_agent_register_originate_bridge")
    )


def test_originate_failures_name_the_leg_and_the_cause() -> None:
    failed = [e for e in translated("10_originate_failure") if isinstance(e, AgentLegFailed)]
    assert failed == [
        AgentLegFailed(
            "0cb2a970-c3db-44b7-b1cb-948e6ffa91d6", LegFailure.UNREACHABLE, "NO_ROUTE_DESTINATION"
        ),
        AgentLegFailed(
            "fff0ffc4-3da1-47e3-90ba-caba758b035e",
            LegFailure.UNREACHABLE,
            "NORMAL_TEMPORARY_FAILURE",
        ),
    ]
    causes = {
        e.cause_text: e.cause
        for e in translated("10_originate_failure")
        if isinstance(e, ChannelHungUp)
    }
    assert causes == {"NO_ROUTE_DESTINATION": 3, "USER_BUSY": 17, "NORMAL_TEMPORARY_FAILURE": 41}


def test_an_avmd_beep_is_a_machine_hint() -> None:
    hints = {e for e in translated("16_avmd_beep") if isinstance(e, MachineDetected)}
    assert hints == {
        MachineDetected("d678954c-1b68-4c66-ae0e-9850a187a1b1", "avmd beep at 1000 Hz")
    }


def test_the_resync_reads_show_channels_as_json() -> None:
    raw = next(
        json.loads(line)["raw"]
        for line in transcript("11_sipp_uac_park").read_text().splitlines()
        if '"row_count":1' in json.loads(line)["raw"]
    )
    snapshot = translate.to_snapshot(
        raw.split("\n\n", 1)[1], inbound_context="default", now=1795340480.0
    )
    [caller] = snapshot.callers
    assert (caller.call_id, caller.extension, caller.caller_number) == (
        "d75cdc50-0307-4649-bad5-0bee963d3e3a",
        "5000",
        "sipp",
    )
    assert 0.0 <= caller.age_s <= 5.0
    assert translate.to_snapshot('{"row_count": 0}').callers == ()


def test_ring_agent_becomes_a_checked_originate() -> None:
    ring = RingAgent("ccgw-1", "bf83", "a", "user/1001", 15, "+49 30 1", 'Eve "x", y')
    assert commands.originate_agent(ring) == (
        "originate",
        "{origination_uuid=ccgw-1,ccgw_caller=bf83,originate_timeout=15,"
        "origination_caller_id_number=+49301,origination_caller_id_name=Eve__x___y,"
        r"execute_on_answer_ccgw_key=bind_meta_app:0\sa\ss\sevent::Event-Name=CUSTOM"
        r"\,Event-Subclass=ccgw::recording_toggle,ccgw_device=user/1001,"
        # from the answer, the leg's end mark at its hang-up (dialplans/freeswitch)
        r"execute_on_answer_ccgw_end=execute_extension:leg\sXML\sccgw-end-mark,"
        "RECORD_BRIDGE_REQ=true}user/1001",
        "&park()",
    )
    with pytest.raises(InvalidWireValue):
        commands.originate_agent(RingAgent("ccgw-1", "c", "a", "user/1001 &hupall", 15))


@pytest.mark.parametrize(
    ("mode", "variables"),
    [
        ("listen", ""),
        ("whisper", ",eavesdrop_whisper_aleg=true"),
        ("barge", ",eavesdrop_bridge_aleg=true,eavesdrop_bridge_bleg=true"),
    ],
)
def test_monitoring_is_eavesdrop_on_the_agent_leg(mode: str, variables: str) -> None:
    command = Monitor("ccgw-leg", "user/2001", MonitorMode(mode))
    assert commands.eavesdrop(command) == (
        "originate",
        f"{{origination_caller_id_name={mode},origination_caller_id_number=monitor{variables}}}"
        "user/2001",
        "&eavesdrop(ccgw-leg)",
    )


def test_a_feature_code_event_names_the_agent_s_device() -> None:
    """Transcript 14's channel data of a phone calling in (the `event` application fires on
    the caller's own channel) plus what the dialplan adds; the events a real FreeSWITCH
    sent for the feature codes are in test_recorded_fixes.py."""
    channel = next(
        e
        for e in events("14_agent_register_originate_bridge")
        if e.get("Event-Name") == "CHANNEL_PARK" and e.get("Call-Direction") == "inbound"
    )
    fired = {**channel, "Event-Name": "CUSTOM", "Event-Subclass": "ccgw::feature"}
    assert translate.to_event({**fired, "ccgw_feature": "pause", "ccgw_code": "2"}) == (
        FeatureCodeDialled("user/15551230000", Feature.PAUSE, 2)
    )
    assert translate.to_event({**fired, "ccgw_feature": "logout"}) == FeatureCodeDialled(
        "user/15551230000", Feature.LOGOUT, None
    )
    assert translate.to_event({**fired, "ccgw_feature": "reboot"}) is None
    spoofed = {**fired, "ccgw_feature": "available", "variable_user_name": "x/../y z"}
    assert translate.to_event(spoofed) is None


def test_the_commands_freeswitch_does_are_checked_words() -> None:
    assert commands.transfer_out("u1", "sofia/gateway/trunk/{number}", "+4940555") == (
        "uuid_transfer",
        "u1",
        "bridge:sofia/gateway/trunk/+4940555",
        "inline",
    )
    assert commands.set_variable("u1", "ccgw_sound", "ivr/ivr-hold.wav") == (
        "uuid_setvar",
        "u1",
        "ccgw_sound",
        "ivr/ivr-hold.wav",
    )
    for bad in (lambda: commands.transfer_out("u1", "sofia/gateway/t/{number}", "1 2"),
                lambda: commands.set_variable("u1", "ccgw_sound", "a b"),
                lambda: commands.check_dial_template("sofia/{number}/{number}")):  # fmt: skip
        with pytest.raises(InvalidWireValue):
            bad()
