"""The agent state machine, as one transition table.

    logged_out ──login──▶ available ──offer──▶ reserved ──answer──▶ on_call
        ▲                  ▲   │                 │  │                  │
        │       wrapup_done│   │pause  withdraw  │  │no_answer   hang_up│
        │                  │   ▼        (back to │  ▼                  ▼
        └──log_out──── paused ◀──────available)  paused (not ready)  wrap_up

Nothing else changes an agent's state, so every path an agent can take is visible here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.errors import InvalidTransition, InvalidValue

VOICE = "voice"
CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_CAPACITY = 50
DEFAULT_CAPACITY = {"chat": 3, "email": 2, "task": 1}


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not CHANNEL_PATTERN.fullmatch(channel):
        raise InvalidValue(
            f"channel {channel!r} must be 1-32 characters of a-z, 0-9, '_', '-' "
            "starting with a letter"
        )
    return channel


def check_capacity(capacity: Mapping[str, int]) -> Mapping[str, int]:
    """Non-voice channels and how many items of each an agent handles at once (0-50)."""
    for channel, count in capacity.items():
        check_channel(channel)
        if channel == VOICE:
            raise InvalidValue("voice capacity is always 1; give only non-voice channels")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_CAPACITY:
            raise InvalidValue(f"capacity for {channel} must be an integer 0-{MAX_CAPACITY}")
    return MappingProxyType(dict(capacity))


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class Trigger(StrEnum):
    LOG_IN = "log_in"
    MAKE_AVAILABLE = "make_available"
    PAUSE = "pause"
    LOG_OUT = "log_out"
    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    WITHDRAW = "withdraw"
    HANG_UP = "hang_up"
    WRAPUP_DONE = "wrapup_done"
    ADOPT_CALL = "adopt_call"


S, T = AgentState, Trigger
TRANSITIONS: dict[tuple[AgentState, Trigger], AgentState] = {
    (S.LOGGED_OUT, T.LOG_IN): S.AVAILABLE,
    (S.LOGGED_OUT, T.MAKE_AVAILABLE): S.AVAILABLE,
    (S.LOGGED_OUT, T.PAUSE): S.PAUSED,
    (S.LOGGED_OUT, T.LOG_OUT): S.LOGGED_OUT,
    (S.AVAILABLE, T.MAKE_AVAILABLE): S.AVAILABLE,
    (S.AVAILABLE, T.PAUSE): S.PAUSED,
    (S.AVAILABLE, T.LOG_OUT): S.LOGGED_OUT,
    (S.AVAILABLE, T.OFFER): S.RESERVED,
    (S.RESERVED, T.ANSWER): S.ON_CALL,
    (S.RESERVED, T.NO_ANSWER): S.PAUSED,
    (S.RESERVED, T.WITHDRAW): S.AVAILABLE,
    (S.ON_CALL, T.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, T.WRAPUP_DONE): S.AVAILABLE,
    (S.WRAP_UP, T.MAKE_AVAILABLE): S.AVAILABLE,
    (S.WRAP_UP, T.PAUSE): S.PAUSED,
    (S.WRAP_UP, T.LOG_OUT): S.LOGGED_OUT,
    (S.PAUSED, T.MAKE_AVAILABLE): S.AVAILABLE,
    (S.PAUSED, T.PAUSE): S.PAUSED,
    (S.PAUSED, T.LOG_OUT): S.LOGGED_OUT,
    # After a restart the PBX is the truth: an agent it shows talking is on a call.
    **{(state, T.ADOPT_CALL): S.ON_CALL for state in AgentState},
}


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    """The centre's rules for agent states, from the settings.

    `pause_codes`: when given, a pause asked for by an agent or a supervisor must name one
    of them (reporting needs a closed list); a phone pauses with *72 and the code's number
    in this list (1-based). `no_answer_reason`: the not-ready reason an agent gets for a call
    they let ring out (the failure is added: "not ready: busy"). `no_answer_resume_s`: when
    set, such an agent is made available again after that many seconds (mod_callcenter's
    no-answer delay); when None they stay paused until they resume themselves.
    """

    pause_codes: tuple[str, ...] = ()
    no_answer_reason: str = "not ready"
    no_answer_resume_s: float | None = None
    # How many non-voice items an agent handles at once, per channel, unless the agent has
    # its own. Voice is always one call, and exclusive: an agent with a call is offered no
    # other work, and an agent with other work is offered no call ("1 call or 3 chats").
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    _codes: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_codes", frozenset(self.pause_codes))
        object.__setattr__(self, "capacity", check_capacity(self.capacity))

    def check_pause_reason(self, reason: str | None) -> None:
        if self.pause_codes and reason not in self._codes:
            raise InvalidValue(
                f"pause reason {reason!r} is not a pause code; use one of: "
                + ", ".join(self.pause_codes)
            )

    def pause_code(self, number: int) -> str:
        if not 1 <= number <= len(self.pause_codes):
            raise InvalidValue(f"no pause code number {number}")
        return self.pause_codes[number - 1]


def next_state(state: AgentState, trigger: Trigger) -> AgentState:
    """The state after `trigger`, or InvalidTransition naming both."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition(
            f"an agent who is {state.value} cannot {trigger.value.replace('_', ' ')}"
        ) from None


