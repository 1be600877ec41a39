"""The AMI client's login and refusals, against a small local server that speaks AMI.

The server is a test double for the wire only: the real `AsteriskPbx` and `AmiClient` log in,
resync and are refused exactly as they would be by an Asterisk whose manager.conf lacks a
class (verified on Asterisk 22: `Response: Error` / `Message: Permission denied`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ccgateway.domain.events import CallWaiting, PbxEvent, PbxResynced
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.asterisk.client import EVENTS
from ccgateway.ports import Owner, PbxUnavailable

EOL = "\r\n"


def _block(headers: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL).encode()


@dataclass
class AmiServer:
    """Answers Login and Ping; refuses the actions in `denied` as Asterisk does."""

    denied: set[str]
    actions: list[dict[str, str]] = field(default_factory=list)
    globals: dict[str, str] = field(default_factory=dict)  # Setvar's, read back by Getvar
    refused: asyncio.Event = field(default_factory=asyncio.Event)
    # sent after the resync's last answer, one write per piece with a pause in between
    after_resync: list[bytes] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        buffer = ""
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                buffer += chunk.decode()
                *blocks, buffer = buffer.split(EOL + EOL)
                for block in blocks:
                    action = dict(
                        (name.strip(), value.strip())
                        for name, _, value in (line.partition(":") for line in block.split(EOL))
                    )
                    self.actions.append(action)
                    writer.write(self.answer(action))
                    await writer.drain()
                    if action.get("Action") == "DBGetTree":  # the resync's last question
                        for piece in self.after_resync:
                            writer.write(piece)
                            await writer.drain()
                            await asyncio.sleep(0.05)
        writer.close()

    def answer(self, action: dict[str, str]) -> bytes:
        name, action_id = action.get("Action", ""), action.get("ActionID", "")
        if name in self.denied:
            self.refused.set()
            reply = {"Response": "Error", "ActionID": action_id, "Message": "Permission denied"}
            return _block(reply)
        if name == "Login":
            return _block(
                {"Response": "Success", "ActionID": action_id, "Message": "Authentication accepted"}
            )
        if name == "Setvar":  # the owner's mark, which the controller reads back
            self.globals[action.get("Variable", "")] = action.get("Value", "")
        if name == "Getvar" and action.get("Variable", "") in self.globals:
            value = self.globals[action["Variable"]]
            return _block({"Response": "Success", "ActionID": action_id, "Value": value})
        if name in ("CoreShowChannels", "DeviceStateList", "Status", "DBGetTree"):  # 22: empty
            complete = f"{name}Complete"
            return _block(
                {"Response": "Success", "ActionID": action_id, "EventList": "start"}
            ) + _block({"Event": complete, "ActionID": action_id, "EventList": "Complete"})
        return _block({"Response": "Success", "ActionID": action_id, "Ping": "Pong"})


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(
    handler: Handler, emitted: list[PbxEvent], timeout_s: float = 2.0, **options: Any
) -> AsyncIterator[AsteriskPbx]:
    """A local server with `handler`, and a running AsteriskPbx connecting to it (made
    with `options` besides)."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pbx = AsteriskPbx(port=port, secret="s3cret", action_timeout_s=timeout_s, **options)
    task = asyncio.create_task(pbx.run(emitted.append))
    try:
        yield pbx
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def running(
    denied: set[str], emitted: list[PbxEvent] | None = None, after_resync: Sequence[bytes] = ()
) -> AsyncIterator[tuple[AmiServer, AsteriskPbx]]:
    ami = AmiServer(denied, after_resync=list(after_resync))
    async with serving(ami.serve, [] if emitted is None else emitted) as pbx:
        yield ami, pbx


