"""`FreeSwitchPbx`: the `Pbx` port over the Event Socket (ccgateway/ports.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace

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
from ccgateway.domain.events import (
    CallWaiting,
    ChannelHungUp,
    EndMark,
    LegEndMark,
    PbxEvent,
    PbxResynced,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.end_mark_reading import sweep_end_marks
from ccgateway.pbx.freeswitch import (
    announce,
    commands,
    consults,
    devices,
    end_marks,
    leg_ends,
    outbound,
    sounds,
    translate,
)
from ccgateway.pbx.freeswitch.client import EslClient, EventHeaders
from ccgateway.pbx.link import EventGate, LinkMeter, RoundTrips
from ccgateway.pbx.mark_keeper import MarkKeeper, Unmarked
from ccgateway.pbx.ownership import VARIABLE as MARK
from ccgateway.ports import DialplanTarget, Owner, PbxError, PbxRejected

log = logging.getLogger(__name__)
# How often the owner mark is rewritten on a FreeSWITCH (a pair's ha.ride_s is twice it).
MARK_EVERY_S = 1.0
FALLBACK = DialplanTarget("ccgw-fallback", "s")


class FreeSwitchPbx:
    # What the centre may ask of this PBX (see Floor.features): blind transfers, consults
    # and conferences (consults.py), messages, voicemail, recordings, campaigns
    # (outbound.py), agent-first callbacks and announcements (announce.py).
    features = frozenset(
        {
            "transfer",
            "consult",
            "conference",
            "message",
            "voicemail",
            "record",
            "outbound",
            "callback",
            "announce",
        }
    )

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8021,
        password: str = "",
        name: str = "freeswitch",
        inbound_context: str = translate.INBOUND_CONTEXT,
        command_timeout_s: float = 5.0,
        dead_after_s: float = 45.0,
        hold_music: str | None = "local_stream://moh",
        dial_template: str = "sofia/gateway/trunk/{number}",
        sound_names: Mapping[str, str] | None = None,
        recordings: str = commands.DEFAULT_RECORDINGS,
        instruments: RoundTrips | None = None,
        resync_settle_s: float = 1.5,
        owner: Owner | None = None,
        mark_every_s: float = MARK_EVERY_S,
        mark_stale_s: float = 3.5,
        trunks: Mapping[str, str] | None = None,
    ) -> None:
        """`recordings`: the folder FreeSWITCH writes recordings into, as FreeSWITCH sees it
        (settings.recordings: pbx_directory, else directory); `instruments`: told every
        command's round trip (services/instruments.py); `resync_settle_s`: how long after
        a (re)connect the picture is taken (see `_snapshot`); `owner` (configured_pbxes
        always gives one; None marks nothing, for replayed transcripts): the mark kept on
        FreeSWITCH (a global variable, pbx/ownership.py), rewritten every `mark_every_s`
        and stale after `mark_stale_s` in FreeSWITCH's whole seconds (the link's own
        dead-after waits for HEARTBEATs, far too long for a takeover); `trunks`: the other
        PBXs this FreeSWITCH reaches over a SIP trunk, each by its sofia gateway."""
        self._settle_s = resync_settle_s
        self._core: str | None = None  # FreeSWITCH's core uuid at the last resync
        self.name = name
        self.recordings = commands.check_recordings_folder(recordings)
        # the deployment's own names beside sounds.SOUNDS: project name -> FreeSWITCH file
        self._sounds = dict(sound_names or {})
        for sound in self._sounds:
            sounds.playback_path(sound, self._sounds)  # refused at start, not mid-call
        self._dial = commands.check_dial_template(dial_template)
        self._gateways = dict(trunks or {})
        self._hold_music = hold_music
        self._inbound_context = inbound_context
        self._gate = EventGate()
        self._ringing: dict[str, str] = {}  # agent leg -> the caller it is for
        self._devices = devices.DeviceBook()  # the phones' states (devices.py)
        # bridged agent legs' ends held until their callers leave the bridge (leg_ends.py)
        self._leg_ends = leg_ends.LegEnds()
        self._leg_end_timers: dict[str, asyncio.TimerHandle] = {}
        # Callers told an announcement, whose hold music may still be queued behind it
        # (see `_quiet`).
        self._announced: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.client = EslClient(
            host,
            port,
            password,
            self._on_event,
            self._claim,
            self._lost,
            events=(*translate.SUBSCRIBED, *devices.CHANNEL_EVENTS),
            custom=(*translate.CUSTOM, *outbound.CUSTOM),
            command_timeout_s=command_timeout_s,
            dead_after_s=dead_after_s,
            meter=LinkMeter(name, instruments),
        )
        self.keeper: MarkKeeper | Unmarked = Unmarked(self._resync)
        if owner is not None:
            self.client.link.may_write = lambda: (
                owner.may_command() or owner.may_ride(self.keeper.confirmed_at)
            )
            self.keeper = MarkKeeper(
                f"FreeSWITCH {name}",
                owner,
                self._read_mark,
                self._write_mark,
                self._resync,
                self._gate.lost,
                dead_after_s=mark_stale_s,
                every_s=mark_every_s,
                hold_s=owner.hold_s,
                tick_s=1.0,  # `strepoch`: FreeSWITCH's time in whole seconds
            )
        self.consults = consults.Consults(
            self.client, self._on_channel, self._spawn, inbound_context, self._dial
        )

    @property
    def mark_confirmed_at(self) -> float:
        """ports.OwnerMarked: when this controller last found its own mark here."""
        return self.keeper.confirmed_at

    @property
    def passive_to(self) -> str | None:
        """The other controller that owns this FreeSWITCH while this one stays passive."""
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

    async def _end_marks(self) -> tuple[list[EndMark], list[LegEndMark]]:
        """FreeSWITCH's notes of calls that ended (end_marks.py, domain/gap.py). Without
        mod_hash the answer is an -ERR: no marks."""
        return end_marks.to_end_marks(await self.client.api(*end_marks.read()))

    async def _forget_end_marks(self, call_ids: tuple[str, ...]) -> None:
        """Drop the marks of these callers and of their legs, as they stand now."""
        dump = await self.client.api(*end_marks.read())
        for words in end_marks.forget(end_marks.keys_of(dump, set(call_ids))):
            await self.client.api(*words)

    # --- the owner's mark (pbx/ownership.py) ------------------------------------------------

    async def _claim(self) -> None:
        await self.keeper.claim()

    async def release(self) -> None:
        """At a clean stop: leave this FreeSWITCH to a successor at once (MarkKeeper.release)."""
        await self.keeper.release()

    def _lost(self, reason: str) -> None:
        self.keeper.lost()
        self._leg_ends.forget()
        for timer in self._leg_end_timers.values():
            timer.cancel()
        self._leg_end_timers.clear()
        self._gate.lost(reason)

    async def _read_mark(self) -> tuple[str | None, float]:
        """The mark (a global variable; empty when unset) and FreeSWITCH's own time."""
        mark = (await self.client.api("global_getvar", MARK)).strip()
        now = float((await self.client.api("strepoch")).strip() or "0")
        return (mark or None), now

    async def _write_mark(self, text: str) -> None:
        await self.client.api("global_setvar", f"{MARK}={text}")

    # --- events --------------------------------------------------------------------------

    def _on_event(self, event: EventHeaders) -> None:
        if not self.keeper.commanding:
            return  # another controller owns this FreeSWITCH: not a word, not a command
        taken = self.consults.took(event)  # an answered consult leg joins its agent instead
        leg = translate.parked_agent_leg(event)
        if leg is not None and not taken:
            caller = self._ringing.pop(leg, None) or event.get("variable_ccgw_caller")
            if caller:
                self._start_bridge(caller, leg)
        phone = self._devices.on_event(event)
        # registrations are the book's alone: a re-register mid-call must not say "available"
        domain = (
            None
            if devices.registration(event)
            else (outbound.to_event(event) or translate.to_event(event, self._inbound_context))
        )
        if isinstance(domain, ChannelHungUp):
            self._announced.discard(domain.channel_id)
        if isinstance(domain, CallWaiting) and self._hold_music:
            # park is silent: the waiting caller hears music until an agent is bridged
            self._spawn(self._on_channel(*commands.broadcast(domain.call_id, self._hold_music)))
        caller = self._leg_ends.hold(event, domain)
        if caller is not None:
            domain = None  # told after the caller's own word (leg_ends.py)
            self._hold_leg_end(caller)
        for told in (domain, phone):
            if told is not None:
                self._gate.deliver(told)
        due = self._leg_ends.seen(event)
        if due is not None:
            self._release_leg_ends(due)

    def _hold_leg_end(self, caller: str) -> None:
        if caller not in self._leg_end_timers:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(leg_ends.HOLD_S, self._release_leg_ends, caller)
            self._leg_end_timers[caller] = timer

    def _release_leg_ends(self, caller: str) -> None:
        """The agent legs' ends held for this caller, told now (its own word came, or
        the bound passed)."""
        timer = self._leg_end_timers.pop(caller, None)
        if timer is not None:
            timer.cancel()
        for end in self._leg_ends.release(caller):
            self._gate.deliver(end)

    def _start_bridge(self, caller: str, leg: str) -> None:
        self._spawn(self._bridge(caller, leg))

    def _spawn(self, action: Coroutine[None, None, None]) -> None:
        """Commands started from the reader run as tasks kept until done, errors logged."""

        async def guarded() -> None:
            try:
                await action
            except PbxError as exc:
                log.warning("FreeSWITCH command failed: %s", exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bridge(self, caller: str, leg: str) -> None:
        await self._quiet(caller)
        try:
            result = await self.client.api(*commands.bridge(caller, leg))
            if not result.startswith("+OK"):
                raise PbxRejected(result.strip())
        except PbxError as exc:  # the caller left meanwhile: end the agent's leg too
            log.warning("bridging %s to %s failed: %s", leg, caller, exc)
            await self.hang_up(leg, "bridge failed")

    async def _resync(self) -> None:
        await self._gate.resync(self._snapshot)

    async def _snapshot(self) -> PbxResynced:
        """Every channel (with FreeSWITCH's microsecond times, from `uuid_dump`) and every
        phone's state (the directory, the registrations of every SIP profile, the channels
        in use): after a restart no phone is `unknown` until it registers again.

        Taken a moment after the connect: FreeSWITCH writes its channel table from a queue
        of its own, behind the events (a caller parked 0.4 s before a controller restart was
        not in it, tests/sandbox/test_freeswitch_e2e_restart.py; the transcripts show no row
        right after CHANNEL_PARK, the row a second later). Events arriving meanwhile are held
        by the gate and delivered after the picture."""
        await asyncio.sleep(self._settle_s)
        self._devices.begin_resync()
        try:
            rows = await self.client.api(*commands.show_channels())
            dumps = await self._dumps(devices.channel_uuids(rows))
            directory = devices.directory_users(await self.client.api("list_users"))
            registered: dict[str, devices.Address] = {}
            for profile in devices.profiles(await self.client.api("sofia", "xmlstatus")):
                reg = await self.client.api("sofia", "xmlstatus", "profile", profile, "reg")
                registered |= devices.registered_users(reg)
        except BaseException:
            self._devices.abandon_resync()
            raise
        phones = self._devices.reset(directory, registered, dumps)
        snapshot = translate.to_snapshot(
            rows, phones, inbound_context=self._inbound_context, dumps=dumps
        )
        ended, ended_legs = await self._end_marks()
        restarted = await self._restarted()
        snapshot = replace(
            snapshot, ended=tuple(ended), ended_legs=tuple(ended_legs), restarted=restarted
        )
        return outbound.with_outbound(snapshot, rows, time.time())

    async def _restarted(self) -> bool:
        """Whether FreeSWITCH started anew since the last connection (its core uuid
        changed): the calls it no longer has were cut off by it, not ended by their callers
        (domain/reconcile.py). Read last, so the picture it qualifies is already taken."""
        answer = await self.client.api("global_getvar", "core_uuid")
        known = self._core
        self._core, restarted = translate.core_restarted(known, answer)
        if restarted:
            log.warning("FreeSWITCH restarted (core %s, now %s)", known, self._core)
        return restarted

    async def _dumps(self, uuids: list[str]) -> dict[str, EventHeaders]:
        """`uuid_dump <uuid> json` of each channel; one gone meanwhile is left out."""
        dumps: dict[str, EventHeaders] = {}
        for uuid in uuids:
            found = translate.channel_dump(await self.client.api("uuid_dump", uuid, "json"))
            if found is not None:
                dumps[uuid] = found
        return dumps

    # --- commands ------------------------------------------------------------------------

    async def execute(self, command: PbxCommand) -> None:
        """One command as ESL api calls. Commands this adapter cannot yet carry out on a real
        FreeSWITCH are refused; the centre
        does not offer them for a FreeSWITCH (`features`). None while another controller
        owns this FreeSWITCH."""
        self.keeper.check_commanding(type(command).__name__)
        match command:
            case RingAgent():
                await self.ring_agent(command)
            case DialCustomer():
                await self.dial_customer(command)
            case DialCallback():
                await self._originate(command.leg_id, outbound.dial_callback(command, self._dial))
            case HangUp(channel_id=channel_id, reason=reason):
                await self.hang_up(channel_id, reason)
            case Monitor():
                await self.monitor(command)
            case SendToFallback(call_id=call_id, reason=reason):
                log.info("sending %s to the fallback: %s", call_id, reason)
                await self.redirect(call_id, FALLBACK)
            case PlayMessage(call_id=call_id, sound=sound):
                await self.play_message(call_id, sound)
            case SendToVoicemail(call_id=call_id, mailbox=mailbox):
                await self._to_context(call_id, "ccgw-voicemail", "ccgw_mailbox", mailbox)
            case Announce():
                await self.announce(command)
            case ReturnToQueue(call_id=call_id, extension=extension, agent_leg_id=leg):
                await self.redirect(call_id, DialplanTarget(self._inbound_context, extension))
                if leg is not None:
                    await self.hang_up(leg, "the caller went back to a queue")
            case TransferOut(call_id=call_id, number=number, agent_leg_id=leg):
                await self._on_channel(*commands.transfer_out(call_id, self._dial, number))
                if leg is not None:
                    await self.hang_up(leg, "the caller was transferred out")
            case PlayConsent():
                await self.play_consent(command)
            case (
                StartConsult() | RingConsult() | CompleteConsult() | CancelConsult() | Conference()
            ):
                await self.consults.execute(command)
            case StartRecording(channel_id=leg, file=file, stereo=stereo):
                if stereo:  # read by uuid_record as it starts
                    await self._on_channel(*commands.set_variable(leg, "RECORD_STEREO", "true"))
                await self._recording(commands.record(leg, self._path(file)))
            case MuteRecording(channel_id=leg, file=file, muted=muted):
                await self._recording(commands.mask_recording(leg, self._path(file), muted))
            case ForgetEndMarks(call_ids=call_ids):
                await self._forget_end_marks(call_ids)
            case _:
                raise PbxRejected(f"{type(command).__name__} is not supported on FreeSWITCH yet")

    def sound_problem(self, sound: str) -> str | None:
        """Why a queue's sound cannot be played here (ports.ChecksSounds), or None."""
        try:
            self.sound_path(sound)
        except sounds.UnknownSound as exc:
            return str(exc)
        return None

    def sound_path(self, sound: str) -> str:
        """The FreeSWITCH playback argument for one of the project's sounds (sounds.py);
        UnknownSound when it has none."""
        return sounds.playback_path(sound, self._sounds)

    async def play_message(self, call_id: str, sound: str) -> None:
        """A queue's message, then hang-up (ccgw-message). A sound with no FreeSWITCH
        meaning sends the caller to the fallback instead: a message the switch cannot open
        would be silence, then a hang-up."""
        try:
            path = self.sound_path(sound)
        except sounds.UnknownSound as exc:
            log.warning("%s: the fallback instead of the message: %s", call_id, exc)
            await self.redirect(call_id, FALLBACK)
            return
        await self._to_context(call_id, "ccgw-message", "ccgw_sound", path)

    async def announce(self, command: Announce) -> None:
        """Position, expected wait, comfort sound and the callback offer, said by
        ccgw-announce while the caller stays parked (announce.py), then the hold music. A
        comfort sound with no FreeSWITCH meaning is left out (logged): the rest is still
        worth hearing."""
        comfort = None
        if command.comfort is not None:
            try:
                comfort = self.sound_path(command.comfort)
            except sounds.UnknownSound as exc:
                log.warning("%s: announced without the comfort sound: %s", command.call_id, exc)
        self._announced.add(command.call_id)
        await self._on_channel(*announce.variables(command, comfort))
        await self._on_channel(*announce.interrupt(command.call_id))
        await self._on_channel(*announce.announce(command.call_id))
        if self._hold_music:  # queued behind the announcement
            await self._on_channel(*commands.broadcast(command.call_id, self._hold_music))

    async def _to_context(self, call_id: str, context: str, variable: str, value: str) -> None:
        await self._on_channel(*commands.set_variable(call_id, variable, value))
        await self.redirect(call_id, DialplanTarget(context, "s"))

    async def play_consent(self, command: PlayConsent) -> None:
        """The recording notice in ccgw-consent, then the caller holds again; the dialplan
        fires CUSTOM ccgw::consent (translate: ConsentHeard). A notice with no FreeSWITCH
        meaning is refused (logged): the centre's own timer then lets the caller in
        unrecorded, rather than recording a caller who heard nothing."""
        words = commands.consent_variables(
            command.call_id,
            self.sound_path(command.notice),
            command.refuse_key,
            self._inbound_context,
        )
        target = commands.consent(command.call_id, command.extension)
        await self._on_channel(*words)
        await self._on_channel(*target)

    def _path(self, file: str) -> str:
        return commands.recording_path(self.recordings, file)

    async def _recording(self, words: tuple[str, ...]) -> None:
        """uuid_record as a background job, its answer awaited: a `-ERR` (no such leg, a
        file FreeSWITCH cannot open, no recording by that path) is PbxRejected, which the
        dispatcher turns into RecordingFailed for a start, as for Asterisk's MixMonitor."""
        result = (await self.client.bgapi(*words)).strip()
        if not result.startswith("+OK"):
            raise PbxRejected(f"{' '.join(words[:3])}: {result or 'no answer'}")

    async def dial_customer(self, command: DialCustomer) -> None:
        """A campaign's call, customer first (outbound.py, dialplans' ccgw-outbound)."""
        abandon, machine, notes = outbound.sounds(command, self.sound_path)
        for note in notes:
            log.warning("%s: %s", command.dial_id, note)
        await self._originate(
            command.dial_id, outbound.dial_customer(command, self._dial, abandon, machine)
        )

    async def _originate(self, channel: str, words: tuple[str, ...]) -> None:
        log.info("originating %s", channel)
        await self.client.bgapi_start(*words)

    def reaches(self, pbx: str) -> bool:
        """Whether an agent on `pbx` can be rung over a trunk from here (ports.Trunked)."""
        return pbx in self._gateways

    async def ring_agent(self, command: RingAgent) -> None:
        if command.call_id.startswith(outbound.DIAL_PREFIX):  # bridges itself (the claim)
            words = outbound.originate_live_agent(command, self.recordings)
            await self._originate(command.leg_id, words)
            return
        words = commands.originate_agent(command, self.recordings, gateways=self._gateways)
        self._ringing[command.leg_id] = command.call_id
        try:
            await self.client.bgapi_start(*words)
        except PbxError:
            self._ringing.pop(command.leg_id, None)
            raise

    async def hang_up(self, channel_id: str, reason: str = "") -> None:
        log.info("hanging up %s: %s", channel_id, reason)
        await self._on_channel(*commands.kill(channel_id))

    async def redirect(self, channel_id: str, target: DialplanTarget) -> None:
        await self._quiet(channel_id)
        await self._on_channel(*commands.transfer(channel_id, target))

    async def _quiet(self, call_id: str) -> None:
        """Drop what an announcement left queued on the caller (its hold music) before the
        caller is bridged or sent on: FreeSWITCH runs a channel's queued broadcasts inside a
        bridge too (switch_ivr_bridge.c parses private events, unbridging to play them), so
        the endless music would take the caller away from the agent, or play on in the
        context they were sent to. Only for callers announced to: nothing else queues
        there. A failure is logged; the bridge or the transfer is still worth trying."""
        if call_id not in self._announced:
            return
        self._announced.discard(call_id)
        try:
            await self._on_channel(*announce.interrupt(call_id))
        except PbxError as exc:
            log.warning("%s: what the announcement queued was not dropped: %s", call_id, exc)

    async def play(self, channel_id: str, sound: str) -> None:
        await self._on_channel(*commands.broadcast(channel_id, sound))

    async def monitor(self, command: Monitor) -> None:
        await self.client.bgapi_start(*commands.eavesdrop(command))

    async def close(self) -> None:
        await self.client.close()

    async def _on_channel(self, *words: str) -> None:
        """An api command on one channel; a channel that is already gone is not an error."""
        result = (await self.client.api(*words)).strip()
        if result.startswith("-ERR") and "No such channel" not in result:
            raise PbxRejected(result)