@dataclass(slots=True)
class AgentStatus:
    """What the centre knows of an agent right now."""

    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    idle_since: float = 0.0
    call_id: str | None = None
    wrapup_until: float | None = None
    calls_answered: int = 0
    # A change asked for "after this call": applied the next time the agent would be free.
    pending: tuple[AgentState, str | None] | None = None
    resume_at: float | None = None  # a no-answer pause that ends by itself
    engaged_at: float | None = None  # when the current call was answered (talk + wrap-up)
    # Time counters for occupancy, since `counted_at` was last moved on.
    counted_at: float = 0.0
    available_s: float = 0.0
    busy_s: float = 0.0  # reserved, on a call, in wrap-up, or with non-voice work in hand
    # Non-voice items offered to or held by the agent: item id -> channel.
    tasks: dict[str, str] = field(default_factory=dict)

    def apply(self, trigger: Trigger, now: float, reason: str | None = None) -> AgentState:
        new = next_state(self.state, trigger)
        self.count(now)
        if new is not self.state or trigger in (Trigger.PAUSE, Trigger.MAKE_AVAILABLE):
            self.since = now
        if new is AgentState.AVAILABLE and self.state not in (S.RESERVED, S.AVAILABLE):
            # A withdrawn offer keeps the agent's place; any other way in starts a new idle spell.
            self.idle_since = now
        if trigger in (Trigger.ANSWER, Trigger.ADOPT_CALL) and self.engaged_at is None:
            self.engaged_at = now
        elif new not in (AgentState.ON_CALL, AgentState.WRAP_UP):
            self.engaged_at = None
        self.state = new
        self.reason = reason if new is AgentState.PAUSED else None
        if new is not AgentState.WRAP_UP:
            self.wrapup_until = None
        if new in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT):
            self.call_id = None
        return new

    def count(self, now: float) -> None:
        """Move the occupancy counters on to `now`."""
        spent = max(0.0, now - self.counted_at)
        if self.is_busy:
            self.busy_s += spent
        elif self.state is AgentState.AVAILABLE:
            self.available_s += spent
        self.counted_at = max(self.counted_at, now)

    @property
    def is_busy(self) -> bool:
        """Handling work: a call in any stage, or a non-voice item while not paused."""
        return self.state in BUSY or (self.state is AgentState.AVAILABLE and bool(self.tasks))

    def load(self, channel: str) -> int:
        return sum(1 for held in self.tasks.values() if held == channel)

    def take_task(self, task_id: str, channel: str, now: float) -> None:
        self.count(now)
        self.tasks[task_id] = channel

    def drop_task(self, task_id: str, now: float) -> None:
        self.count(now)
        self.tasks.pop(task_id, None)

    def occupancy(self, now: float) -> float:
        """Share of working time spent handling calls: busy / (busy + available).

        The usual contact-centre definition: paused and logged-out time count neither way,
        so an agent on a long break is not made to look idle.
        """
        spent = max(0.0, now - self.counted_at)
        busy = self.busy_s + (spent if self.is_busy else 0.0)
        idle = self.state is AgentState.AVAILABLE and not self.is_busy
        available = self.available_s + (spent if idle else 0.0)
        return busy / (busy + available) if busy + available > 0 else 0.0

    def reset_counters(self, now: float) -> None:
        """Start a new day's counters (the shell calls this at midnight)."""
        self.available_s = self.busy_s = 0.0
        self.counted_at = now


BUSY = frozenset({AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP})
