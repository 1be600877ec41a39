"""Domain commands as AMI actions, in the order they are sent: every action the controller
sends but Login and Ping (the client's) is built here. Pure: no I/O.

Each builder checks what the wire cannot check for it: AMI's `Variable` header is split on
commas, so no value put there may hold one; numbers and sounds are checked by the domain
already and again here where they meet a dialplan argument. CR, LF and NUL are refused by
the client for every header (pbx/wire.py). The contexts are dialplans/asterisk/ccgateway.conf's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ccgateway.domain.commands import (
    Announce,
    CancelConsult,
    CompleteConsult,
    Conference,
    DialCallback,
    Monitor,
    MonitorMode,
    MuteRecording,
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
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.domain.queue_policy import MAILBOX_PATTERN, NUMBER_PATTERN, SOUND_PATTERN
from ccgateway.pbx import trunks
from ccgateway.pbx.asterisk.translate import AGENT
from ccgateway.ports import DialplanTarget, InvalidWireValue

AmiAction = dict[str, str]
TRUNK_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FOLDER_PATTERN = re.compile(r"^/[A-Za-z0-9_./-]{0,200}$")
FILE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}\.wav$")
DEFAULT_RECORDINGS = "/var/spool/asterisk/monitor"


class Actions:
    """Builds the AMI actions for commands; `trunk` is the PJSIP endpoint that reaches the
    outside world (the customers' trunk)."""

    def __init__(
        self,
        trunk: str = "trunk",
        recordings: str = DEFAULT_RECORDINGS,
        trunks: Mapping[str, str] | None = None,
    ) -> None:
        """`recordings`: the folder Asterisk writes recordings into, as Asterisk sees it;
        `trunks`: another PBX's name -> the PJSIP endpoint here that reaches it."""
        for endpoint in (trunk, *(trunks or {}).values()):
            if not TRUNK_PATTERN.fullmatch(endpoint):
                raise InvalidWireValue(
                    f"trunk endpoint {endpoint!r}: letters, digits, '_', '.', '-'"
                )
        if not FOLDER_PATTERN.fullmatch(recordings):
            raise InvalidWireValue(f"recordings folder {recordings!r}: an absolute path")
        self.trunk = trunk
        self.recordings = recordings.rstrip("/")
        self.trunks = dict(trunks or {})

    def originate_agent(self, command: RingAgent) -> AmiAction:
        """The agent leg (`originate_agent`); an agent on another PBX is rung over the trunk
        to it: `PJSIP/<phone>@<endpoint>`, where that PBX's dialplan (ccgw-trunk-agents)
        rings its own phone. The leg names the agent's device and PBX (pbx/trunks.py) in its
        account code, which the resync reads, and in CCGW_DEVICE, which its end mark keeps
        (an endpoint's own accountcode, on any other leg, must not stand for the phone)."""
        action = originate_agent(command, self.recordings)
        if not command.agent_pbx:
            return action
        endpoint = self.trunks.get(command.agent_pbx)
        if endpoint is None:
            raise InvalidWireValue(
                f"no trunk from this Asterisk to {command.agent_pbx} (its `trunks` setting)"
            )
        account = trunks.account(command.device, command.agent_pbx)
        action["Channel"] = f"PJSIP/{trunks.phone(command.device)}@{endpoint}"
        action["Account"] = account
        action["Variable"] += f",CCGW_DEVICE={account}"
        return action

    def record(self, command: StartRecording) -> list[AmiAction]:
        """MixMonitor on the agent's leg (b: only while bridged), started on demand: the AMI
        action needs the `system` class (app_mixmonitor), which a queue's own recordings
        do not (the dialplan starts them: originate_agent)."""
        file, options = _recording(command.file, command.stereo)
        return [
            {
                "Action": "MixMonitor",
                "Channel": command.channel_id,
                "File": f"{self.recordings}/{file}",
                "Options": options,
            }
        ]

    def mute_recording(self, command: MuteRecording) -> list[AmiAction]:
        """Both directions muted: the file goes on with silence for the pause."""
        return [
            {
                "Action": "MixMonitorMute",
                "Channel": command.channel_id,
                "Direction": "both",
                "State": "1" if command.muted else "0",
            }
        ]

    def dial_string(self, number: str) -> str:
        if not NUMBER_PATTERN.fullmatch(number):
            raise InvalidWireValue(f"number {number!r}: digits with an optional leading +")
        return f"PJSIP/{number}@{self.trunk}"

    def fallback(self, command: SendToFallback) -> list[AmiAction]:
        return [redirect(command.call_id, DialplanTarget("ccgw-fallback", "s"))]

    def message(self, command: PlayMessage) -> list[AmiAction]:
        return [
            set_variable(command.call_id, "CCGW_SOUND", _sound(command.sound)),
            redirect(command.call_id, DialplanTarget("ccgw-message", "s")),
        ]

    def voicemail(self, command: SendToVoicemail) -> list[AmiAction]:
        if not MAILBOX_PATTERN.fullmatch(command.mailbox):
            raise InvalidWireValue(f"mailbox {command.mailbox!r}")
        return [
            set_variable(command.call_id, "CCGW_MAILBOX", command.mailbox),
            redirect(command.call_id, DialplanTarget("ccgw-voicemail", "s")),
        ]

    def announce(self, command: Announce) -> list[AmiAction]:
        """Every part's variable is set (an empty value clears one left from before)."""
        minutes = "" if command.wait_s is None else str(max(1, round(command.wait_s / 60)))
        position = "" if command.position is None else str(command.position)
        comfort = "" if command.comfort is None else _sound(command.comfort)
        return [
            set_variable(command.call_id, "CCGW_POSITION", position),
            set_variable(command.call_id, "CCGW_EWT_MIN", minutes),
            set_variable(command.call_id, "CCGW_COMFORT", comfort),
            set_variable(
                command.call_id, "CCGW_OFFER_CALLBACK", "1" if command.offer_callback else ""
            ),
            redirect(command.call_id, DialplanTarget("ccgw-announce", _digits(command.extension))),
        ]

    def consent(self, command: PlayConsent) -> list[AmiAction]:
        """The recording notice, before the caller joins the line (ccgw-consent)."""
        key = command.refuse_key or ""
        if key and (len(key) != 1 or key not in "0123456789*"):
            raise InvalidWireValue(f"refusal key {key!r}")
        return [
            set_variable(command.call_id, "CCGW_NOTICE", _sound(command.notice)),
            set_variable(command.call_id, "CCGW_REFUSE_KEY", key),
            redirect(command.call_id, DialplanTarget("ccgw-consent", _digits(command.extension))),
        ]

    def callback(self, command: DialCallback) -> list[AmiAction]:
        variables = {
            "CCGW_DIAL": self.dial_string(command.number),
            "CCGW_RING": str(int(command.customer_ring_s)),
            "CCGW_CLI": command.caller_id or "",
        }
        if command.caller_id is not None and not NUMBER_PATTERN.fullmatch(command.caller_id):
            raise InvalidWireValue(f"caller id {command.caller_id!r}")
        return [
            {
                "Action": "Originate",
                "ActionID": command.leg_id,
                "ChannelId": command.leg_id,
                "Channel": command.device,
                "Context": "ccgw-callback",
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "Timeout": str(int(command.agent_ring_s * 1000)),
                "CallerID": caller_id("Callback", command.number),
                "Variable": _variables(variables),
            }
        ]

    def dial_customer(self, command: DialCustomer) -> list[AmiAction]:
        """A campaign's call: the customer first; on answer ccgw-outbound runs AMD (if on),
        says who answered, and holds a person at most the grace for an agent leg."""
        if not NUMBER_PATTERN.fullmatch(command.caller_id):
            raise InvalidWireValue(f"caller id {command.caller_id!r}")
        variables = {
            "CCGW_AMD": "1" if command.amd else "0",
            "CCGW_MACHINE_ACTION": "message" if command.machine_message else "hangup",
            "CCGW_MACHINE_SOUND": _sound(command.machine_message)
            if command.machine_message
            else "",
            "CCGW_ABANDON_SOUND": _sound(command.abandon_message),
            "CCGW_GRACE": f"{command.grace_s:.3f}",
            "CCGW_GRACE_AFTER_AMD": "0" if command.grace_counts_amd else "1",
        }
        return [
            {
                "Action": "Originate",
                "ActionID": command.dial_id,
                "ChannelId": _outbound_id(command.dial_id),
                "Channel": self.dial_string(command.number),
                "Context": "ccgw-outbound",
                "Exten": _campaign_exten(command.campaign_id),
                "Priority": "1",
                "Async": "true",
                "Timeout": str(int(command.ring_s * 1000)),
                "CallerID": caller_id(command.caller_name, command.caller_id),
                "Variable": _variables(variables),
            }
        ]

    def requeue(self, command: ReturnToQueue) -> list[AmiAction]:
        """The caller leaves its agent's bridge; the agent leg's Bridge() returns and ends."""
        target = DialplanTarget("ccgw-requeue", _digits(command.extension))
        return [redirect(command.call_id, target)]

    def transfer_out(self, command: TransferOut) -> list[AmiAction]:
        return [
            set_variable(command.call_id, "CCGW_DIAL", self.dial_string(command.number)),
            redirect(command.call_id, DialplanTarget("ccgw-transfer-out", "s")),
        ]

    def start_consult(self, command: StartConsult) -> list[AmiAction]:
        """One Redirect moves both: the caller to music, the agent leg to wait (verified: a
        single dual Redirect keeps either leg from taking the other meanwhile)."""
        return [
            {
                **redirect(
                    command.call_id,
                    DialplanTarget("ccgw-consult-hold", _digits(command.extension)),
                ),
                "ExtraChannel": command.agent_leg_id,
                "ExtraContext": "ccgw-consult-wait",
                "ExtraExten": _call_exten(command.call_id),
                "ExtraPriority": "1",
            }
        ]

    def ring_consult(self, command: RingConsult) -> list[AmiAction]:
        channel = self.dial_string(command.target) if command.is_number else command.target
        return [
            {
                "Action": "Originate",
                "ActionID": command.leg_id,
                "ChannelId": command.leg_id,
                "Channel": channel,
                "Context": "ccgw-consult-agent",
                "Exten": _call_exten(command.call_id),
                "Priority": "1",
                "Async": "true",
                "Timeout": str(int(command.timeout_s * 1000)),
                "CallerID": caller_id("Consult", command.caller_number),
                "Variable": _variables({"CCGW_CONSULT": command.agent_leg_id}),
            }
        ]

    def complete_consult(self, command: CompleteConsult) -> list[AmiAction]:
        """The first agent's leg goes; the consulted leg's dialplan then takes the caller."""
        return [hangup(command.agent_leg_id)]

    def cancel_consult(self, command: CancelConsult) -> list[AmiAction]:
        """The consulted leg goes; the agent leg's dialplan goes back to the caller."""
        return [hangup(command.consult_leg_id)]

    def conference(self, command: Conference) -> list[AmiAction]:
        """The agents first (together, so neither takes the caller as their bridge breaks),
        then the caller, into ConfBridge room = the caller's uniqueid."""
        room = DialplanTarget("ccgw-conf-agent", _call_exten(command.call_id))
        actions: list[AmiAction] = []
        legs = list(command.legs)
        while legs:
            first = legs.pop(0)
            action = redirect(first, room)
            if legs:
                action |= {
                    "ExtraChannel": legs.pop(0),
                    "ExtraContext": room.context,
                    "ExtraExten": room.exten,
                    "ExtraPriority": "1",
                }
            actions.append(action)
        caller = DialplanTarget("ccgw-conf-caller", _digits(command.extension))
        return [*actions, redirect(command.call_id, caller)]


AUTO_ANSWER = (
    "PJSIP_HEADER(add,Call-Info)=<sip:autoanswer.invalid>;answer-after=0,"
    "PJSIP_HEADER(add,Alert-Info)=<http://autoanswer.invalid>;info=alert-autoanswer;delay=0"
)


def originate_agent(command: RingAgent, recordings: str = DEFAULT_RECORDINGS) -> AmiAction:
    """Ring the agent; on answer the dialplan bridges the leg to the waiting caller (and
    records it first with MixMonitor when CCGW_RECORD names a file: no `system` class)."""
    if "," in command.call_id:
        raise InvalidWireValue("call id: AMI splits Variable values on commas")
    variables = f"CCGW_CALLER={command.call_id}"
    if command.auto_answer:  # a dialer's live call: the phone answers at once
        variables += "," + AUTO_ANSWER
    if command.record_file:
        file, options = _recording(command.record_file, command.record_stereo)
        variables += f",CCGW_RECORD={recordings.rstrip('/')}/{file},CCGW_RECORD_OPTIONS={options}"
    return {
        "Action": "Originate",
        "ActionID": command.leg_id,
        "ChannelId": command.leg_id,
        "Channel": command.device,
        "Context": AGENT,
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": str(int(command.timeout_s * 1000)),
        "CallerID": caller_id(command.caller_name, command.caller_number),
        "Variable": variables,
    }


SPY_OPTIONS = {MonitorMode.LISTEN: "qE", MonitorMode.WHISPER: "qEw", MonitorMode.BARGE: "qEB"}


def spy(command: Monitor, channel_name: str) -> AmiAction:
    """Ring the supervisor; on answer ChanSpy joins the agent's channel (q: no beep and no
    announcement, E: leave when the agent's channel ends, w: whisper, B: barge)."""
    return {
        "Action": "Originate",
        "Channel": command.supervisor_device,
        "Application": "ChanSpy",
        "Data": f"{channel_name},{SPY_OPTIONS[command.mode]}",
        "Async": "true",
        "Timeout": "30000",
        "CallerID": f'"{command.mode.value}" <monitor>',
    }


def show_channels() -> AmiAction:
    """The resync's list of channels (CoreShowChannel events, then ...Complete)."""
    return {"Action": "CoreShowChannels"}


def list_devices() -> AmiAction:
    """The resync's list of device states (DeviceStateChange events, then ...Complete)."""
    return {"Action": "DeviceStateList"}


def show_stamps() -> AmiAction:
    """The resync's sub-second stamps: every channel's CCGW_SINCE (Status events, then
    StatusComplete); the channel list itself gives ages in whole seconds only."""
    return {"Action": "Status", "Variables": "CCGW_SINCE"}


def core_status() -> AmiAction:
    """When the PBX started (CoreStartupDate, CoreStartupTime): a restart since the last
    connection tells cut-off calls from calls their callers ended."""
    return {"Action": "CoreStatus"}


def core_settings() -> AmiAction:
    """The PBX's settings; its SystemName is where its uniqueids come from (pbx/uniqueids.py)."""
    return {"Action": "CoreSettings"}


def hangup(channel_id: str, cause: int = 16) -> AmiAction:
    return {"Action": "Hangup", "Channel": channel_id, "Cause": str(cause)}


def redirect(channel_id: str, target: DialplanTarget) -> AmiAction:
    return {
        "Action": "Redirect",
        "Channel": channel_id,
        "Context": target.context,
        "Exten": target.exten,
        "Priority": str(target.priority),
    }


def set_variable(channel_id: str, name: str, value: str) -> AmiAction:
    return {"Action": "Setvar", "Channel": channel_id, "Variable": name, "Value": value}


def caller_id(name: str, number: str) -> str:
    """A CallerID header the agent's phone shows; characters that could break it dropped.

    The name comes from the public network: it is cleaned, not refused, so a hostile caller
    name cannot make an agent look unreachable.
    """
    clean_name = re.sub(r'["<>\\\x00-\x1f,]', "", name)[:60]
    clean_number = re.sub(r"[^0-9+*#]", "", number)[:32]
    return f'"{clean_name}" <{clean_number}>' if clean_name else f"<{clean_number}>"


def _variables(values: dict[str, str]) -> str:
    for name, value in values.items():
        if "," in value:
            raise InvalidWireValue(f"{name}: AMI splits Variable values on commas")
    return ",".join(f"{name}={value}" for name, value in values.items())


def _outbound_id(dial_id: str) -> str:
    if not dial_id.startswith("ob-") or not re.fullmatch(r"[0-9A-Za-z._-]{4,100}", dial_id):
        raise InvalidWireValue(f"dial id {dial_id!r}: ob- then letters, digits, '.', '_', '-'")
    return dial_id


def _campaign_exten(campaign_id: str) -> str:
    """The campaign as ccgw-outbound's extension: two characters or more (one letter would
    be a special extension such as h) and not "failed" (a failed originate's)."""
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_-]{1,63}", campaign_id) or campaign_id == "failed":
        raise InvalidWireValue(f"campaign id {campaign_id!r} cannot be ccgw-outbound's extension")
    return campaign_id


