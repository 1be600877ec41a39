"""The sandbox and the ccgateway dialplan, on the real Asterisk: what the rest relies on.

Every call here uses a caller number of its own and queue extensions in the 9xx range, so
events of other tests' calls never match.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccgateway.domain.commands import (
    Announce,
    Conference,
    DialCallback,
    PlayMessage,
    ReturnToQueue,
    RingAgent,
    RingConsult,
    SendToFallback,
    SendToVoicemail,
    StartConsult,
    TransferOut,
)
from ccgateway.pbx.asterisk import actions, translate
from ccgateway.pbx.asterisk.actions import Actions
from ccgateway.sandbox import Sandbox, SandboxError, asterisk_config, freeswitch_config
from ccgateway.sandbox.asterisk_config import SandboxConfig, render
from ccgateway.sandbox.rootfs import mounts_under
from tests.conftest import SESSION_AGENTS
from tests.sandbox.ami import AmiSession, Message

DIALPLAN = Path(__file__).resolve().parents[2] / "dialplans" / "asterisk" / "ccgateway.conf"


def new_caller() -> str:
    return f"+4939{secrets.randbelow(9_000_000) + 1_000_000}"


def originate(agent: int, caller_uniqueid: str, leg_id: str, timeout_ms: int = 15000) -> Message:
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/agent{agent}",
        "Context": "ccgw-agent",
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "ChannelId": leg_id,
        "Timeout": str(timeout_ms),
        "Variable": f"CCGW_CALLER={caller_uniqueid}",
    }


def leg_id() -> str:
    return f"ccgw-test-{secrets.token_hex(6)}"


async def waiting_caller(ami: AmiSession, caller: str) -> Message:
    return await ami.wait_for(
        lambda e: e.get("UserEvent") == "CCGWWaiting" and e.get("CallerIDNum") == caller
    )


async def bridge_enter(ami: AmiSession, uniqueid: str) -> Message:
    """`uniqueid` entering a bridge other than the holding one."""
    return await ami.wait_for(
        lambda e: (
            e.get("Event") == "BridgeEnter"
            and e["Uniqueid"] == uniqueid
            and e["BridgeTechnology"] != "holding_bridge"
        )
    )


@pytest.fixture
async def ami(asterisk_sandbox: Sandbox) -> AsyncIterator[AmiSession]:
    session = AmiSession()
    reply = await session.login(asterisk_sandbox.ami_secret())
    assert reply["Response"] == "Success", reply
    yield session
    await session.close()


# --- without Asterisk --------------------------------------------------------------------


def test_generated_config_has_every_agent_and_keeps_the_secret_in_manager_conf() -> None:
    files = render(SandboxConfig(3, "s3cret", "/m"), {"ccgateway.conf": "; plan"})
    pjsip = files["pjsip.conf"]
    assert "[agent3]" in pjsip and "[agent4]" not in pjsip
    assert "contact = sip:agent3@127.0.0.1:5073" in pjsip
    assert "match = 127.0.0.1:5073" in pjsip  # by port: IP alone would be the trunk's
    assert "match = 127.0.0.1:5090" in pjsip
    assert "qualify_frequency = 2" in pjsip
    assert "#include ccgateway.conf" in files["extensions.conf"]
    assert files["ccgateway.conf"] == "; plan"
    assert "secret = s3cret" in files["manager.conf"]
    assert "bindaddr = 127.0.0.1" in files["manager.conf"]
    assert "\nwrite = call,originate,reporting\n" in files["manager.conf"]  # README
    # the controller's user is README's "AMI user", its event filters included, word for word
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    controller_user = files["manager.conf"].split("[ccgateway]")[1].split("\n[")[0]
    for line in ["read = call,user,dialplan", *translate.manager_filters()]:
        assert f"\n{line}\n" in controller_user
        assert f"\n   {line}" in readme, line
    assert all("s3cret" not in text for name, text in files.items() if name != "manager.conf")
    with pytest.raises(ValueError, match="not a plain"):
        render(SandboxConfig(1, "s", "/m"), {"pjsip.conf": "; would replace ours"})


def adapter_contexts() -> set[str]:
    """Every context an action sends a channel to, and every one the resync reads."""
    a = Actions()
    sent = [
        *a.fallback(SendToFallback("1.1", "x")),
        *a.message(PlayMessage("1.1", "beep")),
        *a.voicemail(SendToVoicemail("1.1", "200@ccgw")),
        *a.announce(Announce("1.1", "200", 3, 60.0, "beep", True)),
        *a.callback(DialCallback("ccgw-l", "cb-1", "a1", "PJSIP/agent1", "+4930", None, 20, 30)),
        *a.requeue(ReturnToQueue("1.1", "201")),
        *a.transfer_out(TransferOut("1.1", "+4930")),
        *a.start_consult(StartConsult("1.1", "ccgw-l", "200")),
        *a.ring_consult(RingConsult("ccgw-m", "1.1", "ccgw-l", "PJSIP/agent2", False, "", 30)),
        *a.conference(Conference("1.1", ("ccgw-l", "ccgw-m"), "200")),
        actions.originate_agent(RingAgent("ccgw-l", "1.1", "a1", "PJSIP/agent1", 15)),
    ]
    named = {v for action in sent for k, v in action.items() if k in ("Context", "ExtraContext")}
    return named | translate.CALLER_CONTEXTS | set(translate.LEG_ROLES) | {translate.OUTBOUND}


def test_two_hundred_agents_have_ports_of_their_own_clear_of_everything_else() -> None:
    """The load benchmark needs 200 agent phones (issue 14); before, the scheme 5070+K ran
    into the trunk's 5090 at agent 20."""
    agents = range(1, asterisk_config.MAX_AGENTS + 1)
    sip = [asterisk_config.phone_port(k) for k in agents]
    media = [asterisk_config.phone_media_port(k) for k in agents]
    assert len(set(sip)) == len(sip) == 200 and (sip[0], sip[18], sip[19]) == (5071, 5089, 6020)
    fixed = {
        asterisk_config.AMI_PORT,
        asterisk_config.SIP_PORT,
        asterisk_config.TRUNK_PORT,
        freeswitch_config.ESL_PORT,
        freeswitch_config.TRUNK_PORT,
        *(freeswitch_config.phone_port(k) for k in range(freeswitch_config.MAX_AGENTS + 1)),
    }
    assert not fixed & set(sip)
    # each phone's RTP takes its port and the next two; nothing else sends or listens there
    taken = [range(m, m + 3) for m in media]
    assert all(a.stop <= b.start for a, b in itertools.pairwise(taken))
    others = [
        range(asterisk_config.RTP_PORTS[0], asterisk_config.RTP_PORTS[1] + 1),
        range(freeswitch_config.RTP_PORTS[0], freeswitch_config.RTP_PORTS[1] + 1),
        range(16600, 16603),  # the Asterisk sandbox's outside phone
        range(freeswitch_config.TRUNK_MEDIA_PORT, freeswitch_config.TRUNK_MEDIA_PORT + 3),
        *(range(m, m + 3) for m in map(freeswitch_config.phone_media_port, range(1, 20))),
    ]
    assert not [(a, b) for a in taken for b in others if set(a) & set(b)]
    assert max(media) + 2 < 32768  # below the kernel's ephemeral ports
    pjsip = render(SandboxConfig(25, "s3cret", "/m"), {"ccgateway.conf": "; plan"})["pjsip.conf"]
    assert "contact = sip:agent25@127.0.0.1:6025" in pjsip and "match = 127.0.0.1:6025" in pjsip


