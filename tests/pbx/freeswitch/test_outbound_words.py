"""Campaign dials and callbacks as ESL words (ccgateway/pbx/freeswitch/outbound.py): what the
adapter sends, and every value checked before it reaches the wire."""

from __future__ import annotations

import dataclasses

import pytest

from ccgateway.domain.commands import DialCallback, RingAgent
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.freeswitch import commands, esl, outbound, sounds
from ccgateway.ports import InvalidWireValue

TRUNK = "sofia/gateway/trunk/{number}"
DIAL = DialCustomer(
    dial_id="ob-0123456789abcdef",
    campaign_id="spring-sale",
    number="+442079102080",
    caller_id="+442071234567",
    caller_name="Example Ltd",
    ring_s=15,
    amd=True,
    machine_message="vm-nobodyavail",
    abandon_message="all-circuits-busy-now",
    grace_s=2.0,
    grace_counts_amd=True,
    pbx="freeswitch",
)


def variables(word: str) -> dict[str, str]:
    """An originate word's `{...}` as FreeSWITCH splits it (commas escaped with `\\`)."""
    inner = word[1 : word.index("}")]
    parts = inner.replace("\\,", "\0").split(",")
    return dict(p.replace("\0", ",").split("=", 1) for p in parts)


def dial_words(command: DialCustomer = DIAL) -> tuple[str, ...]:
    abandon, machine, _ = outbound.sounds(command, sounds.playback_path)
    return outbound.dial_customer(command, TRUNK, abandon, machine)


def test_a_campaign_dial_rings_the_customer_into_ccgw_outbound() -> None:
    words = dial_words()
    assert words[0] == "originate"
    assert words[1].endswith("}sofia/gateway/trunk/+442079102080")
    assert words[2:] == ("spring-sale", "XML", "ccgw-outbound")
    found = variables(words[1])
    assert found["origination_uuid"] == DIAL.dial_id
    # FreeSWITCH's whole seconds ended a 15 s ring at 14.86 s: one more, never less than 15
    assert found["originate_timeout"] == "16"
    assert found["origination_caller_id_number"] == "+442071234567"
    assert found["origination_caller_id_name"] == "Example\\sLtd"  # one word, a space in it
    assert (found["ccgw_amd"], found["ccgw_grace_ms"], found["ccgw_grace_after_amd"]) == (
        "1",
        "2000",
        "0",
    )
    assert found["ccgw_machine_action"] == "message"
    assert found["ccgw_machine_sound"] == sounds.SOUNDS["vm-nobodyavail"]
    assert found["ccgw_abandon_sound"] == sounds.SOUNDS["all-circuits-busy-now"]
    # AMD's figures are Asterisk's amd.conf defaults in 20 ms frames
    amd = outbound.AmdFigures()
    assert found["ccgw_amd_silence"] == str(amd.silence_frames) == "40"
    assert found["ccgw_amd_greeting_ms"] == "2300"
    # the whole command is one ESL line: nothing FreeSWITCH would split on is left
    esl.command("bgapi", *words)


def test_us_rules_count_the_grace_from_amd_s_verdict_and_a_machine_may_be_hung_up_on() -> None:
    us = dataclasses.replace(DIAL, grace_counts_amd=False, machine_message=None, amd=False)
    found = variables(dial_words(us)[1])
    assert (found["ccgw_amd"], found["ccgw_grace_after_amd"]) == ("0", "1")
    assert found["ccgw_machine_action"] == "hangup" and "ccgw_machine_sound" not in found


