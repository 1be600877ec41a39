"""The AMI actions built for each command (the recording in call_handling.ami shows Asterisk
doing what they ask: tests/fixtures/ami/record_call_handling.py): their shape, and values
that must never reach the wire."""

from __future__ import annotations

import pytest

from ccgateway.domain.commands import (
    Announce,
    Conference,
    DialCallback,
    PlayConsent,
    PlayMessage,
    RingAgent,
    RingConsult,
    SendToVoicemail,
    StartConsult,
    StartRecording,
    TransferOut,
)
from ccgateway.pbx.asterisk.actions import Actions, originate_agent
from ccgateway.ports import InvalidWireValue

A = Actions("trunk")


def test_an_announcement_sets_every_part_then_redirects_by_the_queue_s_extension() -> None:
    setvars = A.announce(Announce("1.5", "200", 3, 150.0, None, True))
    assert [(s["Variable"], s["Value"]) for s in setvars[:-1]] == [
        ("CCGW_POSITION", "3"),
        ("CCGW_EWT_MIN", "2"),  # minutes, rounded, at least 1
        ("CCGW_COMFORT", ""),  # cleared, so an earlier one does not play again
        ("CCGW_OFFER_CALLBACK", "1"),
    ]
    assert setvars[-1] | {"ActionID": ""} == {
        "Action": "Redirect",
        "Channel": "1.5",
        "Context": "ccgw-announce",
        "Exten": "200",
        "Priority": "1",
        "ActionID": "",
    }


def test_the_recording_notice_names_its_sound_and_key_then_redirects() -> None:
    *setvars, move = A.consent(PlayConsent("1.5", "200", "custom/recorded&beep", "9"))
    assert [(s["Variable"], s["Value"]) for s in setvars] == [
        ("CCGW_NOTICE", "custom/recorded&beep"),
        ("CCGW_REFUSE_KEY", "9"),
    ]
    assert (move["Action"], move["Context"], move["Exten"]) == ("Redirect", "ccgw-consent", "200")
    *cleared, _ = A.consent(PlayConsent("1.5", "200", "recorded"))
    assert cleared[1]["Value"] == ""  # no key left from an earlier notice
    for bad in (PlayConsent("1.5", "200", "x,System(id)"), PlayConsent("1.5", "200", "n", "#")):
        with pytest.raises(InvalidWireValue):
            A.consent(bad)


def test_a_callback_rings_the_agent_into_the_dialling_context() -> None:
    [originate] = A.callback(
        DialCallback("ccgw-x", "cb", "a", "PJSIP/agent3", "+4940", "+4930", 20, 25)
    )
    assert originate["Variable"] == "CCGW_DIAL=PJSIP/+4940@trunk,CCGW_RING=25,CCGW_CLI=+4930"
    assert (originate["Context"], originate["ChannelId"], originate["Timeout"]) == (
        "ccgw-callback",
        "ccgw-x",
        "20000",
    )


def test_consults_and_conferences_name_the_caller_in_the_extension() -> None:
    [dual] = A.start_consult(StartConsult("1.5", "ccgw-a", "201"))
    assert (dual["Exten"], dual["ExtraChannel"], dual["ExtraExten"]) == ("201", "ccgw-a", "1.5")
    [ring] = A.ring_consult(RingConsult("ccgw-b", "1.5", "ccgw-a", "+4940", True, "", 30))
    assert (ring["Channel"], ring["Exten"], ring["Variable"]) == (
        "PJSIP/+4940@trunk",
        "1.5",
        "CCGW_CONSULT=ccgw-a",
    )
    agents, caller = A.conference(Conference("1.5", ("ccgw-a", "ccgw-b"), "201"))
    assert (agents["Channel"], agents["ExtraChannel"], agents["Exten"]) == (
        "ccgw-a",
        "ccgw-b",
        "1.5",
    )
    assert (caller["Channel"], caller["Context"], caller["Exten"]) == (
        "1.5",
        "ccgw-conf-caller",
        "201",
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: A.message(PlayMessage("1.5", "../../etc/passwd")),
        lambda: A.message(PlayMessage("1.5", "beep,Hangup")),
        lambda: A.voicemail(SendToVoicemail("1.5", "200@ccgw,x")),
        lambda: A.transfer_out(TransferOut("1.5", "+49 40 123")),
        lambda: A.transfer_out(TransferOut("1.5", "123@evil")),
        lambda: A.announce(Announce("1.5", "20x", 1, None)),
        lambda: A.start_consult(StartConsult("1.5,X=1", "ccgw-a", "200")),
        lambda: A.callback(DialCallback("l", "cb", "a", "PJSIP/a", "+4940", "1,CCGW_X=1", 20, 20)),
        lambda: Actions("trunk;x"),
    ],
)
def test_values_that_could_break_out_of_their_field_are_refused(build: object) -> None:
    with pytest.raises(InvalidWireValue):
        build()  # type: ignore[operator]


def test_a_stereo_recording_is_mixmonitor_d_into_raw_audio() -> None:
    ring = RingAgent(
        "ccgw-l1", "1.5", "a1", "PJSIP/a1", 20, record_file="rec-1.wav", record_stereo=True
    )
    originate = originate_agent(ring, "/var/spool/asterisk/monitor")
    assert originate["Variable"].endswith(
        ",CCGW_RECORD=/var/spool/asterisk/monitor/rec-1.raw,CCGW_RECORD_OPTIONS=bD"
    )
    [start] = A.record(StartRecording("rec-1", "1.5", "ccgw-l1", "rec-1.wav", stereo=True))
    assert (start["File"].rsplit("/", 1)[1], start["Options"]) == ("rec-1.raw", "bD")
    [mono] = A.record(StartRecording("rec-1", "1.5", "ccgw-l1", "rec-1.wav"))
    assert (mono["File"].rsplit("/", 1)[1], mono["Options"]) == ("rec-1.wav", "b")
