"""The pure AMI translation on traffic recorded from the sandbox's Asterisk 22.

tests/fixtures/ami/two_calls.ami: what Asterisk sent while one customer called 200 and was
answered by agent1 (leg `ccgw-leg-answer`) and another called 201 and was rung to agent2,
whose phone never answered (leg `ccgw-leg-noanswer`, 2 s ring timeout); mid-way the
controller asked for CoreShowChannels and DeviceStateList.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallbackAnswered,
    CallbackFailed,
    CallbackRequested,
    CallWaiting,
    ChannelHungUp,
    ConsentHeard,
    DeviceState,
    Feature,
    FeatureCodeDialled,
    LegFailure,
    RecordingToggled,
    VoicemailEnded,
)
from ccgateway.pbx.asterisk import actions, translate
from ccgateway.pbx.asterisk.ami import AmiMessage, AmiParser, encode_action, parse_message
from ccgateway.ports import InvalidWireValue

RECORDED = (Path(__file__).parents[2] / "fixtures/ami/two_calls.ami").read_bytes()


def messages(data: bytes) -> list[AmiMessage]:
    """A recorded stream (banner first) through the client's own parser."""
    return AmiParser().feed(data)


RECORDED_MESSAGES = messages(RECORDED)


def events() -> list[object]:
    return [e for m in RECORDED_MESSAGES if (e := translate.to_event(m)) is not None]


def test_the_recorded_calls_become_the_domain_events_the_core_needs() -> None:
    got = events()
    waiting = [e for e in got if isinstance(e, CallWaiting)]
    assert sorted((w.extension, w.caller_number) for w in waiting) == [
        ("200", "+4930123456"),
        ("201", "+4930654321"),
    ]
    assert [e for e in got if isinstance(e, AgentLegAnswered)] == [
        AgentLegAnswered("ccgw-leg-answer")
    ]
    assert [e for e in got if isinstance(e, AgentLegFailed)] == [
        AgentLegFailed("ccgw-leg-noanswer", LegFailure.NO_ANSWER, "originate reason 3")
    ]
    hangups = {e.channel_id: e.cause for e in got if isinstance(e, ChannelHungUp)}
    assert hangups["ccgw-leg-noanswer"] == 19
    assert hangups["ccgw-leg-answer"] == 16
    assert {w.call_id for w in waiting} <= set(hangups)


def test_the_recorded_resync_is_a_faithful_snapshot() -> None:
    channels = [m for m in RECORDED_MESSAGES if m.get("ActionID") == "resync-channels"]
    devices = [m for m in RECORDED_MESSAGES if m.get("ActionID") == "resync-devices"]
    snapshot = translate.to_snapshot(channels, devices)
    assert sorted(c.extension for c in snapshot.callers) == ["200", "201"]
    legs = {leg.leg_id: leg for leg in snapshot.agent_legs}
    answered, ringing = legs["ccgw-leg-answer"], legs["ccgw-leg-noanswer"]
    caller_200 = next(c.call_id for c in snapshot.callers if c.extension == "200")
    assert (answered.device, answered.caller_id, answered.answered) == (
        "PJSIP/agent1",
        caller_200,
        True,
    )
    assert (ringing.device, ringing.answered) == ("PJSIP/agent2", False)
    states = {d.device: d.state for d in snapshot.devices}
    assert states["PJSIP/agent1"] is DeviceState.IN_USE
    assert states["PJSIP/agent2"] is DeviceState.RINGING


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00:07", 7.0), ("01:02:03", 3723.0), ("", 0.0), ("x", 0.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert translate.duration_s(text) == seconds


@pytest.mark.parametrize(
    ("stamp", "at"),
    [("1796617839.123456", 1796617839.123456), ("", None), ("yesterday", None), ("-1", None)],
)
def test_an_agent_s_answer_carries_asterisk_s_own_time_when_it_stamps_events(
    stamp: str, at: float | None
) -> None:
    """manager.conf `timestampevents = yes` puts `Timestamp` on every event (the sandbox
    sets it); the call's answer is then Asterisk's moment, not the controller's reading."""
    message = {"Event": "UserEvent", "UserEvent": "CCGWAgentAnswered", "Uniqueid": "ccgw-1"}
    if stamp:
        message["Timestamp"] = stamp
    assert translate.to_event(message) == AgentLegAnswered("ccgw-1", at)


