"""The sandbox's callees and the outbound dialplan (ccgw-outbound), on the real Asterisk.

The outside phone is switched to `callee` mode for these tests (and back to `answer` after
each): what each call does is in its number's last six digits, K RR TTT (callee.xml). Each
dial has an id of its own, so events of other tests' calls never match.
"""

from __future__ import annotations

import secrets
import struct
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from ccgateway.sandbox import Sandbox, SandboxError, audio
from ccgateway.sandbox.asterisk_config import MODULES, STATIC_FILES
from ccgateway.sandbox.phones import (
    OUTSIDE_MODES,
    check_outside_mode,
    phone_messages,
    write_callee_scenario,
)
from tests.sandbox.ami import AmiSession, Message

DIALPLAN = Path(__file__).resolve().parents[2] / "dialplans" / "asterisk" / "ccgateway.conf"
AUTO_ANSWER = "PJSIP_HEADER(add,Call-Info)=<sip:autoanswer.invalid>;answer-after=0"


def dial(number: str, amd: bool = True, timeout_ms: int = 15000, **variables: str) -> Message:
    """The Originate of one campaign call through the trunk, with an id of its own."""
    values = {"CCGW_AMD": "1" if amd else "0", "CCGW_ABANDON_SOUND": "beep", **variables}
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/+4930555{number}@trunk",
        "Context": "ccgw-outbound",
        "Exten": "test-campaign",
        "Priority": "1",
        "Async": "true",
        "ChannelId": f"ob-test-{secrets.token_hex(6)}",
        "Timeout": str(timeout_ms),
        "CallerID": '"Example Ltd" <+442071234567>',
        "Variable": ",".join(f"{k}={v}" for k, v in values.items()),
    }


def agent_leg(agent: int, customer: str) -> Message:
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/agent{agent}",
        "Context": "ccgw-agent",
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "ChannelId": f"ccgw-test-{secrets.token_hex(6)}",
        "Timeout": "15000",
        "Variable": f"CCGW_CALLER={customer},{AUTO_ANSWER}",
    }


def user_event(name: str, uniqueid: str) -> Callable[[Message], bool]:
    return lambda e: e.get("UserEvent") == name and e.get("Uniqueid") == uniqueid


def event(name: str, uniqueid: str) -> Callable[[Message], bool]:
    return lambda e: e.get("Event") == name and e.get("Uniqueid") == uniqueid


@pytest.fixture
def callees(asterisk_sandbox: Sandbox) -> Iterator[Sandbox]:
    asterisk_sandbox.set_outside("callee")
    try:
        yield asterisk_sandbox
    finally:
        asterisk_sandbox.set_outside("answer")


@pytest.fixture
async def ami(callees: Sandbox) -> AsyncIterator[AmiSession]:
    session = AmiSession()
    reply = await session.login(callees.ami_secret())
    assert reply["Response"] == "Success", reply
    yield session
    await session.close()


async def originate(ami: AmiSession, action: Message) -> str:
    reply = await ami.send(action)
    assert reply["Response"] == "Success", reply
    return action["ChannelId"]


# --- without Asterisk --------------------------------------------------------------------


def test_mu_law_of_silence_and_of_the_extremes() -> None:
    assert audio.ulaw(0) == 0xFF
    assert audio.ulaw(-1) == 0x7F
    assert audio.ulaw(32767) == 0x80 and audio.ulaw(-32768) == 0x00
    assert audio.ulaw(1000) == 0xCE  # G.711 table: 1000 -> segment 3


