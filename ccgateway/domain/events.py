"""Facts that reach the core from a PBX, already translated from AMI or ESL.

Channel ids are the PBX's own unique ids (Asterisk `Uniqueid`, FreeSWITCH `Unique-ID`). The
controller chooses the id of every agent leg it originates, so a leg's id is known before the
PBX says anything about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LegFailure(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    ERROR = "error"
    NOT_SENT = "not_sent"  # the command never reached the PBX: not the agent's fault


# Q.850 causes an unanswered leg can end with, mapped to why the offer failed.
LEG_CAUSES = {
    1: LegFailure.UNREACHABLE,  # unallocated number
    3: LegFailure.UNREACHABLE,  # no route
    17: LegFailure.BUSY,
    18: LegFailure.NO_ANSWER,  # no user responding
    19: LegFailure.NO_ANSWER,  # alerting, no answer
    20: LegFailure.UNREACHABLE,  # subscriber absent (not registered)
    21: LegFailure.REJECTED,
    27: LegFailure.UNREACHABLE,  # destination out of order
    41: LegFailure.UNREACHABLE,  # temporary failure (a phone that does not respond)
    34: LegFailure.UNREACHABLE,  # no circuit available (congestion, a 503)
    38: LegFailure.UNREACHABLE,  # network out of order
    42: LegFailure.UNREACHABLE,  # switching equipment congestion
}


def failure_for_cause(cause: int) -> LegFailure:
    """Why an unanswered leg failed, from the Q.850 cause it ended with."""
    return LEG_CAUSES.get(cause, LegFailure.ERROR)


class DeviceState(StrEnum):
    AVAILABLE = "available"
    IN_USE = "in_use"
    RINGING = "ringing"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CallWaiting:
    """A customer's call is on hold in the PBX, asking for the queue behind `extension`."""

    call_id: str
    extension: str
    caller_number: str = ""
    caller_name: str = ""
    priority: int | None = None  # from the dialplan (CCGW_PRIORITY); None: the queue's


@dataclass(frozen=True, slots=True)
class AgentLegAnswered:
    """The agent picked up the leg the controller rang; the PBX is bridging it to the caller.
    `at`: when, on the PBX's clock, if its event said (the controller may read it later:
    the call's answer time is the PBX's, as a resync would find it)."""

    leg_id: str
    at: float | None = None


@dataclass(frozen=True, slots=True)
class AgentLegFailed:
    leg_id: str
    failure: LegFailure
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChannelHungUp:
    """Any channel ended: a caller or an agent leg. `cause` is the Q.850 cause code."""

    channel_id: str
    cause: int = 16
    cause_text: str = ""
    pbx_down: bool = False  # the PBX itself cut the channel off: it is shutting down


@dataclass(frozen=True, slots=True)
class VoicemailEnded:
    """A caller sent to voicemail is done there; `failure` says why the PBX could not take
    the message (no voicemail application, a mailbox it cannot use), "" when it could (or
    the caller hung up first)."""

    call_id: str
    failure: str = ""


@dataclass(frozen=True, slots=True)
class HoldTimedOut:
    """The PBX's own hold timer fired: the caller left for the fallback without an agent."""

    call_id: str


@dataclass(frozen=True, slots=True)
class ConsentHeard:
    """A caller heard the recording notice (`PlayConsent`); `refused`: they pressed the
    key to have the call not recorded; not `played`: the PBX could not play it (the caller
    joins the line at once, and is not recorded)."""

    call_id: str
    refused: bool = False
    played: bool = True


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """A caller's channel went on in a dialplan context that is not the controller's: someone
    else (another tool, an operator's Redirect) took the caller away."""

    call_id: str
    context: str
    extension: str = ""