def test_an_originate_carries_the_leg_id_and_a_clean_caller_id() -> None:
    ring = RingAgent(
        "ccgw-1", "1795.1", "a1", "PJSIP/agent1", 15, "+49 (30) 1", 'Eve "<sip:x>"\x07,'
    )
    action = actions.originate_agent(ring)
    assert action["ActionID"] == action["ChannelId"] == "ccgw-1"
    assert action["Timeout"] == "15000" and action["Variable"] == "CCGW_CALLER=1795.1"
    assert action["CallerID"] == '"Eve sip:x" <+49301>'
    assert encode_action(action).endswith(b"\r\n\r\n")


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\0b"])
def test_encoding_refuses_line_breaks_and_nul_anywhere(bad: str) -> None:
    with pytest.raises(InvalidWireValue):
        encode_action({"Action": "Hangup", "Channel": bad})
    with pytest.raises(InvalidWireValue):
        encode_action({"Action": "Hangup", bad: "x"})
    with pytest.raises(InvalidWireValue):
        encode_action({"Action": "Originate", "Variable": ["A=1", bad]})


@pytest.mark.parametrize(
    ("given", "priority"),
    [("7", 7), ("0", 0), ("100", 100), ("", None), ("101", None), ("x", None)],
)
def test_the_dialplan_priority_reaches_the_call_when_it_is_0_to_100(
    given: str, priority: int | None
) -> None:
    message = {"Event": "UserEvent", "UserEvent": "CCGWWaiting", "Uniqueid": "u1",
               "Queue": "200", "Priority": "4", "CCGWPriority": given}  # fmt: skip
    event = translate.to_event(message)
    assert isinstance(event, CallWaiting) and event.priority == priority  # not Asterisk's "4"


def test_feature_codes_name_the_phone_by_its_device() -> None:
    message = {"Event": "UserEvent", "UserEvent": "CCGWFeature", "Feature": "pause",
               "Code": "12", "Channel": "PJSIP/agent-1-0000002a"}  # fmt: skip
    assert translate.to_event(message) == FeatureCodeDialled("PJSIP/agent-1", Feature.PAUSE, 12)
    message |= {"Feature": "reboot"}
    assert translate.to_event(message) is None


@pytest.mark.parametrize(("refused", "expected"), [("1", True), ("0", False), ("", False)])
def test_the_end_of_the_recording_notice_says_whether_the_caller_refused(
    refused: str, expected: bool
) -> None:
    message = {"Event": "UserEvent", "UserEvent": "CCGWConsent", "Uniqueid": "u1",
               "Queue": "200", "Refused": refused}  # fmt: skip
    assert translate.to_event(message) == ConsentHeard("u1", expected)


def test_the_in_call_recording_key_names_the_agent_leg_that_pressed_it() -> None:
    message = {"Event": "UserEvent", "UserEvent": "CCGWRecordingToggle",
               "Uniqueid": "ccgw-leg-1", "Channel": "PJSIP/agent1-00000001"}  # fmt: skip
    assert translate.to_event(message) == RecordingToggled("ccgw-leg-1")


# --- the controller's other contexts, recorded (tests/fixtures/ami/record_call_handling.py) --

HANDLING = messages((Path(__file__).parents[2] / "fixtures/ami/call_handling.ami").read_bytes())


def channel_lists() -> list[list[AmiMessage]]:
    """Each CoreShowChannels answer of the recording, in order."""
    lists: dict[str, list[AmiMessage]] = {}
    for m in HANDLING:
        if m.get("Event") == "CoreShowChannel":
            lists.setdefault(m.get("ActionID", ""), []).append(m)
    return list(lists.values())