def test_a_message_with_no_freeswitch_meaning_is_never_silence() -> None:
    odd = dataclasses.replace(DIAL, abandon_message="acme-closed", machine_message="acme-vm")
    abandon, machine, notes = outbound.sounds(odd, sounds.playback_path)
    assert abandon == sounds.playback_path(outbound.DEFAULT_ABANDON)
    assert abandon.startswith("file_string://")
    assert machine is None and len(notes) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"dial_id": "ccgw-not-a-dial"},
        {"dial_id": "ob-x y"},
        {"campaign_id": "a"},  # one letter would be taken for a special extension
        {"campaign_id": "spring sale"},
        {"number": "+44 20"},
        {"number": "+4420&api"},
        {"caller_id": "+4420,origination_uuid=x"},
    ],
)
def test_values_that_would_change_the_command_are_refused(change: dict[str, str]) -> None:
    with pytest.raises(InvalidWireValue):
        dial_words(dataclasses.replace(DIAL, **change))  # type: ignore[arg-type]


def test_a_hostile_caller_name_stays_one_plain_word() -> None:
    hostile = dataclasses.replace(DIAL, caller_name="Eve}\\,api hupall{")
    found = variables(dial_words(hostile)[1])
    assert found["origination_caller_id_name"] == "Eve___api\\shupall_"


CALLBACK = DialCallback(
    leg_id="ccgw-0123456789abcdef",
    callback_id="cb1",
    agent_id="agent1",
    device="user/1001",
    number="+442079102080",
    caller_id="+442071234567",
    agent_ring_s=20,
    customer_ring_s=30,
    pbx="freeswitch",
)


def test_a_callback_rings_the_agent_into_ccgw_callback() -> None:
    words = outbound.dial_callback(CALLBACK, TRUNK)
    assert words[0] == "originate" and words[1].endswith("}user/1001")
    assert words[2:] == ("s", "XML", "ccgw-callback")
    found = variables(words[1])
    assert found["origination_uuid"] == CALLBACK.leg_id
    assert (found["originate_timeout"], found["ccgw_ring"]) == ("20", "31")
    assert found["ccgw_dial"] == "sofia/gateway/trunk/+442079102080"
    assert found["ccgw_cli"] == "+442071234567"
    no_cli = variables(
        outbound.dial_callback(dataclasses.replace(CALLBACK, caller_id=None), TRUNK)[1]
    )
    assert "ccgw_cli" not in no_cli
    esl.command("bgapi", *words)


@pytest.mark.parametrize(
    "change",
    [{"device": "loopback/1001"}, {"number": "1001 XML x"}, {"leg_id": "ob-1"}],
)
def test_callback_values_are_checked(change: dict[str, str]) -> None:
    with pytest.raises(InvalidWireValue):
        outbound.dial_callback(dataclasses.replace(CALLBACK, **change), TRUNK)  # type: ignore[arg-type]


def test_the_agent_leg_for_a_live_customer_answers_at_once_and_takes_the_customer() -> None:
    ring = RingAgent(
        leg_id="ccgw-aa", call_id=DIAL.dial_id, agent_id="agent1", device="user/1001",
        timeout_s=6, auto_answer=True, pbx="freeswitch", record_file="r1.wav",
    )  # fmt: skip
    words = outbound.originate_live_agent(ring, "/rec")
    found = variables(words[1])
    assert found["sip_auto_answer"] == "true"
    assert (found["origination_uuid"], found["ccgw_caller"]) == ("ccgw-aa", DIAL.dial_id)
    # the ordinary agent leg's own: the recording key, the recording from the answer
    assert found["execute_on_answer"] == "record_session:/rec/r1.wav"
    assert "execute_on_answer_ccgw_key" in found
    # on its answer, ccgw-outbound-agent claims the customer and bridges itself to it
    assert words[2:] == (DIAL.dial_id, "XML", "ccgw-outbound-agent")
    esl.command("bgapi", *words)
    inbound = dataclasses.replace(ring, call_id="bf839f41-3bae-493e-a551-a2ca2c1aa93e")
    with pytest.raises(InvalidWireValue):
        outbound.originate_live_agent(inbound, "/rec")
    assert commands.originate_agent(inbound)[2] == "&park()"  # inbound: the adapter bridges
