"""`AsteriskPbx`: the `Pbx` port over AMI (ccgateway/ports.py says what it promises)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace

from ccgateway.domain.calls import BRIDGE_EVENTS
from ccgateway.domain.commands import (
    Announce,
    CancelConsult,
    CompleteConsult,
    Conference,
    DialCallback,
    ForgetEndMarks,
    HangUp,
    Monitor,
    MuteRecording,
    PbxCommand,
    PlayConsent,
    PlayMessage,
    ReturnToQueue,
    RingAgent,
    RingConsult,
    SendToFallback,
    SendToVoicemail,
    StartConsult,
    StartRecording,
    TransferOut,
)
from ccgateway.domain.events import EndMark, LegEndMark, PbxEvent, PbxResynced
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.asterisk import actions, translate
from ccgateway.pbx.asterisk.actions import DEFAULT_RECORDINGS, Actions
from ccgateway.pbx.asterisk.ami import AmiMessage
from ccgateway.pbx.asterisk.client import AmiClient
from ccgateway.pbx.asterisk.whereabouts import Whereabouts
from ccgateway.pbx.end_mark_reading import sweep_end_marks
from ccgateway.pbx.link import EventGate, LinkMeter, RoundTrips
from ccgateway.pbx.mark_keeper import MarkKeeper
from ccgateway.pbx.ownership import VARIABLE as MARK
from ccgateway.pbx.uniqueids import UniqueidSpaces, clash_problem
from ccgateway.ports import Owner, PbxRejected

log = logging.getLogger(__name__)
GONE = ("no such channel", "channel not found")


class AsteriskPbx:
    # What the centre may ask of it (domain/floor.py): everything; and it reports the bridge
    # of an answered agent leg to its caller (BridgeEnter: translate.LegBridged).
    features = FEATURES | {BRIDGE_EVENTS}

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "ccgateway",
        secret: str = "",
        action_timeout_s: float = 5.0,
        ping_interval_s: float = 1.0,
        dead_after_s: float = 3.5,
        name: str = "asterisk",
        trunk: str = "trunk",
        recordings: str = DEFAULT_RECORDINGS,
        trunks: Mapping[str, str] | None = None,
        instruments: RoundTrips | None = None,
        owner: Owner | None = None,
        spaces: UniqueidSpaces | None = None,
    ) -> None:
        """`instruments`: told every action's round trip (services/instruments.py);
        `owner`: the mark this controller keeps on the PBX (pbx/ownership.py; by default
        this host, epoch 0); `spaces`: the systemnames of the controller's other
        Asterisks (pbx/uniqueids.py; None: not checked); `trunks`: the other PBXs this
        Asterisk reaches over a SIP trunk, each by the PJSIP endpoint that leads to it."""
        self.name = name
        self._spaces = spaces
        self._actions = Actions(trunk, recordings, trunks or {})
        self._gate = EventGate()
        self._leg_names: dict[str, str] = {}
        self._whereabouts = Whereabouts()  # callers leaving our dialplan, cut-off channels
        self._started: str | None = None  # when Asterisk started, as it said at the last resync
        self.client = AmiClient(
            host,
            port,
            username,
            secret,
            on_event=self._on_event,
            on_connected=self._claim,
            on_lost=self._lost,
            action_timeout_s=action_timeout_s,
            ping_interval_s=ping_interval_s,
            dead_after_s=dead_after_s,
            meter=LinkMeter(name, instruments),
        )
        if owner is not None:
            self.client.link.may_write = lambda: (
                owner.may_command() or owner.may_ride(self.keeper.confirmed_at)
            )
        self.keeper = MarkKeeper(
            f"Asterisk {name}",
            owner or Owner(socket.gethostname()[:50]),
            self._read_mark,
            self._write_mark,
            self._resync,
            self._gate.lost,
            dead_after_s=dead_after_s,
            every_s=ping_interval_s,
            hold_s=owner.hold_s if owner is not None else 0.0,
        )

    @property
    def problem(self) -> str | None:
        """Why Asterisk answers but the link cannot work (an action it refuses, uniqueids
        that would clash with another Asterisk's), if so."""
        return self.client.refused or self.keeper.barred

    @property
    def mark_confirmed_at(self) -> float:
        """ports.OwnerMarked: when this controller last found its own mark here."""
        return self.keeper.confirmed_at

    @property
    def passive_to(self) -> str | None:
        """The other controller that owns this Asterisk while this one stays passive."""
        return self.keeper.passive_to

    async def run(self, emit: Callable[[PbxEvent], None]) -> None:
        self._gate.emit = emit
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.keeper.keep_forever(self.client.link.connected))
            sweep = sweep_end_marks(
                self.client.link, self.keeper, self._end_marks, self._gate.deliver
            )
            tasks.create_task(sweep)
            await self.client.run_forever()

    # --- events --------------------------------------------------------------------------

    def _on_event(self, message: AmiMessage) -> None:
        if not self.keeper.commanding:
            return  # a passive controller's centre hears nothing of another owner's calls
        self._remember_leg_name(message)
        event = self._whereabouts.see(message, translate.to_event(message))
        if event is not None:
            self._gate.deliver(event)

    def _remember_leg_name(self, message: AmiMessage) -> None:
        """ChanSpy needs a channel's name; the core knows our legs by their uniqueid."""
        uniqueid = message.get("Uniqueid", "")
        if not uniqueid.startswith(translate.LEG_PREFIX):
            return
        if message.get("Event") == "Hangup":
            self._leg_names.pop(uniqueid, None)
        elif "Channel" in message:
            self._leg_names[uniqueid] = message["Channel"]

    # --- the owner's mark (pbx/ownership.py) ------------------------------------------------

    async def _claim(self) -> None:
        if not await self._uniqueids_apart():
            return  # passive: no mark, no resync, nothing commanded
        await self.keeper.claim()

    async def _uniqueids_apart(self) -> bool:
        """At each connect, this Asterisk's systemname claimed among the controller's
        Asterisks (pbx/uniqueids.py): False, and the keeper barred, when another holds it."""
        if self._spaces is None:
            return True
        try:
            name = translate.system_name(await self.client.send(actions.core_settings()))
        except PbxRejected as exc:
            log.warning(
                "Asterisk %s: its systemname not read (%s): its uniqueids are not checked "
                "against the other Asterisks'",
                self.name,
                exc,
            )
            self.keeper.barred = None
            return True
        other = self._spaces.claim(self.name, name)
        barred = None if other is None else clash_problem(self.name, name, other)
        if barred is not None and barred != self.keeper.barred:
            log.error("%s", barred)
        self.keeper.barred = barred
        return barred is None

    async def release(self) -> None:
        """At a clean stop: leave this Asterisk to a successor at once (MarkKeeper.release)."""
        await self.keeper.release()

    def _lost(self, reason: str) -> None:
        self.keeper.lost()
        if self._spaces is not None:
            self._spaces.release(self.name)
        self._gate.lost(reason)

    async def _read_mark(self) -> tuple[str | None, float]:
        """The mark (a global variable) and Asterisk's own time, read together."""
        mark, now = await asyncio.gather(
            self.client.send({"Action": "Getvar", "Variable": MARK}),
            self.client.send({"Action": "Getvar", "Variable": "STRFTIME(,,%s.%3q)"}),
        )
        return mark[0].get("Value") or None, float(now[0].get("Value", "0"))

    async def _write_mark(self, text: str) -> None:
        await self.client.send({"Action": "Setvar", "Variable": MARK, "Value": text})

    async def _resync(self) -> None:
        await self._gate.resync(self._snapshot)

    async def _snapshot(self) -> PbxResynced:
        self._whereabouts.reset()  # what this connection says from now on is all that counts
        channels = await self.client.send(actions.show_channels(), is_list=True)
        self._leg_names.clear()
        for channel in channels:
            self._remember_leg_name(channel)
        devices = await self.client.send(actions.list_devices(), is_list=True)
        stamps, restarted = await self._stamps_and_start()
        snapshot = translate.to_snapshot(channels, devices, stamps, restarted)
        self._whereabouts.know(c.call_id for c in snapshot.callers)
        self._whereabouts.know(d.dial_id for d in snapshot.outbound)
        ended, ended_legs = await self._end_marks()
        return replace(snapshot, ended=tuple(ended), ended_legs=tuple(ended_legs))

    async def _stamps_and_start(self) -> tuple[dict[str, float], bool]:
        """The channels' sub-second stamps, and whether Asterisk restarted since the last
        connection (its start time changed). Each is a refinement: a PBX that refuses the
        action (an AMI user without the class) still resyncs, with whole seconds, and
        without telling a restart from a link drop."""
        try:
            stamps = translate.since_stamps(
                await self.client.send(actions.show_stamps(), is_list=True)
            )
        except PbxRejected as exc:
            log.warning("no sub-second times from Asterisk's Status: %s", exc)
            stamps = {}
        try:
            started = translate.started_at(await self.client.send(actions.core_status()))
        except PbxRejected as exc:
            log.warning("cannot tell an Asterisk restart from a link drop: %s", exc)
            started = None
        restarted = None not in (started, self._started) and started != self._started
        if restarted:
            log.warning(
                "Asterisk restarted (was up since %s, now since %s)", self._started, started
            )
        self._started = started or self._started
        return stamps, restarted

    async def _end_marks(self) -> tuple[list[EndMark], list[LegEndMark]]:
        """The dialplan's notes of calls that ended (domain/gap.py). None is "not found"
        to Asterisk; a refusal (a dialplan or user from before the marks) costs only them."""
        try:
            marks = await self.client.send(actions.read_end_marks(), is_list=True)
        except PbxRejected as exc:
            if "not found" not in str(exc).lower():
                log.warning("the PBX's end marks could not be read: %s", exc)
            return [], []
        return translate.to_end_marks(marks)

    # --- commands ------------------------------------------------------------------------

    async def execute(self, command: PbxCommand) -> None:
        """One command as its AMI actions, sent in order (actions.py builds them); none
        while another controller owns this Asterisk."""
        self.keeper.check_commanding(type(command).__name__)
        a = self._actions
        match command:
            case RingAgent():
                await self.ring_agent(command)
            case HangUp(channel_id=channel_id, reason=reason):
                await self.hang_up(channel_id, reason)
            case Monitor():
                await self.monitor(command)
            case CompleteConsult():
                await self._send_all(a.complete_consult(command), tolerate_gone=True)
            case CancelConsult():
                await self._send_all(a.cancel_consult(command), tolerate_gone=True)
            case ForgetEndMarks(call_ids=call_ids):
                await self._send_all(actions.forget_end_marks(call_ids))
            case _:
                await self._send_all(self._build(command))

    def _build(self, command: PbxCommand) -> list[dict[str, str]]:
        a = self._actions
        match command:
            case SendToFallback():
                log.info("sending %s to the fallback: %s", command.call_id, command.reason)
                return a.fallback(command)
            case PlayMessage():
                return a.message(command)
            case SendToVoicemail():
                return a.voicemail(command)
            case Announce():
                return a.announce(command)
            case PlayConsent():
                return a.consent(command)
            case DialCallback():
                return a.callback(command)
            case DialCustomer():
                return a.dial_customer(command)
            case ReturnToQueue():
                return a.requeue(command)
            case TransferOut():
                return a.transfer_out(command)
            case StartConsult():
                return a.start_consult(command)
            case RingConsult():
                return a.ring_consult(command)
            case Conference():
                return a.conference(command)
            case StartRecording():
                return a.record(command)
            case MuteRecording():
                return a.mute_recording(command)
        raise PbxRejected(f"{type(command).__name__} is not something Asterisk is asked to do")

    async def _send_all(self, sequence: list[dict[str, str]], tolerate_gone: bool = False) -> None:
        for action in sequence:
            if tolerate_gone:
                await self._on_channel(action)
            else:
                await self.client.send(action)

    def reaches(self, pbx: str) -> bool:
        """Whether an agent on `pbx` can be rung over a trunk from here (ports.Trunked)."""
        return pbx in self._actions.trunks

    async def ring_agent(self, command: RingAgent) -> None:
        await self.client.send(self._actions.originate_agent(command))

    async def hang_up(self, channel_id: str, reason: str = "") -> None:
        log.info("hanging up %s: %s", channel_id, reason)
        await self._on_channel(actions.hangup(channel_id))

    async def monitor(self, command: Monitor) -> None:
        name = self._leg_names.get(command.agent_leg_id)
        if name is None:
            raise PbxRejected(f"agent leg {command.agent_leg_id} is not up on this Asterisk")
        await self.client.send(actions.spy(command, name))

    async def close(self) -> None:
        await self.client.close()

    async def _on_channel(self, action: dict[str, str]) -> None:
        """An action on one channel; a channel that is already gone is not an error."""
        try:
            await self.client.send(action)
        except PbxRejected as exc:
            if not any(text in str(exc).lower() for text in GONE):
                raise
