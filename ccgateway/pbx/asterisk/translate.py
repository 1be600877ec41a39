"""AMI messages to domain events (actions.py builds what goes the other way). Pure: no I/O.

The names (`ccgw-inbound`, `ccgw-agent`, the `CCGW*` user events) are the contract with
dialplans/asterisk/ccgateway.conf; dialplans/asterisk/README.md lists the events this is
built on, as seen on Asterisk 22.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    BridgeFailed,
    CallbackAnswered,
    CallbackFailed,
    CallbackRequested,
    CallerChannel,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    ConsentHeard,
    DeviceState,
    DeviceStateChanged,
    EndMark,
    Feature,
    FeatureCodeDialled,
    HoldTimedOut,
    LegBridged,
    LegEndMark,
    LegFailure,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundChannel,
    OutboundFailed,
    OutboundLive,
    PbxEvent,
    PbxResynced,
    RecordingToggled,
    VoicemailEnded,
    failure_for_cause,
)
from ccgateway.domain.model import MAX_PRIORITY
from ccgateway.pbx import trunks
from ccgateway.pbx.end_mark_reading import sort_marks
from ccgateway.pbx.wire import plain_text

AmiMessage = Mapping[str, str]
INBOUND, AGENT, FALLBACK = "ccgw-inbound", "ccgw-agent", "ccgw-fallback"
LEG_PREFIX = "ccgw-"  # every agent leg id the core makes starts with this
DIAL_PREFIX = "ob-"  # every campaign dial's customer channel id starts with this
OUTBOUND = "ccgw-outbound"
# Hang-up causes of a campaign's customer channel that mean it was never answered (the
# OriginateResponse that follows says only "Reason 0" for most of them).
UNANSWERED_CAUSES = frozenset({1, 3, 17, 18, 19, 20, 21, 22, 27, 28, 31, 34, 38, 41, 42, 44})
# Where a campaign's customer is, by the application its channel runs (CoreShowChannels).
OUTBOUND_STAGES = {"AMD": "answered", "Wait": "live", "WaitForSilence": "message"}
UNKNOWN = {"", "<unknown>", "<null>"}
OUR_CONTEXTS = "ccgw-"  # every context of dialplans/asterisk/ccgateway.conf starts with it
SINCE_VARIABLE = "CCGW_SINCE"  # the dialplan's sub-second stamp on callers and agent legs
# Contexts a waiting (or talking) caller can be in; the extension is the caller's queue's.
CALLER_CONTEXTS = frozenset(
    {
        INBOUND,
        "ccgw-announce",
        "ccgw-consent",
        "ccgw-requeue",
        "ccgw-consult-hold",
        "ccgw-conf-caller",
    }
)
# Contexts of agent legs working for a caller, whose extension is the caller's uniqueid, and
# the part each leg plays.
LEG_ROLES = {
    "ccgw-consult-wait": "agent",
    "ccgw-consult-agent": "consulted",
    "ccgw-conf-agent": "conference",
    "ccgw-callback": "callback",
}
# ${DIALSTATUS} of a callback's dial that did not reach the customer.
DIAL_FAILURES = {
    "BUSY": LegFailure.BUSY,
    "NOANSWER": LegFailure.NO_ANSWER,
    "CHANUNAVAIL": LegFailure.UNREACHABLE,
    "CONGESTION": LegFailure.UNREACHABLE,
    "CANCEL": LegFailure.ERROR,
}

# OriginateResponse `Reason` (Asterisk's AST_CONTROL_* codes) when the leg was not answered.
ORIGINATE_REASONS = {
    "0": LegFailure.UNREACHABLE,  # no channel could be made (unknown or unreachable device)
    "1": LegFailure.REJECTED,  # hung up while ringing
    "3": LegFailure.NO_ANSWER,  # ring timeout
    "5": LegFailure.BUSY,
    "8": LegFailure.UNREACHABLE,  # congestion
}
DEVICE_STATES = {
    "NOT_INUSE": DeviceState.AVAILABLE,
    "INUSE": DeviceState.IN_USE,
    "BUSY": DeviceState.IN_USE,
    "ONHOLD": DeviceState.IN_USE,
    "RINGING": DeviceState.RINGING,
    "RINGINUSE": DeviceState.RINGING,
    "UNAVAILABLE": DeviceState.UNAVAILABLE,
    "INVALID": DeviceState.UNAVAILABLE,
    "UNKNOWN": DeviceState.UNKNOWN,
}


def _priority(text: str) -> int | None:
    """CCGW_PRIORITY as the dialplan set it; anything but 0-100 means the queue's default."""
    text = text.strip()
    if text.isdigit() and len(text) <= 3 and int(text) <= MAX_PRIORITY:
        return int(text)
    return None