def test_a_resync_finds_callers_in_every_context_and_what_each_agent_leg_is_doing() -> None:
    announce, talking, consult, conference, callback = (
        translate.to_snapshot(channels, []) for channels in channel_lists()
    )
    [caller_a] = announce.callers  # hearing an announcement, not in the holding bridge
    assert (caller_a.extension, announce.agent_legs) == ("200", ())
    [caller_b] = talking.callers
    [leg] = talking.agent_legs
    assert (leg.caller_id, leg.role, leg.answered, leg.bridged) == (
        caller_b.call_id,
        "agent",
        True,
        True,
    )
    assert [c.call_id for c in consult.callers] == [caller_b.call_id]  # holding, with music
    roles = {(leg.leg_id, leg.caller_id, leg.role) for leg in consult.agent_legs}
    assert roles == {
        ("ccgw-rec-agent1", caller_b.call_id, "agent"),
        ("ccgw-rec-agent2", caller_b.call_id, "consulted"),
    }
    assert [c.extension for c in conference.callers] == ["201"]
    assert {(leg.caller_id, leg.role) for leg in conference.agent_legs} == {
        (caller_b.call_id, "conference")
    }
    # The callback's outside leg (ccgw-inbound, no extension, AppDial) is no caller.
    assert callback.callers == ()
    [dialling] = callback.agent_legs
    assert (dialling.leg_id, dialling.role, dialling.bridged) == (
        "ccgw-rec-agent3",
        "callback",
        True,
    )


def test_the_key_the_callback_and_the_busy_line_become_domain_events() -> None:
    got = [e for m in HANDLING if (e := translate.to_event(m)) is not None]
    assert [
        e for e in got if isinstance(e, CallbackRequested | CallbackAnswered | CallbackFailed)
    ] == [
        CallbackRequested(channel_lists()[0][0]["Uniqueid"]),
        CallbackAnswered("ccgw-rec-agent3"),
        CallbackFailed("ccgw-rec-busy", LegFailure.BUSY, "dial status BUSY"),
    ]
    answered = [e.leg_id for e in got if isinstance(e, AgentLegAnswered)]
    assert answered == ["ccgw-rec-agent1", "ccgw-rec-agent2", "ccgw-rec-agent3", "ccgw-rec-busy"]


# --- caller names: AMI's C escapes over the SIP quoted-string's quoted-pairs ---------------
# `wire` is CallerIDName as AMI sends it (Asterisk 22, seen in tests/sandbox/test_caller_name.py):
# pjsip keeps the From header's `\"` and `\\`, then ast_escape_c puts a backslash before
# `\` `"` `'` `?` and writes control characters as `\n`, `\t`, ...

CALLER_NAMES = [
    (r"O\'Brien", "O'Brien"),
    (r"O\'Brien\?", "O'Brien?"),
    (r"Who\?", "Who?"),
    (r"\\\"Ltd\\\"", '"Ltd"'),
    (r"a\\\\b", "a\\b"),
    (r"ends\\\\", "ends\\"),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    (r"\\\"><script>alert(1)</script>", '"><script>alert(1)</script>'),
    (r"O\'Brien & Sons / \\\"Ltd\\\" \\\\ [field0]", 'O\'Brien & Sons / "Ltd" \\ [field0]'),
    ("Zoë Ñandú", "Zoë Ñandú"),
    (r"tab\there", "tab\there"),  # tab is text
    # Control characters never reach the domain, whether escaped or raw.
    (r"two\nlines\r", "twolines"),
    (r"bell\a" + "\x01\x1b[31m\x7f\x85", "bell[31m"),
    # Asterisk cuts a From name at 80 bytes (res_pjsip.c), perhaps inside a quoted-pair.
    (r"cut\\", "cut\\"),
    # Not what Asterisk writes, and never an error: a lone trailing backslash stays; `\x` is
    # no C escape, so AMI's layer keeps it and the SIP layer reads a quoted-pair for `x`.
    ("ends\\", "ends\\"),
    (r"a\xb", "axb"),
    ("\\", "\\"),
    ("", ""),
    ("<unknown>", ""),
    (None, ""),
]


@pytest.mark.parametrize(("wire", "name"), CALLER_NAMES)
def test_a_caller_name_reads_as_the_caller_wrote_it(wire: str | None, name: str) -> None:
    assert translate.caller_name(wire) == name


@pytest.mark.parametrize(("wire", "name"), [(w, n) for w, n in CALLER_NAMES if w])
def test_the_waiting_caller_and_the_resync_carry_the_name_unescaped(wire: str, name: str) -> None:
    waiting = {"Event": "UserEvent", "UserEvent": "CCGWWaiting", "Uniqueid": "u1",
               "Queue": "200", "CallerIDNum": "+4930123", "CallerIDName": wire}  # fmt: skip
    assert translate.to_event(waiting) == CallWaiting("u1", "200", "+4930123", name)
    channel = {"Event": "CoreShowChannel", "Uniqueid": "u1", "Context": "ccgw-inbound",
               "Exten": "200", "Application": "Wait", "Duration": "00:00:05",
               "CallerIDNum": "+4930123", "CallerIDName": wire}  # fmt: skip
    [caller] = translate.to_snapshot([channel], []).callers
    assert (caller.caller_number, caller.caller_name) == ("+4930123", name)