def test_the_second_asterisk_has_ports_and_folders_clear_of_every_other_sandbox() -> None:
    """`sandbox up --asterisks 2` (issue 14, several PBXs): every port the second Asterisk,
    its phones and its outside phone use is taken by nothing else any sandbox runs; it has
    folders of its own in the shared root, and its files name only its own ports."""
    first, second = asterisk_config.FIRST, asterisk_config.SECOND

    def signalling(layout: asterisk_config.Layout) -> list[int]:
        phones = [layout.phone_port(k) for k in range(1, layout.max_agents + 1)]
        return [layout.ami_port, layout.sip_port, layout.trunk_port, *phones]

    def media(layout: asterisk_config.Layout) -> list[range]:
        rtp = range(layout.rtp_ports[0], layout.rtp_ports[1] + 1)
        phones = [layout.phone_media_port(k) for k in range(1, layout.max_agents + 1)]
        outside = layout.outside_media_port
        return [rtp, range(outside, outside + 3), *(range(m, m + 3) for m in phones)]

    fs_signalling = [
        freeswitch_config.ESL_PORT,
        freeswitch_config.SIP_PORT,
        freeswitch_config.TRUNK_PORT,
        *map(freeswitch_config.phone_port, range(1, freeswitch_config.MAX_AGENTS + 1)),
    ]
    fs_media = [
        range(freeswitch_config.RTP_PORTS[0], freeswitch_config.RTP_PORTS[1] + 1),
        range(freeswitch_config.TRUNK_MEDIA_PORT, freeswitch_config.TRUNK_MEDIA_PORT + 3),
        *(range(m, m + 3) for m in map(freeswitch_config.phone_media_port, range(1, 20))),
    ]
    # Signalling (TCP or UDP, one port each) and media (UDP ranges) share one number space.
    every = [
        *(range(p, p + 1) for p in (*signalling(first), *signalling(second), *fs_signalling)),
        *media(first),
        *media(second),
        *fs_media,
    ]
    clashes = [
        (a, b) for a, b in itertools.combinations(every, 2) if a.start < b.stop and b.start < a.stop
    ]
    assert not clashes
    assert max(r.stop for r in media(second)) < 32768  # below the kernel's ephemeral ports
    assert first.name == "asterisk" and second.name == "asterisk2"
    assert not set(first.work_dirs) & set(second.work_dirs) and first.conf_dir != second.conf_dir
    files = render(SandboxConfig(3, "s3cret", "/m", layout=second), {"ccgateway.conf": "; plan"})
    assert "\nport = 5138\n" in files["manager.conf"]
    assert "bind = 127.0.0.1:5160" in files["pjsip.conf"]
    assert "contact = sip:127.0.0.1:5190" in files["pjsip.conf"]
    assert "contact = sip:agent3@127.0.0.1:7003" in files["pjsip.conf"]
    assert files["rtp.conf"] == "[general]\nrtpstart = 24000\nrtpend = 26999\n"
    assert "astrundir => /run/ccgateway-sandbox2" in files["asterisk.conf"]
    assert "astdbdir => /var/lib/ccgateway-sandbox2" in files["asterisk.conf"]
    assert "\nsystemname = asterisk2\n" in files["asterisk.conf"]  # uniqueids of its own
    # the first's files are as they were
    files = render(SandboxConfig(3, "s3cret", "/m"), {"ccgateway.conf": "; plan"})
    assert "\nport = 5038\n" in files["manager.conf"] and "rtpstart = 20000" in files["rtp.conf"]
    assert "astrundir => /run/ccgateway-sandbox\n" in files["asterisk.conf"]
    assert "systemname" not in files["asterisk.conf"]