def _file(file: str) -> str:
    if not FILE_PATTERN.fullmatch(file):
        raise InvalidWireValue(f"recording file {file!r}: letters, digits, '_', '-' and .wav")
    return file


def _recording(file: str, stereo: bool) -> tuple[str, str]:
    """The file MixMonitor writes, and its options (b: only while bridged). Stereo is D
    (the agent's side and the caller's interleaved), which Asterisk writes only as raw
    audio: `<id>.raw`, made into the `<id>.wav` the record names once the call has ended
    (persistence/recording_store.py)."""
    if not stereo:
        return _file(file), "b"
    return _file(file).removesuffix(".wav") + ".raw", "bD"


def _sound(sound: str) -> str:
    if not SOUND_PATTERN.fullmatch(sound) or ".." in sound:
        raise InvalidWireValue(f"sound {sound!r}")
    return sound


def _digits(extension: str) -> str:
    if not extension.isdigit():
        raise InvalidWireValue(f"extension {extension!r} must be digits")
    return extension


def _call_exten(call_id: str) -> str:
    """A caller's uniqueid as the extension of the contexts that work for it."""
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]{0,149}", call_id):
        raise InvalidWireValue(f"call id {call_id!r} cannot be a dialplan extension")
    return call_id


# --- the PBX's end marks (dialplan [ccgw-end-mark], domain/gap.py) ---------------------------

