"""Bodies for the dialer's configuration: campaigns (AMD, retries, dispositions, the script,
blending, hours) and rule sets (domain/outbound/campaigns.py and rules.py say what each field
means). A campaign is read in the shape it is written, with its live state added.

As in schemas.py, pydantic checks the shape (unknown fields, types, names of enum values)
and the domain's constructors check the values, so each rule lives in one place. Enum
values are `Literal`s here (strict validation takes no text for an Enum); a test keeps them
equal to the domain's enums.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ccgateway.api.queue_rule_schemas import HoursIn, RecordingPolicyIn
from ccgateway.api.times import Moment, epoch_or_none, utc_or_none
from ccgateway.domain.model import DEFAULT_PBX
from ccgateway.domain.outbound.campaigns import (
    DEFAULT_DISPOSITIONS,
    Amd,
    Blend,
    Campaign,
    DialMode,
    DialOutcome,
    Disposition,
    MachineAction,
    Retry,
)
from ccgateway.domain.outbound.rules import (
    PRESETS,
    AbandonWindow,
    Basis,
    LineConsent,
    Purpose,
    RuleSet,
)
from ccgateway.domain.outbound.scripts import Question, QuestionKind, Script
from ccgateway.services.dialer_service import CampaignView

PurposeName = Literal["marketing", "service", "collections", "research"]
ModeName = Literal["preview", "progressive", "predictive"]
MachineActionName = Literal["hang_up", "message"]
RetryOutcomeName = Literal["busy", "no_answer", "machine", "abandoned", "hung_up", "failed", "lost"]
QuestionKindName = Literal["choice", "yes_no", "number", "scale", "text"]
BasisName = Literal["express_written", "express", "contract", "legitimate_interest"]
WindowName = Literal["calendar_day", "rolling_30_days"]
StateName = Literal["stopped", "running", "paused"]

ID_HELP = "1-64 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit"
TIME_HELP = "ISO 8601 with a time zone, e.g. 2026-03-01T08:00:00Z"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- a campaign's parts ----------------------------------------------------------------------


class AmdIn(Input):
    enabled: bool = Field(False, description="answering-machine detection (Asterisk's AMD())")
    machine_action: MachineActionName = Field(
        "hang_up", description="hang_up, or message: leave `machine_message` after the greeting"
    )
    machine_message: str | None = Field(None, max_length=200, description="a sound")
    false_positive_share: float = Field(
        0.03,
        description="0-0.5: the share of machine verdicts that were people (from listening to "
        "a sample); the UK ledger counts them as abandoned calls",
    )

    def to_domain(self) -> Amd:
        return Amd(
            self.enabled,
            MachineAction(self.machine_action),
            self.machine_message,
            self.false_positive_share,
        )

    @classmethod
    def of(cls, amd: Amd) -> AmdIn:
        return cls(
            enabled=amd.enabled,
            machine_action=amd.machine_action.value,
            machine_message=amd.machine_message,
            false_positive_share=amd.false_positive_share,
        )


class RetryIn(Input):
    after_s: float = Field(description="call again this long after (60 s - 30 days)")
    times: int = Field(description="retries after this outcome, 0-50 (0: give up)")


class DispositionIn(Input):
    code: str = Field(min_length=1, max_length=64, description=ID_HELP)
    label: str = Field(min_length=1, max_length=100)
    final: bool = Field(True, description="the contact is done in this campaign")
    retry_after_s: float | None = Field(
        None, description="not final: call again after this (60 s - 90 days)"
    )
    do_not_call: bool = Field(
        False, description="the person objected: on the internal do-not-call list (final)"
    )
    callback: bool = Field(False, description="not final: the agent gives a time to call back")

    def to_domain(self) -> Disposition:
        return Disposition(
            self.code,
            self.label,
            self.final,
            self.retry_after_s,
            self.do_not_call,
            self.callback,
        )

    @classmethod
    def of(cls, d: Disposition) -> DispositionIn:
        return cls(
            code=d.code,
            label=d.label,
            final=d.final,
            retry_after_s=d.retry_after_s,
            do_not_call=d.do_not_call,
            callback=d.callback,
        )


class QuestionIn(Input):
    id: str = Field(min_length=1, max_length=40, description="1-40 of a-z, 0-9, '_'")
    text: str = Field(min_length=1, max_length=500)
    kind: QuestionKindName = Field(
        description="choice (one of `options`), yes_no, number (`minimum`-`maximum`), scale "
        "(an integer from `minimum` to `maximum`) or text"
    )
    options: list[str] = Field(default_factory=list, max_length=30)
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    def to_domain(self) -> Question:
        return Question(
            self.id,
            self.text,
            QuestionKind(self.kind),
            tuple(self.options),
            self.minimum,
            self.maximum,
            self.required,
        )

    @classmethod
    def of(cls, q: Question) -> QuestionIn:
        return cls(
            id=q.id,
            text=q.text,
            kind=q.kind.value,
            options=list(q.options),
            minimum=q.minimum,
            maximum=q.maximum,
            required=q.required,
        )


class ScriptIn(Input):
    text: str = Field(
        "", max_length=20000, description="what the agent reads; {field} for a contact's fields"
    )
    questions: list[QuestionIn] = Field(default_factory=list, max_length=50)

    def to_domain(self) -> Script:
        return Script(self.text, tuple(q.to_domain() for q in self.questions))

    @classmethod
    def of(cls, script: Script) -> ScriptIn:
        return cls(text=script.text, questions=[QuestionIn.of(q) for q in script.questions])


class BlendIn(Input):
    inbound_queue_ids: list[str] = Field(
        min_length=1, max_length=50, description="the inbound queues served first"
    )
    min_reserve: int = Field(1, description="free agents kept for inbound at least (0-500)")
    max_reserve: int = Field(20, description="and at most")
    inbound_wait_goal_s: float = Field(
        20.0, description="the inbound service-level threshold (1-3600 s)"
    )

    def to_domain(self) -> Blend:
        return Blend(
            tuple(self.inbound_queue_ids),
            self.min_reserve,
            self.max_reserve,
            self.inbound_wait_goal_s,
        )

    @classmethod
    def of(cls, blend: Blend | None) -> BlendIn | None:
        if blend is None:
            return None
        return cls(
            inbound_queue_ids=list(blend.inbound_queue_ids),
            min_reserve=blend.min_reserve,
            max_reserve=blend.max_reserve,
            inbound_wait_goal_s=blend.inbound_wait_goal_s,
        )


def _default_dispositions() -> list[DispositionIn]:
    return [DispositionIn.of(d) for d in DEFAULT_DISPOSITIONS]


# --- campaigns ---------------------------------------------------------------------------


class CampaignSettings(Input):
    """Everything about a campaign but its id (`PUT /v1/campaigns/{id}` replaces it whole)."""

    name: str = Field(min_length=1, max_length=100)
    purpose: PurposeName = Field(description="the law differs: marketing, service, ...")
    rule_set_id: str = Field(max_length=64, description="uk, us, de or a custom rule set")
    mode: ModeName = Field(
        description="preview (the agent sees the contact, then dials or skips), progressive "
        "(one call per free agent, kept for it) or predictive (paced: more calls than agents)"
    )
    queue_id: str = Field(
        max_length=64, description="the queue whose agents take the campaign's calls"
    )
    caller_id: str = Field(max_length=16, description="E.164, a number that can be called back")
    abandon_message: str = Field(
        max_length=200, description="the sound played when no agent comes within the grace"
    )
    caller_name: str = Field("", max_length=40)
    ring_s: float = Field(20.0, description="how long the customer's phone rings (5-180 s)")
    abandon_target: float | None = Field(
        None, description="the pacer's own abandon cap (0-0.5), at most the rule set's"
    )
    amd: AmdIn = Field(default_factory=AmdIn)
    retries: dict[RetryOutcomeName, RetryIn] = Field(
        default_factory=dict,
        description="after each outcome: when to call again and how often; outcomes not "
        "named keep the defaults (answers list them all)",
    )
    dispositions: list[DispositionIn] = Field(
        default_factory=_default_dispositions, min_length=1, max_length=60
    )
    script: ScriptIn = Field(default_factory=ScriptIn)
    hours: HoursIn | None = Field(None, description="when the campaign dials; none: any time")
    starts_at: Moment | None = Field(None, strict=False, description=TIME_HELP)
    ends_at: Moment | None = Field(None, strict=False, description=TIME_HELP)
    max_lines: int | None = Field(None, description="calls out at once at most (1-5000)")
    live_priority: int = Field(
        100, description="0-100: a person who answered waits in the queue at this priority"
    )
    preview_timeout_s: float = Field(
        60.0, description="a preview not answered by then is skipped (5-3600 s)"
    )
    blend: BlendIn | None = Field(None, description="blended agents: inbound first")
    pbx: str = Field(DEFAULT_PBX, max_length=64)
    recording: RecordingPolicyIn | None = Field(
        None,
        description="how its calls are recorded (no notice: the script says it); none: its "
        "queue's. Under a rule set that needs every party's consent, only on demand",
    )

    def to_domain(self, campaign_id: str) -> Campaign:
        return Campaign(
            id=campaign_id,
            name=self.name,
            purpose=Purpose(self.purpose),
            rule_set_id=self.rule_set_id,
            mode=DialMode(self.mode),
            queue_id=self.queue_id,
            caller_id=self.caller_id,
            abandon_message=self.abandon_message,
            caller_name=self.caller_name,
            ring_s=self.ring_s,
            abandon_target=self.abandon_target,
            amd=self.amd.to_domain(),
            retries={DialOutcome(o): Retry(r.after_s, r.times) for o, r in self.retries.items()},
            dispositions=tuple(d.to_domain() for d in self.dispositions),
            script=self.script.to_domain(),
            hours=self.hours.to_domain() if self.hours else None,
            starts_at=epoch_or_none(self.starts_at),
            ends_at=epoch_or_none(self.ends_at),
            max_lines=self.max_lines,
            live_priority=self.live_priority,
            preview_timeout_s=self.preview_timeout_s,
            blend=self.blend.to_domain() if self.blend else None,
            pbx=self.pbx,
            recording=self.recording.to_domain() if self.recording else None,
        )

    @classmethod
    def fields_of(cls, c: Campaign) -> dict[str, Any]:
        return {
            "name": c.name,
            "purpose": c.purpose.value,
            "rule_set_id": c.rule_set_id,
            "mode": c.mode.value,
            "queue_id": c.queue_id,
            "caller_id": c.caller_id,
            "abandon_message": c.abandon_message,
            "caller_name": c.caller_name,
            "ring_s": c.ring_s,
            "abandon_target": c.abandon_target,
            "amd": AmdIn.of(c.amd),
            "retries": {
                o.value: RetryIn(after_s=r.after_s, times=r.times) for o, r in c.retries.items()
            },
            "dispositions": [DispositionIn.of(d) for d in c.dispositions],
            "script": ScriptIn.of(c.script),
            "hours": HoursIn.of(c.hours),
            "starts_at": utc_or_none(c.starts_at),
            "ends_at": utc_or_none(c.ends_at),
            "max_lines": c.max_lines,
            "live_priority": c.live_priority,
            "preview_timeout_s": c.preview_timeout_s,
            "blend": BlendIn.of(c.blend),
            "pbx": c.pbx,
            "recording": RecordingPolicyIn.of(c.recording) if c.recording else None,
        }


class CampaignIn(CampaignSettings):
    id: str = Field(min_length=1, max_length=64, description=f"chosen by the client: {ID_HELP}")


class CampaignOut(CampaignIn):
    state: StateName = Field(description="what a supervisor set: stopped, running, paused")
    why_idle: str = Field(description="why it places no call now; empty while dialling")
    lines: int = Field(description="calls out now")
    contacts: dict[str, int] = Field(description="contacts per state: new, scheduled, ...")

    @classmethod
    def of(cls, view: CampaignView) -> CampaignOut:
        return cls(
            id=view.campaign.id,
            **CampaignSettings.fields_of(view.campaign),
            state=view.state.value,
            why_idle=view.why_idle,
            lines=view.lines,
            contacts=dict(view.counts),
        )


# --- rule sets ---------------------------------------------------------------------------


class LineConsentIn(Input):
    mobile: list[BasisName] = Field(
        description="the bases that allow a call to a mobile (or unknown) line; empty: none needed"
    )
    fixed: list[BasisName] = Field(description="the same for fixed lines")

    def to_domain(self) -> LineConsent:
        return LineConsent(
            frozenset(Basis(b) for b in self.mobile), frozenset(Basis(b) for b in self.fixed)
        )

    @classmethod
    def of(cls, rule: LineConsent) -> LineConsentIn:
        return cls(
            mobile=sorted(b.value for b in rule.mobile), fixed=sorted(b.value for b in rule.fixed)
        )


class RuleChangesIn(Input):
    """The fields a custom rule set changes from its base; each may only be stricter."""

    abandon_limit: float | None = Field(None, description="a share: 0.03 is 3 %")
    abandon_window: WindowName | None = None
    count_amd_false_positives: bool | None = None
    ledger_timezone: str | None = Field(None, max_length=64)
    grace_s: float | None = None
    grace_counts_amd: bool | None = None
    min_ring_s: float | None = None
    max_ring_s: float | None = None
    calling_hours: HoursIn | None = Field(None, description="in the called person's time")
    attempts_per_day: int | None = None
    attempts_per_week: int | None = None
    attempts_per_campaign: int | None = None
    lockout_after_abandon_s: float | None = None
    consent: dict[PurposeName, LineConsentIn] | None = Field(
        None, description="replaces the whole map: a purpose left out may not be dialled"
    )
    consent_proof_required: bool | None = None
    business_presumed_consent: bool | None = None
    registers: dict[str, int] | None = Field(
        None, description="register -> screened within this many days (tps, national)"
    )
    caller_id_required: bool | None = None
    recording_needs_consent: bool | None = None

    def to_domain(self) -> dict[str, object]:
        """Only the fields given (a null is passed on: 'none', as the domain means it)."""
        changes: dict[str, object] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if isinstance(value, HoursIn):
                value = value.to_domain()
            elif name == "abandon_window" and value is not None:
                value = AbandonWindow(value)
            elif name == "consent" and value is not None:
                value = {Purpose(p): rule.to_domain() for p, rule in value.items()}
            changes[name] = value
        return changes


class RuleSetIn(Input):
    name: str = Field(min_length=1, max_length=100)
    base: str = Field(max_length=64, description="the preset it starts from: uk, us or de")
    changes: RuleChangesIn = Field(default_factory=RuleChangesIn)


class RuleSetOut(BaseModel):
    id: str
    name: str
    preset: bool = Field(description="one of the built-in rule sets (they cannot change)")
    description: str
    abandon_limit: float | None
    abandon_window: WindowName
    count_amd_false_positives: bool
    ledger_timezone: str
    grace_s: float
    grace_counts_amd: bool
    min_ring_s: float
    max_ring_s: float | None
    calling_hours: HoursIn | None
    attempts_per_day: int | None
    attempts_per_week: int | None
    attempts_per_campaign: int | None
    lockout_after_abandon_s: float | None
    consent: dict[PurposeName, LineConsentIn] = Field(
        description="per purpose, the bases that allow a call; a purpose missing: never"
    )
    consent_proof_required: bool
    business_presumed_consent: bool
    registers: dict[str, int]
    caller_id_required: bool
    recording_needs_consent: bool = Field(
        description="every party must agree to a recording: campaigns record only on demand"
    )

    @classmethod
    def of(cls, r: RuleSet) -> RuleSetOut:
        return cls(
            id=r.id,
            name=r.name,
            preset=r.id in PRESETS,
            description=r.description,
            abandon_limit=r.abandon_limit,
            abandon_window=r.abandon_window.value,
            count_amd_false_positives=r.count_amd_false_positives,
            ledger_timezone=r.ledger_timezone,
            grace_s=r.grace_s,
            grace_counts_amd=r.grace_counts_amd,
            min_ring_s=r.min_ring_s,
            max_ring_s=r.max_ring_s,
            calling_hours=HoursIn.of(r.calling_hours),
            attempts_per_day=r.attempts_per_day,
            attempts_per_week=r.attempts_per_week,
            attempts_per_campaign=r.attempts_per_campaign,
            lockout_after_abandon_s=r.lockout_after_abandon_s,
            consent={p.value: LineConsentIn.of(rule) for p, rule in r.consent.items()},
            consent_proof_required=r.consent_proof_required,
            business_presumed_consent=r.business_presumed_consent,
            registers=dict(r.registers),
            caller_id_required=r.caller_id_required,
            recording_needs_consent=r.recording_needs_consent,
        )
