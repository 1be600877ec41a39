"""Intents the core hands to the shell: ring a phone, hang up, write a record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.model import DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Ring `device` and, when it answers, bridge it to the waiting call `call_id`.

    `leg_id` is chosen by the core and becomes the PBX's id of the new channel.
    """

    leg_id: str
    call_id: str
    agent_id: str
    device: str
    timeout_s: float
    caller_number: str = ""
    caller_name: str = ""
    pbx: str = DEFAULT_PBX


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


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"


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


@dataclass(frozen=True, slots=True)
class RecordInteraction:
    interaction: Interaction


@dataclass(frozen=True, slots=True)
class Notify:
    """A state change for the event stream (agent, call or queue), already serialisable."""

    topic: str
    data: dict[str, object]


Command = RingAgent | HangUp | SendToFallback | Monitor | RecordInteraction | Notify
