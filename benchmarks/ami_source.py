"""A scripted AMI server for the pages' benchmark: the real wire, the real adapter, more phones.

The sandbox Asterisk runs at most 19 agent phones; the pages' figures are asked for 200 and
1,000 agents. This server speaks enough of the Asterisk Manager Interface for the
controller's own `AsteriskPbx` to log in, resync (no channels, every agent's device idle),
keep its pings answered and take the benchmark's events: feature codes (an agent pauses or
becomes available, as `*72`/`*71` on a phone would send them) and callers who start waiting
(`CCGWWaiting`) or hang up. Every event sent is stamped with the wall clock at the moment
its bytes are written, which is where the benchmark's "event to pixel" starts.

Originates are answered with success and nothing more: the benchmark keeps agents paused
or lets offers ring out, so no call is ever bridged. It is a load source, not a PBX: the
end-to-end tests run on the real Asterisk.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

EOL = "\r\n"


def _block(**headers: str) -> bytes:
    return ("".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL).encode()


def _parse(block: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(EOL):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return headers


@dataclass
class AmiSource:
    """Serve one controller at a time on 127.0.0.1:`port`; `send_*` stamp when sent."""

    devices: list[str]
    port: int = 0
    _writer: asyncio.StreamWriter | None = None
    _server: asyncio.Server | None = None
    _channel_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    originates: int = 0
    # ActionID -> wall clock when an Originate's bytes were read (the path benchmark's stop)
    originated_at: dict[str, float] = field(default_factory=dict)
    originated: asyncio.Event = field(default_factory=asyncio.Event)  # set at each Originate
    originated_devices: dict[str, str] = field(default_factory=dict)  # ActionID -> Channel
    # Setvar's globals, read back by Getvar: the controller reads its owner mark back
    # (pbx/mark_keeper.py) and takes the PBX only if the mark it wrote is still there
    globals: dict[str, str] = field(default_factory=dict)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        buffer = ""
        try:
            while chunk := await reader.read(65536):
                buffer += chunk.decode()
                *blocks, buffer = buffer.split(EOL + EOL)
                for block in blocks:
                    self._answer(_parse(block), writer)
                await writer.drain()
        finally:
            if self._writer is writer:
                self._writer = None
                self.connected.clear()
            writer.close()

    def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name, action_id = action.get("Action", ""), action.get("ActionID", "")
        if name == "Login":
            writer.write(_block(Response="Success", ActionID=action_id, Message="Accepted"))
            self._writer = writer
            self.connected.set()
        elif name in ("CoreShowChannels", "Status", "DBGetTree"):  # no channels, no marks
            writer.write(_block(Response="Success", ActionID=action_id, EventList="start"))
            writer.write(
                _block(
                    Event=f"{name}Complete",
                    ActionID=action_id,
                    EventList="Complete",
                    ListItems="0",
                )
            )
        elif name == "DeviceStateList":
            writer.write(_block(Response="Success", ActionID=action_id, EventList="start"))
            for device in self.devices:
                writer.write(
                    _block(
                        Event="DeviceStateChange",
                        ActionID=action_id,
                        Device=device,
                        State="NOT_INUSE",
                    )
                )
            writer.write(
                _block(
                    Event="DeviceStateListComplete",
                    ActionID=action_id,
                    EventList="Complete",
                    ListItems=str(len(self.devices)),
                )
            )
        elif name == "Getvar" and action.get("Variable", "") in self.globals:
            value = self.globals[action["Variable"]]
            writer.write(_block(Response="Success", ActionID=action_id, Value=value))
        else:  # Ping, Originate, Setvar, Redirect, Hangup...: all accepted
            if name == "Setvar" and not action.get("Channel"):
                self.globals[action.get("Variable", "")] = action.get("Value", "")
            if name == "Originate":
                self.originates += 1
                self.originated_at[action_id] = time.time()
                self.originated_devices[action_id] = action.get("Channel", "")
                self.originated.set()
            writer.write(_block(Response="Success", ActionID=action_id, Message="ok"))

    def _send(self, data: bytes) -> float:
        if self._writer is None:
            raise RuntimeError("no controller connected")
        self._writer.write(data)
        return time.time()

    def send_feature(self, device: str, feature: str, code: int | None = None) -> float:
        """An agent's feature code (`available`, `pause`, ...); returns when it was sent."""
        headers = {
            "Event": "UserEvent",
            "UserEvent": "CCGWFeature",
            "Channel": f"{device}-{next(self._channel_ids):08x}",
            "Feature": feature,
        }
        if code is not None:
            headers["Code"] = str(code)
        return self._send(_block(**headers))

    def send_waiting(self, uniqueid: str, extension: str, number: str, name: str) -> float:
        """A customer starts waiting in the queue with this extension."""
        return self._send(
            _block(
                Event="UserEvent",
                UserEvent="CCGWWaiting",
                Uniqueid=uniqueid,
                Queue=extension,
                CallerIDNum=number,
                CallerIDName=name,
            )
        )

    def send_conversation(self, caller: str, leg: str, device: str) -> float:
        """What the controller's filtered AMI user gets of a call after its Originate, on
        the sandbox Asterisk 22 (README "AMI user": 12 messages a call with CCGWWaiting):
        the phone rings, answers, the leg is bridged to the caller; then the caller hangs
        up, its handler runs and the leg ends."""
        data = b"".join(
            (
                _block(Event="DeviceStateChange", Device=device, State="RINGING"),
                _block(
                    Event="UserEvent", UserEvent="CCGWAgentAnswered", Uniqueid=leg, Caller=caller
                ),
                _block(
                    Event="BridgeEnter",
                    Uniqueid=leg,
                    Context="ccgw-agent",
                    BridgeNumChannels="2",
                    BridgeUniqueid=f"b-{leg}",
                ),
                _block(Event="DeviceStateChange", Device=device, State="INUSE"),
            )
        )
        return self._send(data)

    def send_end(self, caller: str, leg: str, device: str) -> float:
        """The caller hangs up a conversation (`send_conversation`)."""
        ended = {"Cause": "16", "Cause-txt": "Normal Clearing"}
        data = b"".join(
            (
                _block(Event="SoftHangupRequest", Uniqueid=caller, Cause="16"),
                _block(Event="HangupRequest", Uniqueid=caller, Cause="16"),
                _block(Event="HangupHandlerRun", Uniqueid=caller, Handler="ccgw-end-mark"),
                _block(Event="Hangup", Uniqueid=caller, **ended),
                _block(Event="SoftHangupRequest", Uniqueid=leg, Cause="16"),
                _block(Event="Hangup", Uniqueid=leg, **ended),
                _block(Event="DeviceStateChange", Device=device, State="NOT_INUSE"),
            )
        )
        return self._send(data)

    def send_hangup(self, uniqueid: str) -> float:
        return self._send(
            _block(Event="Hangup", Uniqueid=uniqueid, Cause="16", **{"Cause-txt": "Normal"})
        )
