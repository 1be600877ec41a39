"""Request and response bodies.

Inputs forbid unknown fields and do not coerce types ("5" is not a level); pydantic checks
the shape, the domain's constructors check the values (ids, devices, levels, timeouts), so
every rule lives in one place and the API cannot drift from it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ccgateway.api.queue_rule_schemas import (
    AnnounceIn,
    CallbackPolicyIn,
    HoursIn,
    LimitsIn,
    RecordingPolicyIn,
)
from ccgateway.api.times import utc, utc_or_none
from ccgateway.domain.commands import Interaction
from ccgateway.domain.engine import Decision
from ccgateway.domain.figures import AgentFigures, QueueFigures
from ccgateway.domain.model import DEFAULT_PBX, Agent, Queue, RelaxationStep, Skill, Strategy
from ccgateway.domain.recorder import state
from ccgateway.domain.recording import Recording
from ccgateway.domain.views import AgentView, CallView, QueueStatus

Id = Field(
    min_length=1,
    max_length=64,
    description="required and chosen by the client; checked by the domain: 1-64 characters "
    "of a-z, 0-9, '_', '.', '-', starting with a letter or digit. It cannot be changed later.",
)
Name = Field(min_length=1, max_length=200)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Patch(Input):
    """Only the fields given change; the result is checked as a whole, like a new one."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()  # fields where null means "none"

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        # Only a null the client sent reaches here: defaults are not checked.
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class SkillIn(Input):
    id: str = Id
    name: str = Name

    def to_domain(self) -> Skill:
        return Skill(self.id, self.name)


class SkillPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)


class SkillOut(BaseModel):
    id: str
    name: str

    @classmethod
    def of(cls, skill: Skill) -> SkillOut:
        return cls(id=skill.id, name=skill.name)


class AgentIn(Input):
    id: str = Id
    name: str = Name
    device: str = Field(
        max_length=120,
        description="technology/resource: PJSIP/agent1, SIP/..., IAX2/..., "
        "sofia/<profile>/..., user/1001; unique",
    )
    skills: dict[str, int] = Field(
        default_factory=dict, description='{"skill id": level 1-10}; each skill must exist'
    )
    pbx: str = Field(DEFAULT_PBX, max_length=64)
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description='{"language": "de", "team": "vip", "site": "berlin"}: compared as text by '
        "queue requirements; names like ids, values up to 100 characters",
    )
    capacity: dict[str, int] = Field(
        default_factory=dict,
        description="non-voice items at once where this agent differs from the centre: "
        '{"chat": 2, "email": 0}; voice is always one call, and exclusive',
    )

    def to_domain(self) -> Agent:
        return Agent(
            self.id, self.name, self.device, self.skills, self.pbx, self.attributes, self.capacity
        )


class AgentPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)
    device: str | None = Field(None, max_length=120)
    skills: dict[str, int] | None = None
    pbx: str | None = Field(None, max_length=64)
    attributes: dict[str, str] | None = None
    capacity: dict[str, int] | None = None


class AgentOut(BaseModel):
    id: str
    name: str
    device: str
    skills: dict[str, int]
    pbx: str
    attributes: dict[str, str]
    capacity: dict[str, int]
    tasks: list[str] = Field(description="non-voice tasks offered to or held by the agent")
    state: str
    reason: str | None
    since: float
    call_id: str | None
    calls_answered: int
    pending_state: str | None = Field(description="a change asked for after the current call")
    pending_reason: str | None
    occupancy: float = Field(description="today: busy / (busy + available), pauses excluded")
    device_state: str = Field(
        description="the phone as the PBX sees it: available, in_use, "
        "ringing, unavailable (never offered a call) or unknown"
    )

    @classmethod
    def of(cls, view: AgentView) -> AgentOut:
        a = view.agent
        return cls(
            id=a.id,
            name=a.name,
            device=a.device,
            skills=dict(a.skills),
            pbx=a.pbx,
            attributes=dict(a.attributes),
            capacity=dict(a.capacity),
            tasks=sorted(view.tasks),
            state=view.state.value,
            reason=view.reason,
            since=view.since,
            call_id=view.call_id,
            calls_answered=view.calls_answered,
            pending_state=view.pending[0].value if view.pending else None,
            pending_reason=view.pending[1] if view.pending else None,
            occupancy=round(view.occupancy, 4),
            device_state=view.device_state.value,
        )


class AgentStateIn(Input):
    state: Literal["available", "paused", "logged_out"]
    reason: str | None = Field(None, max_length=200)
    after_call: bool = Field(
        False, description="while the agent has a call: apply when it and its wrap-up end"
    )