def _feature(message: AmiMessage) -> FeatureCodeDialled | None:
    """A feature code from an agent's phone; the device is the channel name without its
    sequence suffix (PJSIP/agent1-0000002a -> PJSIP/agent1)."""
    try:
        feature = Feature(message.get("Feature", ""))
    except ValueError:
        return None
    device = message.get("Channel", "").rpartition("-")[0]
    code = message.get("Code", "").strip()
    return FeatureCodeDialled(
        device, feature, int(code) if code.isdigit() and len(code) <= 2 else None
    )


def to_event(message: AmiMessage) -> PbxEvent | None:
    """The domain event an AMI event means, or None when it means nothing to the core."""
    name = message.get("Event", "")
    uniqueid = message.get("Uniqueid", "")
    if name == "UserEvent":
        kind = message.get("UserEvent", "")
        if kind == "CCGWWaiting":
            return CallWaiting(
                uniqueid,
                message.get("Queue", message.get("Exten", "")),
                caller_number(message.get("CallerIDNum")),
                caller_name(message.get("CallerIDName")),
                _priority(message.get("CCGWPriority", "")),
            )
        if kind == "CCGWAgentAnswered":  # Timestamp: with manager.conf's timestampevents
            return AgentLegAnswered(uniqueid, _stamp(message.get("Timestamp", "")))
        if kind == "CCGWBridgeFailed":  # on the agent leg, after Bridge() returned at once
            return BridgeFailed(uniqueid, plain_text(message.get("Result", "")))
        if kind == "CCGWFeature":
            return _feature(message)
        if kind == "CCGWHoldTimeout":
            return HoldTimedOut(uniqueid)
        if kind == "CCGWVoicemailEnded":
            return VoicemailEnded(uniqueid, voicemail_failure(message))
        if kind == "CCGWCallbackRequested":
            return CallbackRequested(uniqueid)
        if kind == "CCGWRecordingToggle":  # on the agent leg that pressed the key
            return RecordingToggled(uniqueid)
        if kind == "CCGWConsent":
            return ConsentHeard(uniqueid, message.get("Refused", "").strip() == "1")
        if kind == "CCGWCallbackAnswered":  # sent on the customer's channel
            return CallbackAnswered(message.get("AgentLeg", ""))
        if kind == "CCGWOutboundAnswered":
            return OutboundAnswered(uniqueid)
        if kind == "CCGWOutboundLive":
            status = message.get("AMDStatus", "").strip().lower()
            return OutboundLive(uniqueid, status if status in ("human", "notsure") else "")
        if kind == "CCGWOutboundMachine":
            return MachineDetected(uniqueid, message.get("AMDCause", ""))
        if kind == "CCGWOutboundAbandoned":
            return OutboundAbandoned(uniqueid)
        if kind == "CCGWCallbackEnded":
            status = message.get("DialStatus", "")
            if status == "ANSWER":
                return None  # the talk is over; the agent leg's hang-up ends the callback
            failure = DIAL_FAILURES.get(status, LegFailure.ERROR)
            return CallbackFailed(uniqueid, failure, f"dial status {status}")
        return None
    if name == "OriginateResponse" and message.get("Response") == "Failure":
        # The ActionID is the leg id: it is there even when no channel could be made.
        leg_id = message.get("ActionID") or uniqueid
        dial_id = next((i for i in (uniqueid, leg_id) if i.startswith(DIAL_PREFIX)), "")
        if dial_id:
            failure = ORIGINATE_REASONS.get(message.get("Reason", ""), LegFailure.ERROR)
            return OutboundFailed(dial_id, failure, f"originate reason {message.get('Reason')}")
        failure = ORIGINATE_REASONS.get(message.get("Reason", ""), LegFailure.ERROR)
        return AgentLegFailed(leg_id, failure, f"originate reason {message.get('Reason')}")
    if name in ("Hangup", "HangupRequest") and uniqueid.startswith(DIAL_PREFIX):
        # A campaign's customer never answered: the cause says why (busy, invalid), which
        # the OriginateResponse does not ("Reason 0"); for a busy line the HangupRequest
        # comes before it (verified on 22.10.1), the Hangup after.
        cause = _int(message.get("Cause"), 16)
        if cause in UNANSWERED_CAUSES:
            return OutboundFailed(uniqueid, failure_for_cause(cause), f"cause {cause}")
    if name == "Hangup" and uniqueid:
        cause = _int(message.get("Cause"), 16)
        return ChannelHungUp(uniqueid, cause, message.get("Cause-txt", ""))
    if name == "BridgeEnter" and uniqueid.startswith(LEG_PREFIX) and _bridged(message):
        return LegBridged(uniqueid)
    if name == "DeviceStateChange" and "ActionID" not in message:
        return device_state(message)
    return None