async def test_a_refused_action_is_named_in_the_log_and_in_the_problem(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with running({"CoreShowChannels"}) as (ami, pbx):
        await asyncio.wait_for(ami.refused.wait(), 5)
        for _ in range(50):
            if "Permission denied" in caplog.text and pbx.problem:
                break
            await asyncio.sleep(0.02)
    refusals = [r for r in caplog.records if "Permission denied" in r.getMessage()]
    assert refusals, caplog.text
    assert all("CoreShowChannels" in r.getMessage() for r in refusals)
    assert "write needs reporting" in refusals[0].getMessage()
    assert pbx.problem is not None and "CoreShowChannels" in pbx.problem


async def test_login_asks_only_for_the_event_classes_the_controller_uses() -> None:
    async with running(set()) as (ami, pbx):
        await asyncio.wait_for(pbx.client.link.connected.wait(), 5)
        for _ in range(50):  # the resync follows the login
            if any(a.get("Action") == "DeviceStateList" for a in ami.actions):
                break
            await asyncio.sleep(0.02)
    [login] = [a for a in ami.actions if a.get("Action") == "Login"]
    assert login["Events"] == EVENTS == "call,user,dialplan"
    assert pbx.problem is None


async def test_a_callers_name_cut_inside_a_character_between_two_reads_arrives_whole() -> None:
    name = "Zoë Ångström 山田"
    event = _block(
        {
            "Event": "UserEvent",
            "Uniqueid": "1795348694.0",
            "CallerIDNum": "+4930200",
            "CallerIDName": name,
            "UserEvent": "CCGWWaiting",
            "Queue": "200",
        }
    )
    inside = event.index("山".encode()) + 1  # between the first and second byte of 山
    emitted: list[PbxEvent] = []
    async with running(set(), emitted, [event[:inside], event[inside:]]):
        for _ in range(100):
            if any(isinstance(e, CallWaiting) for e in emitted):
                break
            await asyncio.sleep(0.02)
    [waiting] = [e for e in emitted if isinstance(e, CallWaiting)]
    assert (waiting.call_id, waiting.caller_name, waiting.caller_number) == (
        "1795348694.0",
        name,
        "+4930200",
    )


@pytest.mark.parametrize(
    ("greeting", "logged"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not an AMI server: b'SSH-2.0"),
        (b"", "AMI link lost before the banner (Asterisk closed the connection)"),
    ],
)
async def test_a_peer_that_is_not_ami_is_refused_at_once_and_never_connected(
    caplog: pytest.LogCaptureFixture, greeting: bytes, logged: str
) -> None:
    async def stranger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        await writer.drain()
        writer.close()

    caplog.set_level(logging.WARNING)
    emitted: list[PbxEvent] = []
    async with serving(stranger, emitted, timeout_s=30.0) as pbx:
        for _ in range(100):  # well within the 30 s a wait for the banner could take
            if logged in caplog.text:
                break
            await asyncio.sleep(0.02)
    assert logged in caplog.text
    assert pbx.client.link.connections == 0 and emitted == []


async def test_a_controller_that_may_no_longer_command_writes_nothing_not_even_a_ping() -> None:
    """A pair's active past its lease deadline (frozen, then resumed) must not write a byte
    to the PBX before it exits: its owner's `may_command` gates every write of the link."""
    allowed = [True]
    ami = AmiServer(set())
    owner = Owner("node-a", 3, may_command=lambda: allowed[0])
    emitted: list[PbxEvent] = []
    async with serving(ami.serve, emitted, ping_interval_s=0.1, owner=owner) as pbx:
        for _ in range(100):  # connected, resynced (the mark read back first) and pinging
            resynced = any(isinstance(e, PbxResynced) for e in emitted)
            if resynced and sum(a.get("Action") == "Ping" for a in ami.actions) >= 2:
                break
            await asyncio.sleep(0.05)
        assert any(isinstance(e, PbxResynced) for e in emitted), ami.actions
        assert sum(a.get("Action") == "Ping" for a in ami.actions) >= 2, ami.actions
        allowed[0] = False
        await asyncio.sleep(0.05)  # what was written before the flip reaches the server
        before = len(ami.actions)
        with pytest.raises(PbxUnavailable, match="may not command; Hangup not sent"):
            await pbx.client.send({"Action": "Hangup", "Channel": "PJSIP/agent1-00000001"})
        await asyncio.sleep(0.5)  # five ping intervals
        assert ami.actions[before:] == []


async def test_a_stop_that_comes_as_an_answer_arrives_is_not_lost() -> None:
    """The answer and the cancel in one turn of the loop: the sender is cancelled all the
    same (Python 3.11's wait_for returned the answer and dropped the cancel; the adapter's
    mark keeper then never stopped and a controller's stop hung)."""
    ami = AmiServer(set())
    async with serving(ami.serve, []) as pbx:
        await asyncio.wait_for(pbx.client.link.connected.wait(), 5)
        sender = asyncio.create_task(pbx.client.send({"Action": "Ping", "ActionID": "race-1"}))
        for _ in range(100):  # sent, its answer not yet read
            if "race-1" in pbx.client._pending:
                break
            await asyncio.sleep(0)
        pbx.client._pending["race-1"].future.set_result([{"Response": "Success"}])
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        assert sender.cancelled()
