"""Which part of the centre a PBX event or a due timer concerns, and handing it there.

An agent leg may be the dialer's, a callback's, a transfer's or an inbound call's; a channel
that hung up may be any part's. The switchboard asks the parts in a fixed order (the dialer
first, as it rings agents for calls the call desk also holds) and hands the event to the
first that owns it; what the parts return is the centre's step (Center.handle), settled
after it. A feature code dialled on an agent's phone is an agent's request, which the centre
checks as any request, so it does not come here.
"""

from __future__ import annotations

from collections.abc import Callable

from ccgateway.domain.callbacks import CallbackDesk
from ccgateway.domain.calls import CallDesk, CallState
from ccgateway.domain.commands import Command, Outcome
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    BridgeFailed,
    CallbackAnswered,
    CallbackFailed,
    CallbackRequested,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    ConsentHeard,
    DeviceStateChanged,
    EndMarksRead,
    HoldTimedOut,
    LegBridged,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundFailed,
    OutboundLive,
    PbxConnectionLost,
    PbxEvent,
    PbxResynced,
    RecordingFailed,
    RecordingToggled,
    VoicemailEnded,
)
from ccgateway.domain.floor import Floor
from ccgateway.domain.gap import close_gap
from ccgateway.domain.outbound.dialer import OutboundDesk
from ccgateway.domain.reconcile import resync
from ccgateway.domain.recorder import Recorder
from ccgateway.domain.tasks import TaskDesk
from ccgateway.domain.timers import TimerKind
from ccgateway.domain.transfers import Transfers
from ccgateway.domain.waiting_room import WaitingRoom

TimerOwner = Callable[[TimerKind, str, float], list[Command]]