# The events the controller reads, of the classes its Login asks for (client.EVENTS).
READ_EVENTS = (
    "UserEvent",
    "OriginateResponse",
    "Hangup",
    "HangupRequest",
    "SoftHangupRequest",
    "HangupHandlerRun",
    "BridgeEnter",
    "DeviceStateChange",
    "Newexten",
)


# Of the events read, those whose instances mean something only on some channels: the
# filters let the rest stay in Asterisk (manager_filters), the client drops them unparsed
# where the filters are not set (unwanted). A caller's BridgeEnter (the holding bridge,
# then its agent's) says nothing: an agent leg's says the two are bridged. A successful
# originate says nothing (its leg's own events follow). A hang-up handler or request on an
# agent leg says nothing: only a caller's marks it as ending (whereabouts.py).
ONLY_AGENT_LEGS = ("BridgeEnter",)
NOT_AGENT_LEGS = ("HangupRequest", "HangupHandlerRun")


def manager_filters() -> list[str]:
    """manager.conf `eventfilter` lines (Asterisk's advanced filters) that keep off the
    controller's AMI user every event it does not read: of the classes it asks for, most of
    the traffic of a call (every VarSet, every dialplan step in our own contexts, the
    caller's bridges) would otherwise reach it only to be dropped by `unwanted`. Optional:
    without them the controller drops the same events itself. An event must match one
    `include` line and no `exclude` line."""

    def line(action: str, name: str, condition: str = "", value: str = "") -> str:
        return f"eventfilter(action({action}),name({name}){condition}) = {value}".rstrip()

    starts = ",header({}),method(starts_with)"
    lines = []
    for name in READ_EVENTS:
        if name in ONLY_AGENT_LEGS:
            lines.append(line("include", name, starts.format("Uniqueid"), LEG_PREFIX))
        elif name == "OriginateResponse":  # a failure's reason is all it tells
            lines.append(line("include", name, ",header(Response),method(exact)", "Failure"))
        else:
            lines.append(line("include", name))
    lines.append(line("exclude", "Newexten", starts.format("Context"), OUR_CONTEXTS))
    lines += [line("exclude", n, starts.format("Uniqueid"), LEG_PREFIX) for n in NOT_AGENT_LEGS]
    return lines


def unwanted(raw: bytes) -> bool:
    """An AMI message (raw bytes) the controller never reads, dropped before it is parsed,
    as `manager_filters` would keep it in Asterisk: the class `dialplan` it asks for (for
    Newexten) brings every VarSet too, Newexten in our own contexts (the channel snapshot's
    one Context header) mean nothing, nor do the events of ONLY_AGENT_LEGS and
    NOT_AGENT_LEGS on the other channels, nor a successful originate."""
    name = raw[7 : raw.find(b"\r\n")] if raw.startswith(b"Event: ") else b""
    if name == b"VarSet":
        return True
    if name == b"Newexten":
        return b"\r\nContext: ccgw-" in raw
    if name == b"OriginateResponse":
        return b"\r\nResponse: Failure" not in raw
    leg = _LEG_UNIQUEID in raw
    if name in _ONLY_AGENT_LEGS:
        return not leg
    return leg and name in _NOT_AGENT_LEGS


