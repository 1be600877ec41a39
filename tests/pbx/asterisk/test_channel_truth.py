"""Callers leaving the controller's hands, read from Asterisk's own AMI text.

tests/fixtures/ami/channel_truth.ami was recorded from the sandbox Asterisk 22
(record_channel_truth.py says what happens in it): another tool's Redirect, a hang-up
handler in a foreign context, an agent leg whose caller does not exist, a restart under a
waiting caller; channel_truth_restarted.ami is the CoreStatus after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from ccgateway.domain.events import (
    BridgeFailed,
    CallerLeft,
    ChannelHungUp,
    LegBridged,
    PbxEvent,
    PbxResynced,
)
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.asterisk.ami import AmiMessage, AmiParser
from ccgateway.pbx.asterisk.whereabouts import Whereabouts

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ami"
MOVED, HANDLED, CUT = "1796536008.0", "1796536010.1", "1796536013.3"


def messages(name: str) -> list[AmiMessage]:
    return AmiParser().feed((FIXTURES / name).read_bytes())


@pytest.fixture(scope="module")
def events() -> list[PbxEvent]:
    where = Whereabouts()
    out = [where.see(m, translate.to_event(m)) for m in messages("channel_truth.ami")]
    return [e for e in out if e is not None]


def test_a_caller_redirected_to_another_context_is_told_once(events: list[PbxEvent]) -> None:
    left = [e for e in events if isinstance(e, CallerLeft)]
    assert left == [CallerLeft(MOVED, "sandbox-elsewhere", "430")]


def test_a_hang_up_handler_in_a_foreign_context_is_no_move(events: list[PbxEvent]) -> None:
    assert not [e for e in events if isinstance(e, CallerLeft) and e.call_id == HANDLED]
    [hung_up] = [e for e in events if isinstance(e, ChannelHungUp) and e.channel_id == HANDLED]
    assert not hung_up.pbx_down


def test_an_answered_leg_whose_caller_is_gone_says_the_bridge_failed(
    events: list[PbxEvent],
) -> None:
    assert BridgeFailed("ccgw-truth-1", "NONEXISTENT") in events


def test_a_caller_the_restart_hung_up_is_marked_as_cut_off_by_the_pbx(
    events: list[PbxEvent],
) -> None:
    ends = {e.channel_id: e.pbx_down for e in events if isinstance(e, ChannelHungUp)}
    assert ends[CUT] is True
    assert ends[MOVED] is False and ends["ccgw-truth-1"] is False


def test_the_status_list_gives_each_callers_sub_second_stamp() -> None:
    stamps = translate.since_stamps(messages("channel_truth.ami"))
    assert stamps == {MOVED: 1796536008.832475}


def test_the_start_time_tells_a_restart_apart() -> None:
    before = translate.started_at(messages("channel_truth.ami"))
    after = translate.started_at(messages("channel_truth_restarted.ami"))
    assert before is not None and after is not None and before != after


@pytest.mark.parametrize(
    "context",
    ["ccgw-inbound", "ccgw-announce", "ccgw-fallback", "ccgw-agent-gone", ""],
)
def test_our_own_contexts_are_no_move(context: str) -> None:
    where = Whereabouts()
    where.know([MOVED])
    message = {"Event": "Newexten", "Uniqueid": MOVED, "Context": context, "Exten": "430"}
    assert where.see(message, None) is None


def test_a_channel_not_known_as_a_caller_is_ignored_and_a_redirect_is_no_hang_up() -> None:
    where = Whereabouts()
    foreign = {"Event": "Newexten", "Uniqueid": "x.1", "Context": "from-pstn", "Exten": "s"}
    assert where.see(foreign, None) is None  # a trunk call before it reached us
    where.know(["x.1"])
    # A Redirect's soft hang-up (AST_SOFTHANGUP_ASYNCGOTO) does not end the channel.
    where.see({"Event": "SoftHangupRequest", "Uniqueid": "x.1", "Cause": "2"}, None)
    assert where.see(foreign, None) == CallerLeft("x.1", "from-pstn", "s")


def test_what_the_controller_never_reads_is_dropped_unparsed_and_changes_nothing(
    events: list[PbxEvent],
) -> None:
    """The class `dialplan` brings every VarSet and every step in our own contexts, and a
    caller's bridges and a successful originate say nothing: dropped on the bytes; what is
    left makes the very same domain events (test_event_filters.py: every recording)."""
    data = (FIXTURES / "channel_truth.ami").read_bytes()
    every, kept = AmiParser().feed(data), AmiParser(drop=translate.unwanted).feed(data)
    dropped = [m for m in every if m not in kept]
    names = {"VarSet", "Newexten", "BridgeEnter", "OriginateResponse", "HangupHandlerRun"}
    assert dropped and {m["Event"] for m in dropped} <= names
    assert all(m["Context"].startswith("ccgw-") for m in dropped if m["Event"] == "Newexten")
    where = Whereabouts()
    again = [where.see(m, translate.to_event(m)) for m in kept]
    assert [e for e in again if e is not None] == events


def test_a_snapshot_takes_each_channels_stamp() -> None:
    [status] = [m for m in messages("channel_truth.ami") if m.get("Event") == "Status"]
    channel = {**status, "Event": "CoreShowChannel", "Duration": "00:00:02"}
    stamps = translate.since_stamps([status])
    [caller] = translate.to_snapshot([channel], [], stamps).callers
    assert (caller.call_id, caller.age_s, caller.since) == (MOVED, 2.0, 1796536008.832475)


class RestartingAsterisk:
    """A loopback AMI peer that answers the resync as the recorded Asterisk did, then drops
    the link: the CoreStatus of each connection is the next recorded one (before, then after
    a restart, then the same again: a mere link drop)."""

    def __init__(self, starts: list[AmiMessage]) -> None:
        self.starts = starts
        self.connections = 0
        self.globals: dict[str, str] = {}  # Setvar's (the owner's mark), read back by Getvar

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        core = self.starts[min(self.connections, len(self.starts) - 1)]
        self.connections += 1
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        buffer = b""
        while chunk := await reader.read(65536):
            buffer += chunk
            *blocks, rest = buffer.split(b"\r\n\r\n")
            buffer = rest
            for block in blocks:
                action = dict(
                    line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line
                )
                name, action_id = action.get("Action", ""), action.get("ActionID", "")
                ok = {"Response": "Success", "ActionID": action_id}
                if name in ("CoreShowChannels", "DeviceStateList", "Status", "DBGetTree"):
                    reply = [ok, {"Event": f"{name}Complete", "ActionID": action_id}]
                elif name == "CoreStatus":
                    reply = [{**ok, **{k: v for k, v in core.items() if k.startswith("Core")}}]
                elif name == "Setvar":
                    self.globals[action.get("Variable", "")] = action.get("Value", "")
                    reply = [ok]
                elif name == "Getvar" and action.get("Variable", "") in self.globals:
                    reply = [{**ok, "Value": self.globals[action["Variable"]]}]
                else:
                    reply = [ok]
                writer.write(b"".join(_block(m) for m in reply))
                if name == "DBGetTree":  # the resync's last action: now the link drops
                    await writer.drain()
                    writer.close()
                    return


def _block(message: AmiMessage) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in message.items()) + "\r\n").encode()


async def test_the_adapter_tells_a_restart_from_a_link_drop() -> None:
    [before] = [m for m in messages("channel_truth.ami") if "CoreStartupTime" in m]
    [after] = [m for m in messages("channel_truth_restarted.ami") if "CoreStartupTime" in m]
    peer = RestartingAsterisk([before, after, after])
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pbx = AsteriskPbx(port=port, secret="s3cret", action_timeout_s=2.0)
    emitted: list[PbxEvent] = []
    task = asyncio.create_task(pbx.run(emitted.append))
    try:
        async with asyncio.timeout(20):
            while len([e for e in emitted if isinstance(e, PbxResynced)]) < 3:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.close()
    resyncs = [e.restarted for e in emitted if isinstance(e, PbxResynced)]
    assert resyncs[:3] == [False, True, False]


def test_an_agent_legs_bridge_to_its_caller_is_told_and_no_other_bridge() -> None:
    """call_handling.ami: agent1's Bridge() to caller B (ccgw-agent, the bridge's second
    channel), its consult's holding bridge and the conference; agent3's callback."""
    bridged = [
        e
        for m in messages("call_handling.ami")
        if isinstance(e := translate.to_event(m), LegBridged)
    ]
    assert bridged == [LegBridged("ccgw-rec-agent1")]
