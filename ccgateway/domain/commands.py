"""Intents the core hands to the shell: ring a phone, hang up, write a record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.agents import AgentState
from ccgateway.domain.model import DEFAULT_PBX
from ccgateway.domain.outbound.commands import (
    DialCustomer,
    LoadContacts,
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SaveProgress,
    SuppressNumber,
)
from ccgateway.domain.recording import Recording
from ccgateway.domain.records import Callback, Task


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Ring `device` and, when it answers, bridge it to the waiting call `call_id`.

    `leg_id` is chosen by the core and becomes the PBX's id of the new channel. The leg is
    always made on `pbx`, the caller's: an agent on another PBX (`agent_pbx`, set only
    then) is rung over `pbx`'s trunk to it, so the caller, the leg and its bridge stay on
    one PBX, which keeps every later step (answer, bridge, hang-up, recording) as it is.
    """

    leg_id: str
    call_id: str
    agent_id: str
    device: str
    timeout_s: float
    caller_number: str = ""
    caller_name: str = ""
    pbx: str = DEFAULT_PBX
    auto_answer: bool = False  # ask the phone to answer at once (a dialer's live call)
    # Record the leg from its answer into this file of the recordings folder ("": not);
    # stereo: the agent on the left channel, the caller on the right.
    record_file: str = ""
    record_stereo: bool = False
    agent_pbx: str = ""


@dataclass(frozen=True, slots=True)
class HangUp:
    channel_id: str
    reason: str = ""
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class SendToFallback:
    """Move a waiting caller to the PBX's defined fallback (message, then hang-up)."""

    call_id: str
    reason: str
    pbx: str = DEFAULT_PBX


class MonitorMode(StrEnum):
    LISTEN = "listen"  # the supervisor hears both sides, nobody hears the supervisor
    WHISPER = "whisper"  # the agent hears the supervisor, the customer does not
    BARGE = "barge"  # all three talk