class Switchboard:
    def __init__(
        self,
        room: WaitingRoom,
        tasks: TaskDesk,
        transfers: Transfers,
        outbound: OutboundDesk,
        recorder: Recorder,
    ) -> None:
        self.recorder = recorder
        self.floor: Floor = room.floor
        self.desk: CallDesk = room.desk
        self.callbacks: CallbackDesk = room.callbacks
        self.room = room
        self.transfers = transfers
        self.outbound = outbound
        self.timer_owners: dict[TimerKind, TimerOwner] = {
            TimerKind.WRAPUP: self.floor.fire,
            TimerKind.RESUME: self.floor.fire,
            TimerKind.OFFER: lambda _, key, now: self.desk.offer_timed_out(key, now),
            TimerKind.MAXWAIT: room.fire,
            TimerKind.ANNOUNCE: room.fire,
            TimerKind.CONSENT: room.fire,
            TimerKind.CALLBACK_DUE: self.callbacks.fire,
            TimerKind.CALLBACK_RING: self.callbacks.fire,
            TimerKind.TASK_OFFER: tasks.fire,
            TimerKind.CONSULT: lambda _, key, now: transfers.fire(key, now),
            TimerKind.OB_DIAL: outbound.fire,
            TimerKind.OB_PREVIEW: outbound.fire,
            TimerKind.OB_PACE: outbound.fire,
        }

    def fire(self, kind: TimerKind, key: str, now: float) -> list[Command]:
        """A timer is due: its owner does what it was set for."""
        return self.timer_owners[kind](kind, key, now)

    def event(self, event: PbxEvent, now: float, pbx: str) -> list[Command]:
        """Hand one event from the PBX named `pbx` to the part it concerns."""
        out: list[Command] = []
        match event:
            case CallWaiting():
                out = self.room.arrive(event, now, pbx)
            case AgentLegAnswered(leg_id=leg_id) if self.outbound.owns_leg(leg_id):
                out = self.outbound.agent_answered(leg_id, now)
            case AgentLegAnswered(leg_id=leg_id) if self.callbacks.owns(leg_id):
                out = self.callbacks.agent_answered(leg_id, now)
            case AgentLegAnswered(leg_id=leg_id) if self.transfers.owns(leg_id):
                out = self.transfers.leg_answered(leg_id, now)
            case AgentLegAnswered(leg_id=leg_id, at=at):
                call = self.desk.call_for_leg(leg_id)
                out = self.desk.leg_answered(leg_id, now, pbx, at=at)
                if call is not None and call.kind == "outbound":
                    out += self.outbound.connected(call.id, now)
            case AgentLegFailed(leg_id=leg_id, failure=failure) if self.outbound.owns_leg(leg_id):
                out = self.outbound.agent_failed(leg_id, failure, now)
            case AgentLegFailed(leg_id=leg_id, failure=failure) if self.callbacks.owns(leg_id):
                out = self.callbacks.agent_failed(leg_id, failure, now)
            case AgentLegFailed(leg_id=leg_id, failure=failure) if self.transfers.owns(leg_id):
                out = self.transfers.leg_failed(leg_id, failure, now)
            case AgentLegFailed(leg_id=leg_id, failure=failure):
                out = self.desk.leg_failed(leg_id, failure, now)
            case ChannelHungUp(channel_id=channel_id, cause=cause, pbx_down=pbx_down):
                out = self._hung_up(channel_id, cause, now, pbx_down)
            case CallerLeft(call_id=call_id, context=context):
                out = self.desk.caller_left(call_id, context, now)
            case BridgeFailed(leg_id=leg_id, result=result):
                out = self.desk.bridge_failed(leg_id, result, now)
            case LegBridged(leg_id=leg_id):
                self.desk.leg_bridged(leg_id)
            case VoicemailEnded(call_id=call_id, failure=failure):
                out = self.room.voicemail_ended(call_id, failure, now)
            case CallbackAnswered(leg_id=leg_id) if self.outbound.owns_leg(leg_id):
                out = self.outbound.customer_answered(leg_id, now)
            case CallbackAnswered(leg_id=leg_id):
                out = self.callbacks.customer_answered(leg_id, now)
            case CallbackFailed(leg_id=leg_id, failure=failure) if self.outbound.owns_leg(leg_id):
                out = self.outbound.customer_failed(leg_id, failure, now)
            case CallbackFailed(leg_id=leg_id, failure=failure):
                out = self.callbacks.customer_failed(leg_id, failure, now)
            case CallbackRequested(call_id=call_id):
                call = self.desk.calls.get(call_id)
                waiting = call is not None and call.state is not CallState.CONNECTED
                if call is not None and waiting and self.floor.can(pbx, "callback"):
                    out = self.room.to_callback(call, now, "pressed the callback key")
            case ConsentHeard(call_id=call_id, refused=refused, played=played):
                out = self.room.consent_heard(call_id, refused, now, played=played)
            case HoldTimedOut(call_id=call_id):
                call = self.desk.calls.get(call_id)
                out = self.desk.end(call, Outcome.TIMED_OUT, now) if call else []
            case MachineDetected(channel_id=channel_id):
                out = self.outbound.machine(channel_id, now)  # an inbound call: nothing to do
            case OutboundAnswered(dial_id=dial_id):
                out = self.outbound.answered(dial_id, now)
            case OutboundLive(dial_id=dial_id, amd=amd):
                out = self.outbound.live(dial_id, amd, now)
            case OutboundFailed(dial_id=dial_id, failure=failure, detail=detail):
                out = self.outbound.failed(dial_id, failure, detail, now)
            case OutboundAbandoned(dial_id=dial_id):
                out = self.outbound.abandoned(dial_id, now)
            case DeviceStateChanged(device=device, state=state):
                self.floor.devices[(pbx, device)] = state
                agent = self.floor.directory.agent_for_device(device, pbx)
                if agent is not None:
                    self.floor.refresh(agent.id)
            case RecordingToggled(leg_id=leg_id):
                call = self.desk.call_for_leg(leg_id)
                out = self.recorder.toggle(call, now) if call is not None else []
            case RecordingFailed(call_id=call_id, reason=reason):
                out = self.recorder.failed(call_id, reason, now)
            case EndMarksRead():
                out = close_gap(event, set(self.desk.calls), self.floor.directory, pbx, now)
            case PbxResynced():
                out = self._resynced(event, now, pbx)
            case PbxConnectionLost():
                self.floor.ready.discard(pbx)
                self.floor.refresh_pbx(pbx)  # the PBX keeps the calls; the resync settles them
        return out

    def _hung_up(
        self, channel_id: str, cause: int, now: float, pbx_down: bool = False
    ) -> list[Command]:
        found = self.outbound.hung_up(channel_id, now)
        if found is None:  # an agent leaving a consult or a conference
            found = self.transfers.agent_hung_up(channel_id, now)
        if found is None:
            found = self.desk.hung_up(channel_id, cause, now, pbx_down=pbx_down)
        if found is None:
            found = self.transfers.hung_up(channel_id, cause, now)
        if found is None:
            found = self.callbacks.hung_up(channel_id, cause, now)
        if found is None:  # a caller in voicemail the PBX said nothing about
            found = self.room.voicemail_ended(channel_id, "", now)
        return found or []

    def _resynced(self, event: PbxResynced, now: float, pbx: str) -> list[Command]:
        """The PBX's picture after a (re)connect: each part claims its legs, then the call
        desk's are reconciled (reconcile.py)."""
        self.floor.ready.add(pbx)
        # Calls that ended while nobody listened, from the PBX's marks (gap.py): judged
        # against the calls held before the reconciliation ends any.
        gap = close_gap(event, set(self.desk.calls), self.floor.directory, pbx, now)
        for_dials, out = self.outbound.resync(event, now, pbx)
        in_transfer, more = self.transfers.resync(event.agent_legs, now, pbx)
        for_callbacks, most = self.callbacks.resync(event.agent_legs, now, pbx)
        claimed = for_dials | in_transfer | for_callbacks
        out += more + most + resync(self.room, event, now, pbx, claimed)
        out += self.room.voicemail_unknown(pbx)
        self.floor.refresh_pbx(pbx)
        return out + gap