_LEG_UNIQUEID = f"\r\nUniqueid: {LEG_PREFIX}".encode()
_ONLY_AGENT_LEGS = frozenset(n.encode() for n in ONLY_AGENT_LEGS)
_NOT_AGENT_LEGS = frozenset(n.encode() for n in NOT_AGENT_LEGS)


def _bridged(message: AmiMessage) -> bool:
    """An agent leg's Bridge() in ccgw-agent joined its caller: the leg entered a bridge
    that holds the caller already (the caller is moved in first)."""
    count = message.get("BridgeNumChannels", "")
    return message.get("Context") == AGENT and count.isdigit() and int(count) >= 2


def left_dialplan(message: AmiMessage) -> CallerLeft | None:
    """A `Newexten` (class dialplan) in a context that is not the controller's: the channel
    was taken out of its dialplan (every context of ours starts with `ccgw-`). Whether the
    channel is a caller, and not merely running its hang-up handlers, the adapter knows
    (whereabouts.py)."""
    context = message.get("Context", "")
    if message.get("Event") != "Newexten" or not context or context.startswith(OUR_CONTEXTS):
        return None
    return CallerLeft(message.get("Uniqueid", ""), plain_text(context), message.get("Exten", ""))


def since_stamps(statuses: Iterable[AmiMessage]) -> dict[str, float]:
    """Channel -> CCGW_SINCE (the dialplan's sub-second stamp: a caller's start of waiting,
    an agent leg's answer) from a `Status` list asked with `Variables: CCGW_SINCE`."""
    stamps: dict[str, float] = {}
    for status in statuses:
        name, _, value = status.get("Variable", "").partition("=")
        if status.get("Event") == "Status" and name == SINCE_VARIABLE:
            try:
                stamp = float(value)
            except ValueError:
                continue
            if math.isfinite(stamp) and stamp > 0:
                stamps[status.get("Uniqueid", "")] = stamp
    return stamps


def started_at(core_status: Iterable[AmiMessage]) -> str | None:
    """When this Asterisk process started (CoreStatus: its start date and time, to the
    second, in its own time zone), as a text compared from one connection to the next: a
    different one means the PBX restarted meanwhile. None if it did not say."""
    for message in core_status:
        date, time = message.get("CoreStartupDate", ""), message.get("CoreStartupTime", "")
        if date and time:
            return f"{date} {time}"
    return None


def system_name(core_settings: Iterable[AmiMessage]) -> str:
    """The PBX's systemname (CoreSettings), "" when it has none: the prefix of every
    uniqueid it makes (pbx/uniqueids.py)."""
    for message in core_settings:
        return message.get("SystemName", "").strip()
    return ""


def voicemail_failure(message: AmiMessage) -> str:
    """Why the PBX could not take a caller's message (UserEvent CCGWVoicemailEnded from
    ccgw-voicemail's hang-up handler), "" when it could or the caller hung up first.

    VMSTATUS is empty when VoiceMail() never ran: no such application (on stock Debian,
    app_voicemail_odbc failing to load takes it away). FAILED after VoiceMail() returned
    (Returned: 1) means no message was taken: a mailbox the PBX cannot use or store to, or
    one shorter than minsecs; FAILED without it is a caller who hung up during the greeting
    (app_voicemail says FAILED for each).
    """
    status = message.get("VMStatus", "").strip()
    if status == "":
        return "no VoiceMail application on the PBX (VoiceMail() never ran)"
    if status == "FAILED" and message.get("Returned", "").strip() == "1":
        return f"VoiceMail() took no message for mailbox {plain_text(message.get('Mailbox', ''))}"
    return ""


def device_state(message: AmiMessage) -> DeviceStateChanged:
    return DeviceStateChanged(
        message.get("Device", ""), DEVICE_STATES.get(message.get("State", ""), DeviceState.UNKNOWN)
    )