def test_the_pcap_holds_one_rtp_packet_per_20_ms() -> None:
    samples = audio.render([audio.Silence(100), audio.Tone(50)])
    assert len(samples) == 1200 and samples[:800] == b"\xff" * 800
    packets = audio.rtp_packets(samples)
    assert len(packets) == 8  # 1200 samples, the last packet padded to 160
    data = audio.pcap(packets)
    magic, major, minor, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1)
    offset, stamps = 24, []
    while offset < len(data):
        sec, usec, size, _ = struct.unpack("<IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + size]
        assert frame[12:14] == b"\x08\x00" and frame[14 + 9] == 17  # IPv4, UDP
        rtp = frame[14 + 20 + 8 :]
        assert rtp[0] == 0x80 and rtp[1] & 0x7F == 0 and len(rtp) == 12 + 160  # v2, PCMU
        stamps.append((sec * 1_000_000 + usec, struct.unpack("!HI", rtp[2:8])))
        offset += 16 + size
    assert [t for t, _ in stamps] == [i * 20_000 for i in range(8)]
    assert [seq_ts for _, seq_ts in stamps] == [(i, i * 160) for i in range(8)]


def test_the_callee_scenario_names_its_recordings(tmp_path: Path) -> None:
    if audio.tools_missing():
        pytest.skip("espeak-ng or sox is missing")
    scenario = write_callee_scenario(tmp_path).read_text()
    assert "@" + "PERSON@" not in scenario
    for name in audio.RECORDINGS:
        path = tmp_path / "audio" / f"{name}.pcap"
        assert f'play_pcap_audio="{path}"' in scenario and path.stat().st_size > 100_000


def test_outside_modes_and_the_modules_the_outbound_dialplan_needs() -> None:
    assert OUTSIDE_MODES == ("answer", "noanswer", "busy", "off", "callee")
    with pytest.raises(SandboxError, match="outside mode"):
        check_outside_mode("sometimes")
    for module in ("app_amd.so", "app_waitforsilence.so", "res_pjsip_header_funcs.so"):
        assert module in MODULES
    assert "[general]" in STATIC_FILES["amd.conf"]
    plan = DIALPLAN.read_text()
    for context in ("ccgw-outbound", "ccgw-outbound-ended"):
        assert f"\n[{context}]\n" in plan
    assert "\nexten => failed,1,Hangup()\n" in plan  # a failed originate's dummy channel


# --- on the real Asterisk -----------------------------------------------------------------


@pytest.mark.asterisk
async def test_a_person_is_live_and_an_auto_answered_agent_is_bridged_within_2_s(
    callees: Sandbox, ami: AmiSession
) -> None:
    customer = await originate(ami, dial("102000"))  # rings 2 s
    ringing = await ami.wait_for(event("Newstate", customer))
    assert ringing["ChannelState"] == "5" and ringing["Context"] == "ccgw-inbound"
    answered = await ami.wait_for(user_event("CCGWOutboundAnswered", customer))
    assert answered["Campaign"] == "test-campaign" and answered["Context"] == "ccgw-outbound"
    live = await ami.wait_for(user_event("CCGWOutboundLive", customer))
    assert (live["AMDStatus"], live["AMDCause"]) == ("HUMAN", "HUMAN-800-800")
    start = float(live["Answered"])
    assert 1.0 < float(live["At"]) - start < 1.9  # "Hello?", then 0.8 s of silence
    leg = await originate(ami, agent_leg(1, customer))
    await ami.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e["Uniqueid"] == customer)
    assert time.time() - start < 2.0  # this machine's clock is Asterisk's
    messages = phone_messages(callees.state_dir, 1).read_text(errors="replace")
    invite = messages[messages.rindex("INVITE sip:agent1@127.0.0.1:5071 SIP/2.0") :]
    assert "Call-Info: <sip:autoanswer.invalid>;answer-after=0" in invite[:2000]
    await ami.send({"Action": "Hangup", "Channel": leg, "Cause": "16"})
    ended = await ami.wait_for(user_event("CCGWOutboundEnded", customer))
    assert (ended["Phase"], ended["AgentLeg"], ended["Cause"]) == ("live", leg, "16")


@pytest.mark.asterisk
async def test_without_an_agent_the_person_hears_the_message_2_s_after_the_answer(
    callees: Sandbox, ami: AmiSession
) -> None:
    customer = await originate(ami, dial("100000"))
    abandoned = await ami.wait_for(user_event("CCGWOutboundAbandoned", customer))
    assert 1.99 <= float(abandoned["At"]) - float(abandoned["Answered"]) < 2.1
    play = await ami.wait_for(
        lambda e: (
            e.get("Event") == "Newexten"
            and e["Uniqueid"] == customer
            and e["Application"] == "Playback"
        )
    )
    assert play["AppData"] == "beep"
    hangup = await ami.wait_for(event("Hangup", customer))
    assert hangup["Cause"] == "16"
    ended = await ami.wait_for(user_event("CCGWOutboundEnded", customer))
    assert (ended["Phase"], ended["AgentLeg"]) == ("abandoned", "")


@pytest.mark.asterisk
async def test_an_answering_machine_is_detected_and_hung_up(
    callees: Sandbox, ami: AmiSession
) -> None:
    customer = await originate(ami, dial("200000", CCGW_MACHINE_ACTION="hangup"))
    machine = await ami.wait_for(user_event("CCGWOutboundMachine", customer))
    assert machine["AMDCause"].startswith(("MAXWORDS", "LONGGREETING"))
    assert float(machine["At"]) - float(machine["Answered"]) < 3.0
    ended = await ami.wait_for(user_event("CCGWOutboundEnded", customer))
    assert ended["Phase"] == "machine"
    assert not ami.seen(user_event("CCGWOutboundLive", customer))


