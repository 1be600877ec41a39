"""Work the centre promised that is not a call in the PBX: queued callbacks and non-voice
tasks. The PBX cannot tell a restarted controller about these, so each change of one is
saved (SaveCallback, SaveTask) and they are loaded again at start.

Both are frozen values: a desk replaces its record on every change, so a saved snapshot can
never change under the writer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.agents import check_channel
from ccgateway.domain.errors import InvalidValue

MAX_TASK_DATA = 50
DATA_VALUE = re.compile(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]{0,2000}$")


class CallbackState(StrEnum):
    SCHEDULED = "scheduled"  # not before `not_before` (asked for a time, or a retry)
    WAITING = "waiting"  # in its queue's line, in the place of the call it came from
    OFFERING = "offering"  # an agent is reserved and being rung
    DIALING = "dialing"  # the agent answered; the customer is being rung
    CONNECTED = "connected"
    DONE = "done"
    NOT_REACHED = "not_reached"  # every attempt failed
    CANCELLED = "cancelled"


LIVE_CALLBACK = frozenset(
    {
        CallbackState.SCHEDULED,
        CallbackState.WAITING,
        CallbackState.OFFERING,
        CallbackState.DIALING,
        CallbackState.CONNECTED,
    }
)
CHANGEABLE_CALLBACK = frozenset({CallbackState.SCHEDULED, CallbackState.WAITING})


@dataclass(frozen=True, slots=True)
class Callback:
    id: str
    queue_id: str
    number: str
    name: str
    priority: int
    placed_at: float  # the original call's arrival: the callback's place in the line
    created_at: float
    state: CallbackState = CallbackState.WAITING
    not_before: float | None = None
    attempts: int = 0  # times the customer was dialled
    agent_id: str | None = None
    leg_id: str | None = None
    pbx: str = "asterisk"
    origin_call_id: str | None = None
    result: str = ""  # the last attempt: "busy", "no_answer", ...
    answered_at: float | None = None
    updated_at: float = 0.0


class TaskState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # reserved for an agent, who accepts or rejects it
    ASSIGNED = "assigned"  # the agent is working on it
    COMPLETED = "completed"
    CANCELLED = "cancelled"


LIVE_TASK = frozenset({TaskState.WAITING, TaskState.OFFERED, TaskState.ASSIGNED})


def check_task_data(data: Mapping[str, str]) -> Mapping[str, str]:
    """What an integrator attaches to a task (a CRM id, a subject, a URL): small text."""
    if len(data) > MAX_TASK_DATA:
        raise InvalidValue(f"a task carries at most {MAX_TASK_DATA} data fields")
    for key, value in data.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key):
            raise InvalidValue(f"task data key {key!r} must be 1-64 of A-Z a-z 0-9 _ . -")
        if not isinstance(value, str) or not DATA_VALUE.fullmatch(value):
            raise InvalidValue(f"task data {key!r} must be text of at most 2000 characters")
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class Task:
    """A non-voice work item (a chat, an email, a case) routed like a call."""

    id: str
    channel: str
    queue_id: str
    priority: int
    created_at: float
    title: str = ""
    data: Mapping[str, str] = field(default_factory=dict)
    state: TaskState = TaskState.WAITING
    agent_id: str | None = None
    offered_at: float | None = None
    assigned_at: float | None = None
    ended_at: float | None = None
    offers: int = 0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        check_channel(self.channel)
        if self.channel == "voice":
            raise InvalidValue("voice work comes from the PBX; a task has another channel")
        if len(self.title) > 200:
            raise InvalidValue("a task's title is at most 200 characters")
        object.__setattr__(self, "data", check_task_data(self.data))