def to_snapshot(
    channels: Iterable[AmiMessage],
    devices: Iterable[AmiMessage],
    stamps: Mapping[str, float] | None = None,
    restarted: bool = False,
) -> PbxResynced:
    """`CoreShowChannels` and `DeviceStateList` results as the PBX's whole picture.

    Callers are the channels in a caller context with a queue's extension (an outgoing trunk
    leg also shows `ccgw-inbound`, but as `AppDial` with no extension); agent legs are ours
    by their id, and say whose they are by their bridge target or their extension.
    `stamps`: channel -> CCGW_SINCE (`since_stamps`); `restarted`: the PBX started anew
    since the last picture.
    """
    stamps = stamps or {}
    callers, legs, dials = [], [], []
    for channel in channels:
        if channel.get("Event") != "CoreShowChannel":
            continue
        uniqueid = channel.get("Uniqueid", "")
        age = duration_s(channel.get("Duration", ""))
        context, exten = channel.get("Context", ""), channel.get("Exten", "")
        if uniqueid.startswith(LEG_PREFIX):
            legs.append(replace(_agent_leg(channel, uniqueid, age), since=stamps.get(uniqueid)))
        elif uniqueid.startswith(DIAL_PREFIX):
            dials.append(_outbound(channel, uniqueid, age))
        elif (
            context in CALLER_CONTEXTS
            and exten.isdigit()
            and channel.get("Application") != "AppDial"
        ):
            callers.append(
                CallerChannel(
                    uniqueid,
                    exten,
                    age,
                    caller_number(channel.get("CallerIDNum")),
                    caller_name(channel.get("CallerIDName")),
                    since=stamps.get(uniqueid),
                )
            )
    states = tuple(device_state(d) for d in devices if d.get("Event") == "DeviceStateChange")
    return PbxResynced(tuple(callers), tuple(legs), states, tuple(dials), restarted=restarted)


def _outbound(channel: AmiMessage, uniqueid: str, age: float) -> OutboundChannel:
    """A campaign's customer: ringing (still in the trunk's context, dialling), or in
    ccgw-outbound (the extension is the campaign) at AMD, waiting, with an agent (in a
    bridge) or hearing a message."""
    in_outbound = channel.get("Context") == OUTBOUND
    application = channel.get("Application", "")
    if not in_outbound:
        stage = "ringing"
    elif _known(channel.get("BridgeId")):
        stage = "agent"
    else:
        stage = OUTBOUND_STAGES.get(application, "message")
    campaign = channel.get("Exten", "") if in_outbound else ""
    return OutboundChannel(uniqueid, campaign, stage, age)


def _agent_leg(channel: AmiMessage, uniqueid: str, age: float) -> AgentChannel:
    context = channel.get("Context", "")
    role = LEG_ROLES.get(context, "agent")
    if context in LEG_ROLES and role != "callback":
        caller = channel.get("Exten", "")
    elif channel.get("Application") == "Bridge":  # ccgw-agent: Bridge(<caller>,F(...))
        caller = channel.get("ApplicationData", "").split(",")[0]
    else:
        caller = ""
    device, device_pbx = leg_device(channel.get("Channel", ""), channel.get("AccountCode", ""))
    return AgentChannel(
        leg_id=uniqueid,
        device=device,
        device_pbx=device_pbx,
        caller_id=caller,
        answered=channel.get("ChannelState") == "6",
        age_s=age,
        bridged=_known(channel.get("BridgeId")) != "",
        role=role,
    )


def device_of(channel_name: str) -> str:
    """`PJSIP/agent1-0000002a` -> `PJSIP/agent1`."""
    base, _, _suffix = channel_name.rpartition("-")
    return base or channel_name


def leg_device(channel_name: str, account: str = "") -> tuple[str, str]:
    """Whose phone an agent leg rings: (device, the device's PBX, "" for this one). A leg
    rung over a trunk says so in its account code (pbx/trunks.py); any other by its
    channel's name."""
    return trunks.agent_of(account) or (device_of(channel_name), "")


def duration_s(text: str) -> float:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return 0.0
    hours, minutes, seconds = (int(p) for p in parts)
    return float(hours * 3600 + minutes * 60 + seconds)


def _known(value: str | None) -> str:
    return "" if value is None or value in UNKNOWN else value


