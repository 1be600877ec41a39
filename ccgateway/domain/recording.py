"""Recordings of calls: a queue's policy (never, always, a sampled share, on demand) and the
record of one recording with its pauses.

A recording belongs to a call: the PBX records the agent's leg while it is bridged to the
caller (both voices, nothing of the wait before), from the first agent who answers; a call
transferred to another agent is on tape until the first agent's leg ends. A pause (card numbers
must never be on tape: PCI DSS) mutes the recording: the file keeps its length, with
silence for the paused time, and the record keeps each pause with its times.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.queue_policy import check_sound

KEYS = frozenset("0123456789*")  # not "#": it ends a key read on the PBXs


class RecordingMode(StrEnum):
    NEVER = "never"
    ALWAYS = "always"
    SAMPLED = "sampled"  # a share of the calls, chosen by the call's id
    ON_DEMAND = "on_demand"  # when an agent or supervisor starts it


class Consent(StrEnum):
    """What a caller did about the recording notice (RecordingPolicy.notice)."""

    NONE = ""  # no notice was played (the queue has none, or records nothing)
    PENDING = "pending"  # hearing it now: no agent is rung until it has ended
    HEARD = "heard"
    REFUSED = "refused"  # pressed the refusal key: the call is not recorded
    UNANSWERED = "unanswered"  # the PBX never said how it went: not recorded either


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """`notice`: a sound every caller of a queue that may record hears before any agent is
    rung ("this call may be recorded"); `refuse_key`: a key the caller may press during
    it to have the call not recorded (all-party consent, or the centre's own choice)."""

    mode: RecordingMode = RecordingMode.NEVER
    share: float = 1.0  # SAMPLED: this share of the calls (0-1]
    notice: str | None = None
    refuse_key: str | None = None
    stereo: bool = False  # the agent on the left channel, the caller on the right

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RecordingMode(self.mode))
        if not 0.0 < self.share <= 1.0:
            raise InvalidValue("a recording share is above 0 and at most 1")
        if self.notice is not None:
            check_sound(self.notice)
        if self.refuse_key is not None:
            if self.refuse_key not in KEYS:
                raise InvalidValue("a refusal key is one of 0-9 and *")
            if self.notice is None:
                raise InvalidValue("a refusal key needs a notice to offer it in")

    @property
    def notifies(self) -> bool:
        """Whether callers hear the notice: a queue that may record any of its calls (a
        sampled one too: the caller cannot know whether theirs is drawn)."""
        return self.notice is not None and self.mode is not RecordingMode.NEVER

    def records(self, call_id: str) -> bool:
        """Whether a call is recorded from its first bridge on. A sampled call is chosen by
        a hash of its id: the same call always gets the same answer (a restart, a resync)."""
        if self.mode is RecordingMode.ALWAYS:
            return True
        if self.mode is RecordingMode.SAMPLED:
            draw = int(hashlib.sha256(call_id.encode()).hexdigest()[:8], 16) / 2**32
            return draw < self.share
        return False


def for_campaign(
    own: RecordingPolicy | None, queue: RecordingPolicy, all_parties: bool
) -> RecordingPolicy:
    """The policy for a call a campaign placed: the campaign's own, else its queue's. Where
    the law wants every party's consent to a recording (the rule set's
    `recording_needs_consent`), nothing is recorded from the bridge on: the agent asks, and
    starts it on demand once the person has agreed. A campaign's call hears no notice
    before its agent (the 2-second rule leaves no time): its script says it."""
    policy = own or queue
    if all_parties and policy.mode in (RecordingMode.ALWAYS, RecordingMode.SAMPLED):
        return RecordingPolicy(RecordingMode.ON_DEMAND, stereo=policy.stereo)
    return policy


def recording_id(call_id: str) -> str:
    """A call's recording: one per call, named by its id (safe as a file name)."""
    return "rec-" + hashlib.sha256(call_id.encode()).hexdigest()[:24]


@dataclass(slots=True)
class Recording:
    id: str
    call_id: str
    pbx: str
    queue_id: str | None
    agent_id: str | None
    caller_number: str
    started_at: float
    file: str  # the file's name in the recordings folder
    ended_at: float | None = None
    # (paused at, resumed at); the last one open while paused
    pauses: list[tuple[float, float | None]] = field(default_factory=list)
    channel_id: str = ""  # the agent leg recorded (a pause mutes it)
    failure: str = ""  # why nothing was recorded (the PBX refused, the caller did)
    consent: Consent = Consent.NONE  # the caller and the notice, before the recording
    campaign_id: str | None = None  # the campaign that placed the call, if one did

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None
