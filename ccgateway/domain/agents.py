"""The agent state machine, as one transition table.

    logged_out ──login──▶ available ──offer──▶ reserved ──answer──▶ on_call
        ▲                  ▲   │                 │  │                  │
        │       wrapup_done│   │pause  withdraw  │  │no_answer   hang_up│
        │                  │   ▼        (back to │  ▼                  ▼
        └──log_out──── paused ◀──────available)  paused (not ready)  wrap_up

Nothing else changes an agent's state, so every path an agent can take is visible here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.errors import InvalidTransition


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

    def apply(self, trigger: Trigger, now: float, reason: str | None = None) -> AgentState:
        new = next_state(self.state, trigger)
        if new is not self.state or trigger in (Trigger.PAUSE, Trigger.MAKE_AVAILABLE):
            self.since = now
        if new is AgentState.AVAILABLE and self.state not in (S.RESERVED, S.AVAILABLE):
            # A withdrawn offer keeps the agent's place; any other way in starts a new idle spell.
            self.idle_since = now
        self.state = new
        self.reason = reason if new is AgentState.PAUSED else None
        if new is not AgentState.WRAP_UP:
            self.wrapup_until = None
        if new in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT):
            self.call_id = None
        return new