def test_the_dialplan_defines_every_context_the_adapter_names() -> None:
    plan = DIALPLAN.read_text()
    named = adapter_contexts() | {"ccgw-resume", "ccgw-agent-gone"}
    assert len(named) >= 17
    for context in sorted(named):
        assert f"\n[{context}]\n" in plan, context
    assert "n(hold),Set(CCGW_LEFT=$[${CCGW_DEADLINE}-${EPOCH}])" in plan


def test_every_context_of_the_dialplan_has_a_way_in() -> None:
    """No dead context: each is one the adapter names, one another line of the plan goes to
    (Goto, F(), a hang-up handler, ...), ccgw-features, which the phones' own context
    includes (README), or one a SIP endpoint of the sandbox's enters (ccgw-trunk-agents:
    the trunk from the other sandbox Asterisk)."""
    lines = DIALPLAN.read_text().splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith(";"))
    defined = re.findall(r"^\[([\w-]+)\]$", code, re.MULTILINE)
    assert len(defined) >= 20
    pjsip = render(SandboxConfig(2, "s", "/m"), {})["pjsip.conf"]
    endpoints = set(re.findall(r"^context = (ccgw-[\w-]+)$", pjsip, re.MULTILINE))
    assert "ccgw-trunk-agents" in endpoints
    entered = adapter_contexts() | {"ccgw-features"} | endpoints
    for context in defined:
        reached = re.search(rf"[^\w\[-]{re.escape(context)}(?![\w-])", code)
        assert context in entered or reached, context