END_FAMILY = "ccgw_end"
END_MARK_CONTEXT = "ccgw-end-mark"
FORGET_BATCH = 25  # callers per Originate: the Variable header stays well under a kilobyte
_MARK_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def read_end_marks() -> AmiAction:
    """Every end mark (DBGetTreeResponse events, then DBGetTreeComplete); class reporting."""
    return {"Action": "DBGetTree", "Family": END_FAMILY}


def forget_end_marks(call_ids: Sequence[str]) -> list[AmiAction]:
    """Drop the marks of these callers. AMI's DBDelTree needs the `system` class, which the
    controller does without, so a Local channel runs the dialplan's `forget` (DBdeltree
    for each id) with the ids in one variable: `originate` is enough."""
    for call_id in call_ids:
        if not _MARK_ID.fullmatch(call_id):
            raise InvalidWireValue(f"call id {call_id!r}: not a PBX uniqueid")
    return [
        {
            "Action": "Originate",
            "Channel": f"Local/forget@{END_MARK_CONTEXT}/n",
            "Application": "NoOp",
            "Async": "true",
            "Timeout": "5000",
            "Variable": "CCGW_FORGET=" + "&".join(call_ids[i : i + FORGET_BATCH]),
        }
        for i in range(0, len(call_ids), FORGET_BATCH)
    ]