@dataclass(frozen=True, slots=True)
class LegBridged:
    """The PBX joined an answered agent leg and its caller: the conversation has begun."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class BridgeFailed:
    """An agent leg answered but the PBX could not bridge it to its caller (`result`: why,
    e.g. the caller's channel no longer exists): no conversation took place."""

    leg_id: str
    result: str = ""


@dataclass(frozen=True, slots=True)
class RecordingToggled:
    """An agent pressed the in-call recording key on their phone (pause, or resume)."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A waiting caller pressed the key for a callback (during an announcement)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CallbackAnswered:
    """The customer picked up the callback the agent leg `leg_id` dialled."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class CallbackFailed:
    """The customer of the callback on agent leg `leg_id` was not reached."""

    leg_id: str
    failure: LegFailure
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MachineDetected:
    """The PBX believes an answering machine took this channel (a beep, AMD's verdict).

    A hint for the outbound dialer; inbound routing has no use for it.
    """

    channel_id: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutboundAnswered:
    """The customer's line of the dial `dial_id` was answered (a person or a machine);
    answering-machine detection, if on, is listening."""

    dial_id: str


@dataclass(frozen=True, slots=True)
class OutboundLive:
    """A person is on the line of dial `dial_id` (AMD said so, or AMD is off) and waits,
    at most the grace, for the agent leg the controller rings."""

    dial_id: str
    amd: str = ""  # AMD's verdict: "human", "notsure", "" when off


@dataclass(frozen=True, slots=True)
class OutboundFailed:
    """The dial `dial_id` was never answered: busy, no answer, or not reachable."""

    dial_id: str
    failure: LegFailure
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutboundAbandoned:
    """No agent came within the grace: the PBX is playing the campaign's message."""

    dial_id: str


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    device: str
    state: DeviceState


class Feature(StrEnum):
    """What an agent asked for by dialling a feature code on their phone."""

    AVAILABLE = "available"
    PAUSE = "pause"
    LOGOUT = "logout"
    PAUSE_AFTER_CALL = "pause_after_call"
    LOGOUT_AFTER_CALL = "logout_after_call"


@dataclass(frozen=True, slots=True)
class FeatureCodeDialled:
    """An agent dialled a feature code; `code` is the pause code's number, if any."""

    device: str
    feature: Feature
    code: int | None = None


@dataclass(frozen=True, slots=True)
class CallerChannel:
    """A customer channel in the controller's dialplan: holding, or bridged to an agent leg."""

    call_id: str
    extension: str
    age_s: float
    caller_number: str = ""
    caller_name: str = ""
    priority: int | None = None
    # When the caller started waiting, as the PBX's clock (epoch seconds, sub-second) says;
    # None when the PBX did not keep it (then `age_s`, whole seconds, is all there is).
    since: float | None = None


@dataclass(frozen=True, slots=True)
class AgentChannel:
    """An agent leg the PBX still has; `caller_id` is the call it was rung for."""

    leg_id: str
    device: str
    caller_id: str
    answered: bool
    age_s: float
    bridged: bool = False  # in a bridge with another channel (talking, not dialling)
    # "agent" (the caller's agent), "consulted" (a party an agent consults), "conference"
    # (a conference member) or "callback" (an agent leg dialling a callback)
    role: str = "agent"
    since: float | None = None  # when the agent answered (the PBX's clock), if it kept it
    device_pbx: str = ""  # the device's PBX when the leg rang it over a trunk; "": this one


@dataclass(frozen=True, slots=True)
class OutboundChannel:
    """A customer channel of a campaign's dial that the PBX still has."""

    dial_id: str
    campaign_id: str
    stage: str  # "ringing", "answered" (AMD), "live" (the grace), "agent", "message"
    age_s: float


@dataclass(frozen=True, slots=True)
class EndMark:
    """The PBX's own note of a caller's end (the dialplan writes it as the caller hangs up),
    so a call that ended while no controller listened can still be recorded (gap.py).
    `agent_leg`: the leg the caller was bridged to at the end, if any; `fallback`: it left
    through the PBX's fallback (the hold timer, with no controller)."""

    call_id: str
    extension: str
    caller_number: str
    arrived_at: float
    ended_at: float
    agent_leg: str = ""
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class LegEndMark:
    """The PBX's note of an agent leg's end: when it answered and whose phone it was."""

    leg_id: str
    caller_id: str
    device: str
    answered_at: float
    ended_at: float
    device_pbx: str = ""  # as AgentChannel's


@dataclass(frozen=True, slots=True)
class EndMarksRead:
    """The PBX's end marks, read again while the link is up (every minute or so): the
    marks of calls the controller recorded itself are dropped, so they never pile up."""

    ended: tuple[EndMark, ...] = ()
    ended_legs: tuple[LegEndMark, ...] = ()


@dataclass(frozen=True, slots=True)
class PbxResynced:
    """The PBX's whole picture after a (re)connect; the core reconciles against it.

    Anything the core believes that is not in here ended while nobody was listening.
    """

    callers: tuple[CallerChannel, ...] = ()
    agent_legs: tuple[AgentChannel, ...] = ()
    devices: tuple[DeviceStateChanged, ...] = field(default=())
    outbound: tuple[OutboundChannel, ...] = ()
    # The PBX started anew since the last picture (not a mere link drop): calls it no longer
    # has were cut off by its restart, not ended by their callers.
    restarted: bool = False
    # The ends the PBX noted (gap.py): callers and agent legs that hung up, not yet forgotten.
    ended: tuple[EndMark, ...] = ()
    ended_legs: tuple[LegEndMark, ...] = ()


@dataclass(frozen=True, slots=True)
class PbxConnectionLost:
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordingFailed:
    """The PBX refused to record a call (a start on demand the AMI user may not make)."""

    call_id: str
    reason: str = ""


PbxEvent = (
    CallWaiting
    | AgentLegAnswered
    | AgentLegFailed
    | ChannelHungUp
    | HoldTimedOut
    | VoicemailEnded
    | CallbackRequested
    | ConsentHeard
    | RecordingToggled
    | CallbackAnswered
    | CallbackFailed
    | MachineDetected
    | OutboundAnswered
    | OutboundLive
    | OutboundFailed
    | OutboundAbandoned
    | DeviceStateChanged
    | PbxResynced
    | EndMarksRead
    | PbxConnectionLost
    | FeatureCodeDialled
    | RecordingFailed
    | CallerLeft
    | BridgeFailed
    | LegBridged
)