StrategyName = Literal["longest_idle", "most_skilled", "least_occupied", "round_robin"]
REQUIREMENT_HELP = (
    "an expression over agents' skills and attributes, e.g. `de >= 5 and (billing >= 3 or "
    'team == "vip")`: a skill compared with a level 0-10 (missing skill = 0), an attribute '
    'with a quoted text (`==`, `!=`, `in ("a", "b")`), a bare skill name means level >= 1; '
    "and, or, not, parentheses. Empty: no requirement beyond `requires`."
)


class RelaxationStepIn(Input):
    after_s: float = Field(description="applies once the caller has waited this long in the queue")
    requirement: str | None = Field(
        None, max_length=1000, description="replaces the queue's whole requirement"
    )
    priority_boost: int = Field(0, description="added to the caller's priority (ageing)")
    overflow_to: str | None = Field(
        None, max_length=64, description="move the caller to this queue, keeping their place"
    )

    def to_domain(self) -> RelaxationStep:
        return RelaxationStep(self.after_s, self.requirement, self.priority_boost, self.overflow_to)


class RelaxationStepOut(BaseModel):
    after_s: float
    requirement: str | None
    priority_boost: int
    overflow_to: str | None


class QueueIn(Input):
    id: str = Id
    name: str = Name
    extension: str = Field(
        max_length=20, description="the dialled number: 1-20 digits, unique on its PBX"
    )
    requires: dict[str, int] = Field(
        default_factory=dict, description='{"skill id": minimum level 1-10}; each must exist'
    )
    ring_timeout_s: float = Field(15.0, description="how long an agent rings: 5-120 s")
    wrapup_s: float = Field(10.0, description="after-call work before the next offer: 0-3600 s")
    pbx: str = Field(DEFAULT_PBX, max_length=64)
    requirement: str = Field("", max_length=1000, description=REQUIREMENT_HELP)
    strategy: StrategyName = Field(
        "longest_idle",
        description="which free qualified agent gets the call: longest_idle, most_skilled "
        "(highest sum of levels in the skills asked for), least_occupied (lowest share of "
        "working time handling calls today), round_robin; ties go to longest idle, then agent id",
    )
    weight: float = Field(
        1.0, description="0.1-100: how much a minute of wait here counts against other queues"
    )
    priority: int = Field(0, description="callers' default priority 0-100; higher goes first")
    relaxation: list[RelaxationStepIn] = Field(default_factory=list, max_length=10)
    last_agent_wait_s: float = Field(
        0.0,
        description="last-agent routing: a returning caller waits up to this long (0-600 s, "
        "0 = off) for the agent who served them last, if that agent is working",
    )
    last_agent_within_s: float = Field(
        86400.0, description="only if that call ended within this long (60 s - 30 days)"
    )
    limits: LimitsIn = Field(default_factory=LimitsIn)
    hours: HoursIn | None = Field(None, description="opening hours; none: always open")
    announce: AnnounceIn = Field(default_factory=AnnounceIn)
    callback: CallbackPolicyIn = Field(default_factory=CallbackPolicyIn)
    recording: RecordingPolicyIn = Field(default_factory=RecordingPolicyIn)
    trunked_pbxes: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="other PBXs whose agents may take this queue's callers, rung over the "
        "queue's PBX's trunk to each (its `trunks` setting); empty: only agents on `pbx`",
    )

    def to_domain(self) -> Queue:
        return Queue(
            self.id,
            self.name,
            self.extension,
            self.requires,
            self.ring_timeout_s,
            self.wrapup_s,
            self.pbx,
            self.requirement,
            Strategy(self.strategy),
            self.weight,
            self.priority,
            tuple(step.to_domain() for step in self.relaxation),
            self.last_agent_wait_s,
            self.last_agent_within_s,
            self.limits.to_domain(),
            self.hours.to_domain() if self.hours else None,
            self.announce.to_domain(),
            self.callback.to_domain(),
            self.recording.to_domain(),
            tuple(self.trunked_pbxes),
        )


class QueuePatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)
    extension: str | None = Field(None, max_length=20)
    requires: dict[str, int] | None = None
    ring_timeout_s: float | None = None
    wrapup_s: float | None = None
    pbx: str | None = Field(None, max_length=64)
    requirement: str | None = Field(None, max_length=1000)
    strategy: StrategyName | None = None
    weight: float | None = None
    priority: int | None = None
    relaxation: list[RelaxationStepIn] | None = Field(None, max_length=10)
    last_agent_wait_s: float | None = None
    last_agent_within_s: float | None = None
    limits: LimitsIn | None = None
    hours: HoursIn | None = Field(None, description="null: always open")
    announce: AnnounceIn | None = None
    callback: CallbackPolicyIn | None = None
    recording: RecordingPolicyIn | None = None
    trunked_pbxes: list[str] | None = Field(None, max_length=16)

    NULLABLE = frozenset({"hours"})

    def changes(self) -> dict[str, Any]:
        changes = super().changes()
        if "relaxation" in changes:
            changes["relaxation"] = tuple(s.to_domain() for s in self.relaxation or ())
        if "strategy" in changes:
            changes["strategy"] = Strategy(changes["strategy"])
        if "trunked_pbxes" in changes:
            changes["trunked_pbxes"] = tuple(changes["trunked_pbxes"])
        for name in ("limits", "hours", "announce", "callback", "recording"):
            if name in changes:
                rule = getattr(self, name)
                changes[name] = None if rule is None else rule.to_domain()
        return changes