# --- caller ID as AMI reports it --------------------------------------------------------------
# AMI writes CallerIDName and ConnectedLineName through ast_escape_c (main/utils.c), the
# numbers as they are (main/manager_channels.c, Asterisk 22). pjsip keeps the From header's
# quoted-string as sent, its quoted-pairs included, so a name is escaped twice over.
AMI_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
AMI_ESCAPES |= {c: c for c in "\\'\"?"}
AMI_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
QUOTED_PAIR = re.compile(r"\\([\x00-\x09\x0b\x0c\x0e-\x7f])")  # RFC 3261 25.1


def ami_unescape(value: str) -> str:
    """Undo ast_escape_c; never fails: a backslash before any other character, or at the
    end, was not written by Asterisk and stays as it is."""
    return AMI_ESCAPE.sub(lambda m: AMI_ESCAPES.get(m[1], m[0]), value)


def sip_unquote(value: str) -> str:
    """Undo a SIP quoted-string's quoted-pairs (a backslash and an ASCII character but CR or
    LF); never fails: any other backslash, a trailing one too, stays as it is."""
    return QUOTED_PAIR.sub(lambda m: m[1], value)


def caller_name(value: str | None) -> str:
    """An AMI CallerIDName as the caller wrote it: AMI's C escapes undone, then the SIP
    quoted-pairs; "" when Asterisk knows none."""
    return plain_text(sip_unquote(ami_unescape(_known(value))))


def caller_number(value: str | None) -> str:
    """An AMI CallerIDNum: not escaped by AMI, and a SIP URI's user part has no quoted-pairs."""
    return plain_text(_known(value))


def _int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.isdigit() else default


# --- the PBX's end marks (dialplan [ccgw-end-mark], domain/gap.py) ---------------------------

_MARK_KEY = re.compile(r"^/?ccgw_end/([0-9A-Za-z._-]{1,64})/([0-9A-Za-z._-]{1,64})$")
_NUMBER = re.compile(r"^[0-9+*#]{0,32}$")
_DIGITS = re.compile(r"^[0-9]{0,32}$")


def to_end_marks(messages: Iterable[AmiMessage]) -> tuple[list[EndMark], list[LegEndMark]]:
    """`DBGetTree` of the family ccgw_end as callers' and agent legs' end marks. An entry
    that is not exactly what the dialplan writes (another writer, a half-written value)
    is skipped: it must never become a record."""
    return sort_marks(_mark_entries(messages), _caller_mark, _leg_mark)


def _mark_entries(messages: Iterable[AmiMessage]) -> Iterator[tuple[str, str, list[str]]]:
    for message in messages:
        if message.get("Event") != "DBGetTreeResponse":
            continue
        key = f"{message.get('Family', '')}/{message.get('Key', '')}"
        matched = _MARK_KEY.fullmatch(key) or _MARK_KEY.fullmatch(message.get("Key", ""))
        if matched is not None:
            yield matched.group(1), matched.group(2), message.get("Val", "").split("|")


def _caller_mark(call_id: str, fields: list[str]) -> EndMark:
    version, arrived, ended, extension, number, leg, fallback = fields
    if version != "1" or not _DIGITS.fullmatch(extension) or not _NUMBER.fullmatch(number):
        raise ValueError("not a caller's end mark")
    if leg and not leg.startswith(LEG_PREFIX):
        raise ValueError("not one of our agent legs")
    return EndMark(call_id, extension, number, _time(arrived), _time(ended), leg, fallback == "1")


def _leg_mark(caller_id: str, leg_id: str, fields: list[str]) -> LegEndMark:
    version, answered, ended, channel = fields
    if version != "1" or not leg_id.startswith(LEG_PREFIX):
        raise ValueError("not an agent leg's end mark")
    device, device_pbx = leg_device(channel, channel)
    return LegEndMark(leg_id, caller_id, device, _time(answered), _time(ended), device_pbx)


def _time(text: str) -> float:
    value = float(text)  # ValueError for "" or anything not a number
    if not 0 < value < 1e11:
        raise ValueError(f"not an epoch time: {text!r}")
    return value


def _stamp(text: str) -> float | None:
    """An event's `Timestamp` (manager.conf `timestampevents = yes`: epoch seconds with
    microseconds), None when absent or not a time."""
    try:
        value = _time(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