@dataclass(frozen=True, slots=True)
class Monitor:
    """Ring a supervisor's phone and, on answer, let them join the agent's leg as `mode`."""

    agent_leg_id: str
    supervisor_device: str
    mode: MonitorMode
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Play `sound` to a caller, then hang up (a queue's message action)."""

    call_id: str
    sound: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class SendToVoicemail:
    """Let a caller leave a message in `mailbox`, then hang up."""

    call_id: str
    mailbox: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class PlayConsent:
    """Tell an arriving caller that the call is recorded, before any agent is rung, then
    put them on hold. With `refuse_key` the caller may press it during the notice (or
    within a short wait after) to have the call not recorded; the PBX reports the outcome
    as `ConsentHeard` either way.
    """

    call_id: str
    extension: str  # the caller's queue's
    notice: str  # the sound to play (in the PBX's own naming, like a queue's messages)
    refuse_key: str | None = None
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller where they stand, then put them back on hold.

    `position` is 1 for the next caller; `wait_s` the expected wait (None: unknown);
    `comfort` a sound played after; `offer_callback` ends with "press 1 to be called back"
    (the PBX reports the key as `CallbackRequested`).
    """

    call_id: str
    extension: str  # the caller's queue's
    position: int | None
    wait_s: float | None
    comfort: str | None = None
    offer_callback: bool = False
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class DialCallback:
    """Ring the agent's device; once the agent answers, the PBX dials the customer's
    `number` for `customer_ring_s` (from `caller_id`, if given) and joins them.

    The PBX reports the agent's answer (`AgentLegAnswered`), the customer's
    (`CallbackAnswered`) or why the customer was not reached (`CallbackFailed`); the agent
    leg's hang-up ends the callback. `leg_id` is chosen by the core.
    """

    leg_id: str
    callback_id: str
    agent_id: str
    device: str
    number: str
    caller_id: str | None
    agent_ring_s: float
    customer_ring_s: float
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class ReturnToQueue:
    """Take a caller from their agent back to the holding of the queue behind `extension`
    (a blind transfer); the agent's leg ends by itself."""

    call_id: str
    extension: str
    agent_leg_id: str | None = None  # for a PBX whose agent leg does not end by itself
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class TransferOut:
    """Connect a caller to an outside `number` (a blind transfer); the agent's leg ends."""

    call_id: str
    number: str
    agent_leg_id: str | None = None
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class StartConsult:
    """Put the caller (of the queue behind `extension`) on hold and let the agent's leg
    wait for the party being consulted."""

    call_id: str
    agent_leg_id: str
    extension: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class RingConsult:
    """Ring `target` (a device, or an outside number when `is_number`) with the leg id
    `leg_id`; on answer it talks to the agent on `agent_leg_id`. If that agent hangs up
    meanwhile, the leg goes on to the caller `call_id` (the transfer completes)."""

    leg_id: str
    call_id: str
    agent_leg_id: str
    target: str
    is_number: bool
    caller_number: str
    timeout_s: float
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class CompleteConsult:
    """The caller joins the consulted party; the consulting agent's leg ends."""

    call_id: str
    agent_leg_id: str
    consult_leg_id: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class CancelConsult:
    """End the consulted party's leg; the agent goes back to the caller."""

    call_id: str
    agent_leg_id: str
    consult_leg_id: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class Conference:
    """Put the caller (of the queue behind `extension`) and the agent legs `legs` in one
    conference; the caller's leaving ends it for everybody."""

    call_id: str
    legs: tuple[str, ...]
    extension: str
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Record the agent leg `channel_id` (it hears the caller, and the caller it) into
    `file` in the recordings folder, while it is bridged: a recording started on demand (a
    queue's recordings start with the leg: RingAgent.record_file)."""

    recording_id: str
    call_id: str
    channel_id: str
    file: str
    pbx: str = DEFAULT_PBX
    stereo: bool = False  # the agent on the left channel, the caller on the right


@dataclass(frozen=True, slots=True)
class MuteRecording:
    """Pause (`muted`) or resume a recording: the file keeps silence for the pause."""

    recording_id: str
    channel_id: str
    file: str
    muted: bool
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class SaveRecording:
    """Write a recording's record as it stands (its end and pauses included)."""

    recording: Recording


class Outcome(StrEnum):
    """How a call (or one segment of it) ended; `Interaction.detail` says where it went.

    Never entered the queue's line: REJECTED (no queue has the extension), CLOSED (outside
    opening hours), REFUSED (the queue was full, or no qualified agent was logged in).
    Entered it: ANSWERED, ABANDONED (hung up while waiting), TIMED_OUT (waited past the
    queue's max wait, or the PBX's hold timer), UNSTAFFED (the last qualified agent logged
    out while the caller waited), CALLBACK (left the line to be called back, keeping the
    place), TRANSFERRED (answered, then sent to another queue, agent or number).
    Taken out of the centre's hands: REDIRECTED (someone else moved the caller out of the
    controller's dialplan while they waited), CUT_OFF (the PBX itself ended the call while
    the caller waited: it restarted or shut down). Neither is an abandon: the caller did
    not hang up; figures leave both out of offered, answered and abandoned.
    """

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    CLOSED = "closed"
    REFUSED = "refused"
    UNSTAFFED = "unstaffed"
    CALLBACK = "callback"
    TRANSFERRED = "transferred"
    REDIRECTED = "redirected"
    CUT_OFF = "cut_off"
    NOT_REACHED = "not_reached"  # a callback whose every attempt failed (busy, no answer)
    COMPLETED = "completed"  # a non-voice task done by its agent
    CANCELLED = "cancelled"  # a non-voice task withdrawn before it was done


@dataclass(frozen=True, slots=True)
class Interaction:
    """The immutable record of one finished call."""

    call_id: str
    queue_id: str | None
    agent_id: str | None
    caller_number: str
    outcome: Outcome
    arrived_at: float
    answered_at: float | None
    ended_at: float
    wait_s: float
    talk_s: float
    offers: int
    detail: str = ""  # where the caller went: "voicemail 200", "message ...", "queue x"
    kind: str = "inbound"  # "inbound" (a caller), "callback" (we called them), "task"
    channel: str = "voice"  # a task's channel: chat, email, ...


@dataclass(frozen=True, slots=True)
class RecordInteraction:
    interaction: Interaction


@dataclass(frozen=True, slots=True)
class SaveCallback:
    """Write a callback's current state (it is the centre's promise: it must outlive a
    restart)."""

    callback: Callback


@dataclass(frozen=True, slots=True)
class SavePresence:
    """An agent's presence as a restart restores it. Not returned by the core: the shell
    makes it from an `agent.state` notice, storing busy states as available (the PBX says
    them again) and writing only a change."""

    agent_id: str
    state: AgentState
    reason: str | None


@dataclass(frozen=True, slots=True)
class SaveTask:
    """Write a task's current state (the PBX cannot tell a restarted controller about it)."""

    task: Task


@dataclass(frozen=True, slots=True)
class Notify:
    """A state change for the event stream (agent, call or queue), already serialisable."""

    topic: str
    data: dict[str, object]


@dataclass(frozen=True, slots=True)
class CloseGap:
    """Records of calls that ended while no controller ran (gap.py), to be written unless
    the store already has a record of that call, then the PBX's marks of `forget` dropped
    (ForgetEndMarks, once the records are written)."""

    records: tuple[Interaction, ...]
    forget: tuple[str, ...]
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class ForgetEndMarks:
    """Drop the PBX's end marks of these callers (and of their agent legs): recorded."""

    call_ids: tuple[str, ...]
    pbx: str = DEFAULT_PBX


# What the shell hands to the PBX named in the command (Pbx.execute).
PbxCommand = (
    RingAgent
    | HangUp
    | SendToFallback
    | PlayMessage
    | SendToVoicemail
    | Announce
    | PlayConsent
    | DialCallback
    | ReturnToQueue
    | TransferOut
    | StartConsult
    | RingConsult
    | CompleteConsult
    | CancelConsult
    | Conference
    | Monitor
    | DialCustomer
    | StartRecording
    | MuteRecording
    | ForgetEndMarks
)
# The same, for isinstance (mypy narrows on a literal tuple, not on get_args).
PBX_COMMANDS = (
    RingAgent,
    HangUp,
    SendToFallback,
    PlayMessage,
    SendToVoicemail,
    Announce,
    PlayConsent,
    DialCallback,
    ReturnToQueue,
    TransferOut,
    StartConsult,
    RingConsult,
    CompleteConsult,
    CancelConsult,
    Conference,
    Monitor,
    DialCustomer,
    StartRecording,
    MuteRecording,
    ForgetEndMarks,
)


class Fact:
    """What one part of the core states for another: a call of the dialer's ended
    (calls.py), an agent was released (floor.py). It travels among the commands a part
    returns, where what it causes must go; the centre hands it on (settling.py,
    `Settling.hand_on`) and puts what the receiving part returns in its place, so the shell
    never sees one."""

    __slots__ = ()


# Everything the core asks of the shell: the PBX's commands and the writes and notices (and,
# inside the core only, facts on their way to the part they concern).
Command = (
    Fact
    | PbxCommand
    | SaveCallback
    | SaveTask
    | SaveRecording
    | RecordInteraction
    | CloseGap
    | Notify
    | LoadContacts
    | SaveProgress
    | RecordDial
    | RecordDisposition
    | RecordRefusal
    | SuppressNumber
)
