"""Bodies for live work: transfers, queued callbacks and non-voice tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ccgateway.api.times import Moment, epoch_or_none, utc, utc_or_none
from ccgateway.domain.records import Callback, Task
from ccgateway.domain.transfers import TargetKind, TransferTarget


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TransferIn(Input):
    target: Literal["queue", "agent", "number"] = Field(
        description="queue (back in line there, keeping the caller's place), agent (a free "
        "one) or number (outside)"
    )
    to: str = Field(min_length=1, max_length=64, description="the queue id, agent id or number")
    attended: bool = Field(
        False,
        description="consult first: the caller holds while the agent talks to the target, "
        "then POST .../transfer/complete, /cancel or /conference",
    )

    def to_domain(self) -> TransferTarget:
        return TransferTarget(TargetKind(self.target), self.to)


class CallbackRequestIn(Input):
    number: str | None = Field(
        None, max_length=21, description="the number to call back; default the caller's"
    )


class CallbackIn(Input):
    queue_id: str = Field(min_length=1, max_length=64)
    number: str = Field(max_length=21, description="3-20 digits with an optional leading +")
    name: str = Field("", max_length=200)
    priority: int | None = Field(None, description="0-100; default the queue's")
    not_before: Moment | None = Field(
        None, description="do not call before (ISO 8601 with a time zone)"
    )

    model_config = ConfigDict(extra="forbid", strict=False)  # ISO times come as text

    def not_before_epoch(self) -> float | None:
        return epoch_or_none(self.not_before)


class CallbackPatch(Input):
    number: str | None = Field(None, max_length=21)
    name: str | None = Field(None, max_length=200)
    priority: int | None = None
    not_before: Moment | None = None

    model_config = ConfigDict(extra="forbid", strict=False)

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True)
        if "not_before" in changes:
            changes["not_before"] = epoch_or_none(self.not_before)
        return changes


class CallbackOut(BaseModel):
    id: str
    queue_id: str
    number: str
    name: str
    priority: int
    state: str
    placed_at: datetime = Field(description="its place in line: the original call's arrival")
    created_at: datetime
    not_before: datetime | None
    attempts: int
    result: str
    agent_id: str | None
    origin_call_id: str | None

    @classmethod
    def of(cls, c: Callback) -> CallbackOut:
        return cls(
            id=c.id,
            queue_id=c.queue_id,
            number=c.number,
            name=c.name,
            priority=c.priority,
            state=c.state.value,
            placed_at=utc(c.placed_at),
            created_at=utc(c.created_at),
            not_before=utc_or_none(c.not_before),
            attempts=c.attempts,
            result=c.result,
            agent_id=c.agent_id,
            origin_call_id=c.origin_call_id,
        )


class TaskIn(Input):
    queue_id: str = Field(min_length=1, max_length=64)
    channel: str = Field(
        min_length=1, max_length=32, description="chat, email, task, ... (not voice)"
    )
    priority: int | None = Field(None, description="0-100; default the queue's")
    title: str = Field("", max_length=200)
    data: dict[str, str] = Field(
        default_factory=dict, description="the integrator's own fields (a CRM id, a URL)"
    )


class TaskAnswerIn(Input):
    answer: Literal["accept", "reject", "complete"]
    agent_id: str | None = Field(
        None, max_length=64, description="default: the agent the key belongs to"
    )


class TaskOut(BaseModel):
    id: str
    channel: str
    queue_id: str
    priority: int
    title: str
    data: dict[str, str]
    state: str
    agent_id: str | None
    created_at: datetime
    offered_at: datetime | None
    assigned_at: datetime | None
    ended_at: datetime | None
    offers: int

    @classmethod
    def of(cls, t: Task) -> TaskOut:
        return cls(
            id=t.id,
            channel=t.channel,
            queue_id=t.queue_id,
            priority=t.priority,
            title=t.title,
            data=dict(t.data),
            state=t.state.value,
            agent_id=t.agent_id,
            created_at=utc(t.created_at),
            offered_at=utc_or_none(t.offered_at),
            assigned_at=utc_or_none(t.assigned_at),
            ended_at=utc_or_none(t.ended_at),
            offers=t.offers,
        )