def test_bad_arguments_are_refused_before_anything_starts() -> None:
    sandbox = Sandbox(state_dir=Path("/nonexistent/ccgw-test"))
    if os.geteuid() == 0:
        with pytest.raises(SandboxError, match="agents must be 1-200"):
            sandbox.up(agents=201)
        with pytest.raises(SandboxError, match="phone mode"):
            sandbox.up(agents=2, phones={1: "sometimes"})
        with pytest.raises(SandboxError, match="no agent 3"):
            sandbox.up(agents=2, phones={3: "off"})
    with pytest.raises(SandboxError, match="not running"):
        sandbox.call("900")


# --- on the real Asterisk -----------------------------------------------------------------


@pytest.mark.asterisk
def test_the_sandbox_runs_asterisk_22_with_reachable_phones(asterisk_sandbox: Sandbox) -> None:
    status = asterisk_sandbox.status()
    assert status.running and status.asterisk_version.startswith("Asterisk 22.")
    assert [p.agent for p in status.phones] == list(range(1, SESSION_AGENTS + 1))
    assert all(p.alive and p.mode == "answer" and p.contact == "Avail" for p in status.phones)
    secret_file = asterisk_sandbox.state_dir / "ami-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(asterisk_sandbox.ami_secret()) >= 24


@pytest.mark.asterisk
async def test_ami_accepts_the_generated_secret_only(asterisk_sandbox: Sandbox) -> None:
    good, bad = AmiSession(), AmiSession()
    try:
        assert (await good.login(asterisk_sandbox.ami_secret()))["Response"] == "Success"
        assert (await bad.login("not-the-secret"))["Response"] == "Error"
    finally:
        await good.close()
        await bad.close()