class QueueOut(BaseModel):
    id: str
    name: str
    extension: str
    requires: dict[str, int]
    ring_timeout_s: float
    wrapup_s: float
    pbx: str
    requirement: str
    effective_requirement: str = Field(description="`requires` and `requirement` together")
    strategy: str
    weight: float
    priority: int
    relaxation: list[RelaxationStepOut]
    last_agent_wait_s: float
    last_agent_within_s: float
    limits: LimitsIn
    hours: HoursIn | None
    announce: AnnounceIn
    callback: CallbackPolicyIn
    recording: RecordingPolicyIn
    trunked_pbxes: list[str]

    @classmethod
    def of(cls, q: Queue) -> QueueOut:
        return cls(
            id=q.id,
            name=q.name,
            extension=q.extension,
            requires=dict(q.requires),
            ring_timeout_s=q.ring_timeout_s,
            wrapup_s=q.wrapup_s,
            pbx=q.pbx,
            requirement=q.requirement,
            effective_requirement=q.compiled.source,
            strategy=q.strategy.value,
            weight=q.weight,
            priority=q.priority,
            relaxation=[
                RelaxationStepOut(
                    after_s=s.after_s,
                    requirement=s.requirement,
                    priority_boost=s.priority_boost,
                    overflow_to=s.overflow_to,
                )
                for s in q.relaxation
            ],
            last_agent_wait_s=q.last_agent_wait_s,
            last_agent_within_s=q.last_agent_within_s,
            limits=LimitsIn.of(q.limits),
            hours=HoursIn.of(q.hours),
            announce=AnnounceIn.of(q.announce),
            callback=CallbackPolicyIn.of(q.callback),
            recording=RecordingPolicyIn.of(q.recording),
            trunked_pbxes=list(q.trunked_pbxes),
        )


class QueueStatusOut(BaseModel):
    queue_id: str
    waiting: int
    longest_wait_s: float
    offering: int
    connected: int
    agents_qualified: int
    agents_logged_in: int
    agents_available: int
    occupancy: float | None = Field(
        description="mean occupancy today of the logged-in qualified agents: "
        "busy / (busy + available), pauses excluded"
    )

    @classmethod
    def of(cls, value: QueueStatus) -> QueueStatusOut:
        return cls.model_validate(value, from_attributes=True)


class QueueFiguresOut(BaseModel):
    """Today's (UTC) figures; definitions in the endpoint's description."""

    queue_id: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    abandonment_rate: float | None
    longest_wait_answered_s: float
    unstaffed: int = Field(description="offered, then sent on when the last agent left")
    deflected: int = Field(description="sent on at arrival: closed, full, no agents")
    callbacks_requested: int
    callbacks_completed: int
    callbacks_not_reached: int
    redirected: int = Field(
        description="waiting callers someone else (another AMI tool, an operator) moved out "
        "of the controller's dialplan, or the PBX could not bridge to the agent who "
        "answered: not offered, in no rate"
    )
    cut_off: int = Field(
        description="waiting callers the PBX itself ended (it restarted or shut down): "
        "not offered, in no rate"
    )
    tasks_completed: int
    tasks_cancelled: int
    task_asa_s: float | None = Field(description="mean wait of completed tasks until accepted")
    task_aht_s: float | None = Field(description="mean handling time of completed tasks")

    @classmethod
    def of(cls, value: QueueFigures) -> QueueFiguresOut:
        return cls.model_validate(value, from_attributes=True)


class AgentFiguresOut(BaseModel):
    """Today's (UTC) figures of one agent, and their live occupancy."""

    agent_id: str
    calls_answered: int = Field(description="inbound, transferred to them, and callbacks")
    talk_s: float
    aht_s: float | None
    transfers: int = Field(description="calls they transferred on")
    callbacks: int
    tasks_completed: int
    task_aht_s: float | None
    occupancy: float

    @classmethod
    def of(cls, value: AgentFigures, occupancy: float) -> AgentFiguresOut:
        return cls(**dataclasses.asdict(value), occupancy=round(occupancy, 4))