@pytest.mark.asterisk
@pytest.mark.parametrize(
    ("number", "cause", "dial_status"),
    [("400000", "17", "BUSY"), ("500000", "1", "NOANSWER"), ("600000", "34", "CONGESTION")],
)
async def test_refused_numbers_fail_at_once_with_their_cause(
    callees: Sandbox, ami: AmiSession, number: str, cause: str, dial_status: str
) -> None:
    customer = await originate(ami, dial(number))
    hangup = await ami.wait_for(event("Hangup", customer))
    assert hangup["Cause"] == cause
    result = await ami.wait_for(event("OriginateResponse", customer))
    assert (result["Response"], result["Reason"]) == ("Failure", "0")
    end = await ami.wait_for(
        lambda e: e.get("Event") == "DialEnd" and e.get("DestUniqueid") == customer
    )
    assert end["DialStatus"] == dial_status
    assert not ami.seen(user_event("CCGWOutboundAnswered", customer))


@pytest.mark.asterisk
async def test_a_number_that_never_answers_times_out_and_the_callee_takes_the_cancel(
    callees: Sandbox, ami: AmiSession
) -> None:
    started = time.monotonic()
    customer = await originate(ami, dial("300000", timeout_ms=2000))  # the controller: 15 s+
    result = await ami.wait_for(event("OriginateResponse", customer))
    assert (result["Response"], result["Reason"]) == ("Failure", "3")
    assert 1.9 < time.monotonic() - started < 3.0
    assert (await ami.wait_for(event("Hangup", customer)))["Cause"] == "19"
    # The callee is still there for the next call.
    again = await originate(ami, dial("100005"))
    await ami.wait_for(user_event("CCGWOutboundAnswered", again))


@pytest.mark.asterisk
async def test_customers_who_hang_up_during_amd_or_while_waiting_for_an_agent(
    callees: Sandbox, ami: AmiSession
) -> None:
    in_amd = await originate(ami, dial("100005"))  # hangs up 0.5 s after the answer
    waiting = await originate(ami, dial("100018"))  # 1.8 s: after AMD's verdict
    for customer, phase in ((in_amd, "amd"), (waiting, "live")):
        ended = await ami.wait_for(user_event("CCGWOutboundEnded", customer))
        assert (ended["Phase"], ended["AgentLeg"]) == (phase, "")
        hangup = await ami.wait_for(event("Hangup", customer))
        assert hangup["Cause"] == "0"  # the callee's BYE: no cause from the far end
    assert ami.seen(user_event("CCGWOutboundLive", waiting))
    assert not ami.seen(user_event("CCGWOutboundLive", in_amd))
    assert not ami.seen(user_event("CCGWOutboundAbandoned", waiting))


@pytest.mark.asterisk
async def test_ring_time_and_plain_numbers_in_callee_mode(
    callees: Sandbox, ami: AmiSession
) -> None:
    late = await originate(ami, dial("103000", amd=False))  # answers after 3 s of ringing
    plain = await originate(ami, dial("", amd=False))  # "930555": K = 9, answers at once
    begun = time.monotonic()
    await ami.wait_for(user_event("CCGWOutboundAnswered", plain))
    assert time.monotonic() - begun < 1.0
    await ami.wait_for(user_event("CCGWOutboundAnswered", late))
    assert 2.8 < time.monotonic() - begun < 4.0
    for customer in (late, plain):
        await ami.send({"Action": "Hangup", "Channel": customer})
        await ami.wait_for(event("Hangup", customer))
    assert callees.status().outside == "callee"


@pytest.mark.asterisk
async def test_amd_parameters_a_not_sure_verdict_and_a_shorter_grace(
    callees: Sandbox, ami: AmiSession
) -> None:
    # totalAnalysisTime 1000 ms: AMD gives up before the "Hello?" ends; NOTSURE is live.
    action = dial("100000", CCGW_AMD_PARAMS="2500:1500:800:1000", CCGW_GRACE="1.5")
    customer = await originate(ami, action)
    live = await ami.wait_for(user_event("CCGWOutboundLive", customer))
    assert live["AMDStatus"] == "NOTSURE" and live["AMDCause"].startswith("TOOLONG")
    abandoned = await ami.wait_for(user_event("CCGWOutboundAbandoned", customer))
    assert 1.49 <= float(abandoned["At"]) - float(abandoned["Answered"]) < 1.6
    await ami.wait_for(event("Hangup", customer))