@pytest.mark.asterisk
async def test_a_customer_is_announced_and_waits_in_bridgewait_with_music(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    caller = new_caller()
    batch = asterisk_sandbox.call("901", hangup_after=3, caller=caller)
    waiting = await waiting_caller(ami, caller)
    uniqueid = waiting["Uniqueid"]
    assert waiting["Queue"] == "901" and waiting["Context"] == "ccgw-inbound" and uniqueid
    await ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart" and e["Uniqueid"] == uniqueid)
    channels = await ami.list_action({"Action": "CoreShowChannels"}, "CoreShowChannelsComplete")
    mine = [c for c in channels if c.get("Uniqueid") == uniqueid]
    assert len(mine) == 1
    assert mine[0]["Application"] == "BridgeWait"
    assert mine[0]["ApplicationData"].startswith("ccgw-hold,participant,m(default)")
    assert mine[0]["Exten"] == "901" and mine[0]["CallerIDNum"] == caller
    outcome = batch.wait(timeout_s=15)  # the caller hangs up after 3 s on hold
    assert (outcome.completed, outcome.failed) == (1, 0)
    hangup = await ami.wait_for(lambda e: e.get("Event") == "Hangup" and e["Uniqueid"] == uniqueid)
    assert hangup["Cause"] == "16"


@pytest.mark.asterisk
async def test_an_agent_leg_bridges_the_caller_and_its_hangup_ends_the_call_cleanly(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    caller = new_caller()
    asterisk_sandbox.call("902", hangup_after=20, caller=caller)
    uniqueid = (await waiting_caller(ami, caller))["Uniqueid"]
    leg = leg_id()
    reply = await ami.send(originate(2, uniqueid, leg))
    assert reply["Response"] == "Success", reply
    result = await ami.wait_for(
        lambda e: e.get("Event") == "OriginateResponse" and e.get("Uniqueid") == leg
    )
    assert (result["Response"], result["Reason"]) == ("Success", "4")
    answered = await ami.wait_for(
        lambda e: e.get("UserEvent") == "CCGWAgentAnswered" and e["Uniqueid"] == leg
    )
    assert answered["Caller"] == uniqueid
    caller_in, agent_in = [await bridge_enter(ami, who) for who in (uniqueid, leg)]
    assert caller_in["BridgeUniqueid"] == agent_in["BridgeUniqueid"]

    # The agent hangs up: the caller is hung up too, without a false hold timeout.
    await ami.send({"Action": "Hangup", "Channel": leg, "Cause": "16"})
    hangup = await ami.wait_for(lambda e: e.get("Event") == "Hangup" and e["Uniqueid"] == uniqueid)
    assert hangup["Cause"] == "16" and hangup["Context"] == "ccgw-agent-gone"
    assert not ami.seen(
        lambda e: e.get("UserEvent") == "CCGWHoldTimeout" and e["Uniqueid"] == uniqueid
    )


@pytest.mark.asterisk
async def test_a_phone_that_rings_and_never_answers_fails_the_originate(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    caller = new_caller()
    asterisk_sandbox.set_phone(3, "noanswer")
    try:
        asterisk_sandbox.call("903", hangup_after=10, caller=caller)
        uniqueid = (await waiting_caller(ami, caller))["Uniqueid"]
        leg = leg_id()
        started = time.monotonic()
        await ami.send(originate(3, uniqueid, leg, timeout_ms=2000))
        await ami.wait_for(
            lambda e: (
                e.get("Event") == "Newstate" and e["Uniqueid"] == leg and e["ChannelState"] == "5"
            )
        )  # ringing
        result = await ami.wait_for(
            lambda e: e.get("Event") == "OriginateResponse" and e.get("Uniqueid") == leg
        )
        assert (result["Response"], result["Reason"]) == ("Failure", "3")  # 3: no answer
        assert 1.8 < time.monotonic() - started < 5
        hangup = await ami.wait_for(lambda e: e.get("Event") == "Hangup" and e["Uniqueid"] == leg)
        assert hangup["Cause"] == "19"  # user alerting, no answer
        # The caller keeps waiting; the phone took the CANCEL and still answers OPTIONS.
        channels = await ami.list_action({"Action": "CoreShowChannels"}, "CoreShowChannelsComplete")
        assert [c["Application"] for c in channels if c["Uniqueid"] == uniqueid] == ["BridgeWait"]
        assert asterisk_sandbox.status().phones[2].contact == "Avail"
    finally:
        asterisk_sandbox.set_phone(3, "answer")


@pytest.mark.asterisk
async def test_a_busy_phone_fails_at_once_with_cause_17(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    asterisk_sandbox.set_phone(4, "busy")
    try:
        leg = leg_id()
        await ami.send(originate(4, "nobody", leg))
        result = await ami.wait_for(
            lambda e: e.get("Event") == "OriginateResponse" and e.get("Uniqueid") == leg
        )
        # Reason 0, not 5 (busy): the cause is only in the leg's Hangup event.
        assert (result["Response"], result["Reason"]) == ("Failure", "0")
        hangup = await ami.wait_for(lambda e: e.get("Event") == "Hangup" and e["Uniqueid"] == leg)
        assert hangup["Cause"] == "17"
    finally:
        asterisk_sandbox.set_phone(4, "answer")


@pytest.mark.asterisk
async def test_a_missing_phone_is_unavailable_and_cannot_be_called(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    asterisk_sandbox.set_phone(5, "off")  # returns once Asterisk saw the phone go
    try:
        await ami.wait_for(
            lambda e: (
                e.get("Event") == "ContactStatus"
                and e["AOR"] == "agent5"
                and e["ContactStatus"] == "Unreachable"
            )
        )
        await ami.wait_for(
            lambda e: (
                e.get("Event") == "DeviceStateChange"
                and e["Device"] == "PJSIP/agent5"
                and e["State"] == "UNAVAILABLE"
            )
        )
        devices = await ami.list_action({"Action": "DeviceStateList"}, "DeviceStateListComplete")
        states = {d["Device"]: d["State"] for d in devices if "Device" in d}
        assert states["PJSIP/agent5"] == "UNAVAILABLE" and states["PJSIP/agent1"] == "NOT_INUSE"
        leg = leg_id()
        await ami.send(originate(5, "nobody", leg))
        result = await ami.wait_for(
            lambda e: e.get("Event") == "OriginateResponse" and e.get("Uniqueid") == leg
        )
        assert (result["Response"], result["Reason"]) == ("Failure", "0")
        assert not ami.seen(lambda e: e.get("Event") == "Newchannel" and e["Uniqueid"] == leg)
    finally:
        asterisk_sandbox.set_phone(5, "answer")
    assert asterisk_sandbox.status().phones[4].contact == "Avail"


@pytest.mark.asterisk
async def test_a_hold_timeout_sends_the_caller_to_the_fallback(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    # The global is read when the caller arrives: shorten it for this one call.
    await ami.send({"Action": "Setvar", "Variable": "CCGW_HOLD_TIMEOUT", "Value": "1"})
    try:
        caller = new_caller()
        asterisk_sandbox.call("904", hangup_after=20, caller=caller)
        uniqueid = (await waiting_caller(ami, caller))["Uniqueid"]
    finally:
        await ami.send({"Action": "Setvar", "Variable": "CCGW_HOLD_TIMEOUT", "Value": "900"})
    timeout = await ami.wait_for(
        lambda e: e.get("UserEvent") == "CCGWHoldTimeout" and e["Uniqueid"] == uniqueid
    )
    assert timeout["Queue"] == "904"
    hangup = await ami.wait_for(
        lambda e: e.get("Event") == "Hangup" and e["Uniqueid"] == uniqueid, timeout_s=10
    )
    assert hangup["Context"] == "ccgw-fallback" and hangup["Cause"] == "16"


@pytest.mark.asterisk
def test_call_wait_counts_how_the_calls_ended(asterisk_sandbox: Sandbox) -> None:
    batch = asterisk_sandbox.call("905", count=3, hangup_after=1, wait=True)
    assert not batch.is_running()
    outcome = batch.wait(0)
    assert (outcome.completed, outcome.failed) == (3, 0)


@pytest.mark.asterisk
def test_down_leaves_no_process_and_no_mount(asterisk_sandbox: Sandbox) -> None:
    # Last in this module; the session's sandbox is brought back up for later tests.
    asterisk_sandbox.call("906", count=2, hangup_after=60)
    before = _our_processes(asterisk_sandbox)
    # Asterisk, the phones, this customer sipp (and any an earlier test left talking)
    assert len(before) >= 1 + SESSION_AGENTS + 1
    asterisk_sandbox.down()
    try:
        assert _our_processes(asterisk_sandbox) == []
        assert mounts_under(asterisk_sandbox.root) == []
        assert not asterisk_sandbox.status().running
        assert not list(asterisk_sandbox.state_dir.glob("call-*"))
    finally:
        asterisk_sandbox.up(agents=SESSION_AGENTS)


def _our_processes(sandbox: Sandbox) -> list[int]:
    """Live (not zombie) Asterisk and sipp processes run with our config or state paths."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        program = Path(argv[0]).name
        ours = (program == "asterisk" and "/etc/ccgateway-sandbox/asterisk.conf" in argv) or (
            program == "sipp" and any(a.startswith(str(sandbox.state_dir)) for a in argv)
        )
        if ours and state != "Z":
            found.append(int(entry.name))
    return found