@pytest.mark.parametrize(
    ("wire", "number"),
    [("+4930123", "+4930123"), ("<unknown>", ""), (None, ""), (r"12\'3", r"12\'3"),
     ("+49\x0030", "+4930")],
)  # fmt: skip
def test_a_caller_number_is_not_unescaped_for_ami_does_not_escape_it(
    wire: str | None, number: str
) -> None:
    assert translate.caller_number(wire) == number


@pytest.mark.parametrize(
    ("wire", "text"),
    [(r"O\'Brien\?", "O'Brien?"), (r"\\\"", r'\"'), (r"\n\t", "\n\t"), (r"a\xb", r"a\xb"),
     ("end\\", "end\\")],
)  # fmt: skip
def test_ami_unescape_undoes_c_escapes_and_keeps_what_it_does_not_know(
    wire: str, text: str
) -> None:
    assert translate.ami_unescape(wire) == text


@pytest.mark.parametrize(
    ("quoted", "text"),
    [(r'\"a\"', '"a"'), (r"a\\b", "a\\b"), (r"\x", "x"), ("end\\", "end\\"),
     (r"\ë", r"\ë"), ("\\\n", "\\\n")],
)  # fmt: skip
def test_sip_unquote_undoes_quoted_pairs_only(quoted: str, text: str) -> None:
    assert translate.sip_unquote(quoted) == text


# What Asterisk does, written from its source: ast_escape_c (main/utils.c), which AMI applies
# to CallerIDName, and ast_escape_quoted (main/utils.c), which escapes everything that is no
# qdtext in a SIP quoted-string (as a sender, sipp's From header here, must).
C_ESCAPED = dict(zip("\a\b\f\n\r\t\v\\'\"?", "abfnrtv\\'\"?", strict=True))


def ami_escape(text: str) -> str:
    return "".join("\\" + C_ESCAPED[c] if c in C_ESCAPED else c for c in text)


def sip_quote(text: str) -> str:
    def is_qdtext(c: str) -> bool:
        return c in "\t\v !" or "#" <= c <= "[" or "]" <= c <= "~" or ord(c) > 0x7F

    return "".join(c if is_qdtext(c) else "\\" + c for c in text)


TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\\\"'?<>&;/\t"),
    max_size=80,
)


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_any_name_comes_back_as_the_caller_wrote_it(name: str) -> None:
    assume(name not in translate.UNKNOWN)
    assert translate.caller_name(ami_escape(sip_quote(name))) == name


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_wire_text_reads_as_a_name_without_control_characters(wire: str) -> None:
    name = translate.caller_name(wire)
    assert all(c == "\t" or unicodedata.category(c) != "Cc" for c in name)


@pytest.mark.parametrize(
    ("status", "returned", "failure"),
    [
        ("", "", "no VoiceMail application on the PBX (VoiceMail() never ran)"),
        ("FAILED", "1", "VoiceMail() took no message for mailbox 200@ccgw"),
        ("FAILED", "", ""),  # the caller hung up during the greeting
        ("SUCCESS", "1", ""),
        ("USEREXIT", "1", ""),
    ],
)
def test_how_a_voicemail_ended_becomes_a_domain_event(
    status: str, returned: str, failure: str
) -> None:
    """UserEvent CCGWVoicemailEnded, as ccgw-voicemail-ended sends it (empty headers too)."""
    block = (
        "Event: UserEvent\r\nPrivilege: user,all\r\nChannel: PJSIP/trunk-00000007\r\n"
        "Uniqueid: 1733330000.14\r\nUserEvent: CCGWVoicemailEnded\r\nMailbox: 200@ccgw\r\n"
        f"VMStatus: {status}\r\nReturned: {returned}"
    )
    message = parse_message(block)
    assert message is not None
    assert translate.to_event(message) == VoicemailEnded("1733330000.14", failure)
