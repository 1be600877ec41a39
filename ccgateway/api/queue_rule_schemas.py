"""Bodies for a queue's rules: limits and their actions, opening hours, announcements and
callbacks (domain/queue_policy.py and domain/calendar.py say what each means). The same
shapes are read and returned."""

from __future__ import annotations

import dataclasses
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ccgateway.domain.calendar import Hours
from ccgateway.domain.queue_policy import (
    DEFAULT_CLOSED_SOUND,
    ActionKind,
    Announcements,
    CallbackPolicy,
    Limits,
    QueueAction,
)
from ccgateway.domain.recording import RecordingMode, RecordingPolicy

ActionKindName = Literal["queue", "voicemail", "callback", "message", "fallback"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ActionIn(Rule):
    kind: ActionKindName = Field(
        description="queue (move, keeping the caller's place), voicemail, callback (hang up "
        "and be called back, keeping the place), message (play, then hang up) or fallback"
    )
    target: str | None = Field(
        None, max_length=200, description="the queue id, the mailbox (200@ccgw) or the sound"
    )

    def to_domain(self) -> QueueAction:
        return QueueAction(ActionKind(self.kind), self.target)

    @classmethod
    def of(cls, action: QueueAction) -> ActionIn:
        return cls.model_validate({"kind": action.kind.value, "target": action.target})


def _fallback() -> ActionIn:
    return ActionIn(kind="fallback")


class LimitsIn(Rule):
    max_wait_s: float | None = Field(None, description="10-86400 s; none: wait until served")
    on_max_wait: ActionIn = Field(default_factory=_fallback)
    max_waiting: int | None = Field(None, description="callers in line at most (1-100000)")
    on_full: ActionIn = Field(default_factory=_fallback)
    on_no_agents: ActionIn | None = Field(
        None,
        description="when no qualified agent is logged in: for new callers, and for those "
        "waiting when the last one logs out; none: callers wait anyway",
    )
    on_closed: ActionIn = Field(
        default_factory=lambda: ActionIn(kind="message", target=DEFAULT_CLOSED_SOUND),
        description="outside the queue's hours",
    )

    def to_domain(self) -> Limits:
        return Limits(
            self.max_wait_s,
            self.on_max_wait.to_domain(),
            self.max_waiting,
            self.on_full.to_domain(),
            self.on_no_agents.to_domain() if self.on_no_agents else None,
            self.on_closed.to_domain(),
        )

    @classmethod
    def of(cls, limits: Limits) -> LimitsIn:
        return cls(
            max_wait_s=limits.max_wait_s,
            on_max_wait=ActionIn.of(limits.on_max_wait),
            max_waiting=limits.max_waiting,
            on_full=ActionIn.of(limits.on_full),
            on_no_agents=ActionIn.of(limits.on_no_agents) if limits.on_no_agents else None,
            on_closed=ActionIn.of(limits.on_closed),
        )


class HoursIn(Rule):
    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Europe/Berlin")
    weekly: dict[str, list[str]] = Field(
        description='{"mon": ["08:00-12:00", "13:00-18:00"], ...}; a day not named is closed'
    )
    holidays: list[str] = Field(default_factory=list, description="closed dates: 2026-12-25")

    def to_domain(self) -> Hours:
        weekly = {day: tuple(intervals) for day, intervals in self.weekly.items()}
        return Hours(self.timezone, weekly, tuple(self.holidays))

    @classmethod
    def of(cls, hours: Hours | None) -> HoursIn | None:
        if hours is None:
            return None
        weekly = {day: list(intervals) for day, intervals in hours.weekly.items()}
        return cls(timezone=hours.timezone, weekly=weekly, holidays=list(hours.holidays))


class AnnounceIn(Rule):
    position: bool = Field(False, description="say the caller's place in line")
    wait_time: bool = Field(
        False, description="say the expected wait (queue-length estimator, minutes)"
    )
    comfort: str | None = Field(None, max_length=200, description="a sound played each time")
    first_s: float = Field(30.0, description="first after this long (5-3600 s)")
    every_s: float = Field(60.0, description="then every this long (15-3600 s)")
    offer_callback: bool = Field(
        False, description='end with "press 1 to be called back" (callers whose number is known)'
    )

    def to_domain(self) -> Announcements:
        return Announcements(**self.model_dump())

    @classmethod
    def of(cls, announce: Announcements) -> AnnounceIn:
        return cls(**dataclasses.asdict(announce))


class CallbackPolicyIn(Rule):
    attempts: int = Field(3, description="times the customer is dialled at most (1-10)")
    retry_s: float = Field(300.0, description="after a busy line or no answer (30-86400 s)")
    ring_s: float = Field(30.0, description="how long the customer's phone rings (15-120 s)")
    caller_id: str | None = Field(
        None, max_length=21, description="the number shown, e.g. +4930..."
    )

    def to_domain(self) -> CallbackPolicy:
        return CallbackPolicy(**self.model_dump())

    @classmethod
    def of(cls, policy: CallbackPolicy) -> CallbackPolicyIn:
        return cls(**dataclasses.asdict(policy))


class RecordingPolicyIn(Rule):
    mode: Literal["never", "always", "sampled", "on_demand"] = Field(
        "never",
        description="never; always (from the first bridge to an agent); sampled (a share of "
        "the calls); on_demand (when the agent or a supervisor starts it)",
    )
    share: float = Field(1.0, description="sampled: this share of the calls, above 0 and at most 1")
    notice: str | None = Field(
        None,
        max_length=1010,
        description='a sound every caller hears before an agent is rung ("this call may be '
        "recorded\"), in the PBX's naming; none: no notice",
    )
    refuse_key: str | None = Field(
        None,
        description="a key (0-9 or *) the caller may press during the notice to have the "
        "call not recorded",
    )

    stereo: bool = Field(
        False, description="the agent on the left channel, the caller on the right (else mixed)"
    )

    def to_domain(self) -> RecordingPolicy:
        mode = RecordingMode(self.mode)
        return RecordingPolicy(mode, self.share, self.notice, self.refuse_key, self.stereo)

    @classmethod
    def of(cls, policy: RecordingPolicy) -> RecordingPolicyIn:
        return cls(
            mode=policy.mode.value,
            share=policy.share,
            notice=policy.notice,
            refuse_key=policy.refuse_key,
            stereo=policy.stereo,
        )