class LiveRecordingOut(BaseModel):
    id: str
    state: str = Field(description="recording or paused")

    @classmethod
    def of(cls, r: Recording) -> LiveRecordingOut:
        return cls(id=r.id, state=state(r))


class CallOut(BaseModel):
    call_id: str
    queue_id: str
    caller_number: str
    caller_name: str
    state: str
    agent_id: str | None
    arrived_at: datetime
    answered_at: datetime | None
    wait_s: float
    offers: int
    priority: int
    recording: LiveRecordingOut | None = Field(
        None, description="the call's recording while it is being recorded (or paused)"
    )

    @classmethod
    def of(cls, c: CallView) -> CallOut:
        return cls(
            call_id=c.call_id,
            queue_id=c.queue_id,
            caller_number=c.caller_number,
            caller_name=c.caller_name,
            state=c.state.value,
            agent_id=c.agent_id,
            arrived_at=utc(c.arrived_at),
            answered_at=utc_or_none(c.answered_at),
            wait_s=c.wait_s,
            offers=c.offers,
            priority=c.priority,
            recording=LiveRecordingOut.of(c.recording) if c.recording else None,
        )


class CallPatch(Input):
    priority: int | None = Field(None, description="0-100; higher is served first, in every queue")
    queue_id: str | None = Field(
        None,
        max_length=64,
        description="move a waiting caller to this queue (their wait and priority go along; "
        "the queue's rules apply on entry, as for an overflow)",
    )

    @model_validator(mode="after")
    def _something(self) -> CallPatch:
        if self.priority is None and self.queue_id is None:
            raise ValueError("give priority, queue_id or both")
        return self


class DecisionOut(BaseModel):
    """Why the engine did what it did: an offer, a relaxation step, an overflow."""

    at: datetime
    kind: str
    call_id: str
    queue_id: str
    agent_id: str | None
    rule: str
    explanation: str

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(
            at=utc(d.at),
            kind=d.kind,
            call_id=d.call_id,
            queue_id=d.queue_id,
            agent_id=d.agent_id,
            rule=d.rule,
            explanation=d.explanation,
        )


class InteractionOut(BaseModel):
    """One finished call; each time both as ISO 8601 (UTC) and as epoch seconds."""

    call_id: str
    queue_id: str | None
    agent_id: str | None
    caller_number: str
    outcome: str
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    arrived_epoch: float
    answered_epoch: float | None
    ended_epoch: float
    wait_s: float
    talk_s: float
    offers: int
    detail: str = Field(description="where the caller went, or what the record covers")
    kind: str = Field(description="inbound (a caller), callback (we called them) or task")
    channel: str

    @classmethod
    def of(cls, i: Interaction) -> InteractionOut:
        return cls(
            call_id=i.call_id,
            queue_id=i.queue_id,
            agent_id=i.agent_id,
            caller_number=i.caller_number,
            outcome=i.outcome.value,
            arrived_at=utc(i.arrived_at),
            answered_at=utc_or_none(i.answered_at),
            ended_at=utc(i.ended_at),
            arrived_epoch=i.arrived_at,
            answered_epoch=i.answered_at,
            ended_epoch=i.ended_at,
            wait_s=i.wait_s,
            talk_s=i.talk_s,
            offers=i.offers,
            detail=i.detail,
            kind=i.kind,
            channel=i.channel,
        )


class MonitorIn(Input):
    supervisor_device: str = Field(
        max_length=120,
        description="the phone to ring, e.g. PJSIP/sup1 or user/2001, on the call's PBX",
    )
    mode: Literal["listen", "whisper", "barge"] = "listen"


class KeyIn(Input):
    name: str = Name
    role: Literal["admin", "supervisor", "agent", "wallboard"]
    agent_id: str | None = Field(None, max_length=64, description="required for role agent")


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    agent_id: str | None
    created_at: datetime


class KeyCreated(KeyOut):
    key: str = Field(description="shown once: store it now")


class HealthOut(BaseModel):
    pbx_ready: bool
    pbxes: dict[str, bool]
    database: bool = Field(
        description="false while the database is away: routing goes on, its writes wait in "
        "order, history and changes answer 503"
    )
    problems: dict[str, str] = Field(
        default_factory=dict, description="per PBX, what it refuses (e.g. an AMI action)"
    )
    role: Literal["single", "active", "standby"] = Field(
        "single", description="a pair's active controller says active (a standby answers 503)"
    )
    node: str | None = Field(None, description="a pair's controller: its node id")
    epoch: int | None = Field(None, description="a pair's active controller: its fencing epoch")
    passive: dict[str, str] = Field(
        default_factory=dict,
        description="per PBX another controller owns (its node and epoch): this controller "
        "stays passive on it, sending nothing",
    )
