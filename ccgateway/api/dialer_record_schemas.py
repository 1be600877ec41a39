"""Bodies for the dialer at work: contact lists and their import reports, contacts and
their progress, the records (dials, dispositions, refusals), a campaign's figures and its
script's answers; the agent's preview answers and dispositions; do-not-call lists.

Times are ISO 8601 in UTC on the way out; on the way in they need a time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from ccgateway.api.dialer_schemas import Input
from ccgateway.api.times import Moment, epoch_or_none, utc, utc_or_none
from ccgateway.domain.outbound.contacts import Contact, ContactList, Progress
from ccgateway.domain.outbound.figures import CampaignFigures
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.services.dialer_service import MAX_NUMBERS

ContactStateName = Literal["new", "scheduled", "dialing", "done", "suppressed"]


# --- lists and contacts ------------------------------------------------------------------


class ContactListOut(BaseModel):
    id: str
    campaign_id: str
    name: str
    created_at: datetime
    contacts: int = Field(description="rows imported")
    rejected: int = Field(description="rows refused (not stored)")
    source: str

    @classmethod
    def of(cls, c: ContactList) -> ContactListOut:
        return cls(
            id=c.id,
            campaign_id=c.campaign_id,
            name=c.name,
            created_at=utc(c.created_at),
            contacts=c.contacts,
            rejected=c.rejected,
            source=c.source,
        )


class _Rejected(Protocol):
    # The import's report (ccgateway/importing), read through its shape: the API layer does
    # not import the importer.
    @property
    def row(self) -> int: ...
    @property
    def reasons(self) -> Sequence[str]: ...
    @property
    def number(self) -> str: ...


class _Report(Protocol):
    @property
    def rows(self) -> int: ...
    @property
    def rejected(self) -> Sequence[_Rejected]: ...
    @property
    def rejected_count(self) -> int: ...


class RejectedRowOut(BaseModel):
    line: int = Field(description="the file's line number (the header is line 1)")
    number: str
    reasons: list[str]


class ImportReportOut(BaseModel):
    contact_list: ContactListOut
    rows: int = Field(description="rows read, blank lines left out")
    imported: int
    rejected_count: int
    rejected: list[RejectedRowOut] = Field(description="the first 1000 refused rows, with why")

    @classmethod
    def of(cls, contact_list: ContactList, report: _Report) -> ImportReportOut:
        return cls(
            contact_list=ContactListOut.of(contact_list),
            rows=report.rows,
            imported=contact_list.contacts,
            rejected_count=report.rejected_count,
            rejected=[
                RejectedRowOut(line=r.row, number=r.number, reasons=list(r.reasons))
                for r in report.rejected
            ],
        )


class ConsentOut(BaseModel):
    basis: str
    given_at: datetime | None
    source: str


class ProgressOut(BaseModel):
    contact_id: str
    campaign_id: str
    state: ContactStateName
    attempts: int = Field(description="dials in this campaign")
    next_at: datetime | None = Field(description="not before: a retry or a callback")
    last_outcome: str
    outcomes: dict[str, int] = Field(description="dial outcome -> times")
    callback_at: datetime | None
    callback_agent_id: str | None = Field(description="none with callback_at: any agent")
    dial_id: str | None = Field(description="the call out now (dialing)")
    updated_at: datetime

    @classmethod
    def of(cls, p: Progress) -> ProgressOut:
        return cls(
            contact_id=p.contact_id,
            campaign_id=p.campaign_id,
            state=p.state.value,
            attempts=p.attempts,
            next_at=utc_or_none(p.next_at),
            last_outcome=p.last_outcome,
            outcomes=dict(p.outcomes),
            callback_at=utc_or_none(p.callback_at),
            callback_agent_id=p.callback_agent_id,
            dial_id=p.dial_id,
            updated_at=utc(p.updated_at),
        )


class ContactOut(BaseModel):
    id: str
    list_id: str
    number: str = Field(description="E.164")
    time_zones: list[str] = Field(description="every zone the number may be in")
    line_type: str = Field(description="mobile, fixed or unknown (treated as a mobile)")
    region: str
    name: str
    business: bool
    consents: dict[str, ConsentOut] = Field(description="per purpose")
    fields: dict[str, str]
    priority: int
    progress: ProgressOut

    @classmethod
    def of(cls, contact: Contact, progress: Progress) -> ContactOut:
        c = contact
        return cls(
            id=c.id,
            list_id=c.list_id,
            number=c.number,
            time_zones=list(c.time_zones),
            line_type=c.line_type.value,
            region=c.region,
            name=c.name,
            business=c.business,
            consents={
                p.value: ConsentOut(
                    basis=consent.basis.value,
                    given_at=utc_or_none(consent.given_at),
                    source=consent.source,
                )
                for p, consent in c.consents.items()
            },
            fields=dict(c.fields),
            priority=c.priority,
            progress=ProgressOut.of(progress),
        )


class ContactCallbackIn(Input):
    at: Moment = Field(strict=False, description="within the next 90 days, with a zone")
    agent_id: str | None = Field(
        None, max_length=64, description="the agent who calls back; none: any of the campaign's"
    )

    def at_epoch(self) -> float:
        return self.at.timestamp()


# --- records -----------------------------------------------------------------------------


class DialRecordOut(BaseModel):
    id: str
    campaign_id: str
    contact_id: str
    number: str
    rule_set_id: str
    mode: str
    caller_id: str
    dialled_at: datetime
    answered_at: datetime | None
    live_at: datetime | None = Field(description="a person was on the line")
    connected_at: datetime | None = Field(description="an agent was with them")
    ended_at: datetime
    outcome: str
    agent_id: str | None
    amd: str = Field(description="AMD's verdict: human, machine, notsure; empty: none")
    at_risk: bool = Field(description="placed by predictive pacing, no agent kept for it")
    detail: str
    ring_s: float
    wait_s: float | None = Field(description="the person on the line to the agent")
    talk_s: float

    @classmethod
    def of(cls, r: DialRecord) -> DialRecordOut:
        return cls(
            id=r.id,
            campaign_id=r.campaign_id,
            contact_id=r.contact_id,
            number=r.number,
            rule_set_id=r.rule_set_id,
            mode=r.mode.value,
            caller_id=r.caller_id,
            dialled_at=utc(r.dialled_at),
            answered_at=utc_or_none(r.answered_at),
            live_at=utc_or_none(r.live_at),
            connected_at=utc_or_none(r.connected_at),
            ended_at=utc(r.ended_at),
            outcome=r.outcome.value,
            agent_id=r.agent_id,
            amd=r.amd,
            at_risk=r.at_risk,
            detail=r.detail,
            ring_s=r.ring_s,
            wait_s=r.wait_s,
            talk_s=r.talk_s,
        )


class DispositionRecordOut(BaseModel):
    dial_id: str
    campaign_id: str
    contact_id: str
    agent_id: str
    code: str
    at: datetime
    answers: dict[str, bool | float | str]
    note: str
    callback_at: datetime | None
    callback_agent_id: str | None

    @classmethod
    def of(cls, r: DispositionRecord) -> DispositionRecordOut:
        return cls(
            dial_id=r.dial_id,
            campaign_id=r.campaign_id,
            contact_id=r.contact_id,
            agent_id=r.agent_id,
            code=r.code,
            at=utc(r.at),
            answers=dict(r.answers),
            note=r.note,
            callback_at=utc_or_none(r.callback_at),
            callback_agent_id=r.callback_agent_id,
        )


class RefusalRecordOut(BaseModel):
    campaign_id: str
    contact_id: str
    number: str
    rule: str = Field(description="the rule that refused the dial")
    detail: str
    at: datetime
    retry_at: datetime | None

    @classmethod
    def of(cls, r: RefusalRecord) -> RefusalRecordOut:
        return cls(
            campaign_id=r.campaign_id,
            contact_id=r.contact_id,
            number=r.number,
            rule=r.rule,
            detail=r.detail,
            at=utc(r.at),
            retry_at=utc_or_none(r.retry_at),
        )


# --- figures and answers -------------------------------------------------------------------


class LedgerOut(BaseModel):
    """The abandon rate by the rule set's own definition (domain/outbound/ledger.py)."""

    window: str = Field(description="calendar_day (UK, DE) or rolling_30_days (US)")
    live: int
    abandoned: int
    machines: int
    amd_estimate: float = Field(description="people taken for machines, estimated (UK)")
    rate: float | None
    limit: float | None
    stopped: bool = Field(description="one more abandon would break the limit: agents kept")
    throttle: float = Field(description="the pacer's easing: 1 none, 0 predictive stopped")


class CampaignFiguresOut(BaseModel):
    """Today's (UTC) figures, live (definitions in domain/outbound/figures.py)."""

    campaign_id: str
    dials: int
    outcomes: dict[str, int]
    connect_rate: float | None
    ledger: LedgerOut
    talk_s: float
    agent_hours: float
    talk_minutes_per_agent_hour: float | None
    wait_mean_s: float | None
    wait_p95_s: float | None
    refusals: dict[str, int] = Field(description="dials the law refused today, by rule")
    lines_now: int
    peak_lines: int
    hopper: int = Field(description="contacts loaded, ready to be dialled")
    threshold: float = Field(description="the pacer's learned marginal abandon chance")
    throttle: float

    @classmethod
    def of(cls, f: CampaignFigures) -> CampaignFiguresOut:
        return cls.model_validate(f, from_attributes=True)


class QuestionSummaryOut(BaseModel):
    question_id: str
    kind: str
    answered: int
    counts: dict[str, int] | None = Field(None, description="choices, yes/no, scale points")
    shares: dict[str, float] | None = None
    mean: float | None = Field(None, description="numbers and scales")
    min: float | None = None
    max: float | None = None
    latest: list[str] | None = Field(None, description="text: the latest answers")


class AnswersOut(BaseModel):
    campaign_id: str
    since: datetime | None
    questions: list[QuestionSummaryOut]

    @classmethod
    def of(
        cls, campaign_id: str, since: float | None, summary: Sequence[Mapping[str, object]]
    ) -> AnswersOut:
        return cls(
            campaign_id=campaign_id,
            since=utc_or_none(since),
            questions=[QuestionSummaryOut.model_validate(q) for q in summary],
        )


# --- the agent's side --------------------------------------------------------------------


class PreviewAnswerIn(Input):
    dial_id: str = Field(min_length=1, max_length=64, description="from the dial.preview event")
    action: Literal["dial", "skip"]


class DisposeIn(Input):
    agent_id: str | None = Field(
        None, max_length=64, description="default: the agent the key belongs to"
    )
    code: str = Field(min_length=1, max_length=64, description="one of the campaign's")
    answers: dict[str, bool | float | str] = Field(
        default_factory=dict, description="question id -> answer, checked against the script"
    )
    note: str = Field("", max_length=2000)
    callback_at: Moment | None = Field(
        None, strict=False, description="a callback disposition: when (within 90 days)"
    )
    callback_agent_id: str | None = Field(
        None, max_length=64, description="who calls back; none: any of the campaign's agents"
    )

    def callback_epoch(self) -> float | None:
        return epoch_or_none(self.callback_at)


# --- do-not-call ---------------------------------------------------------------------------


class SuppressIn(Input):
    numbers: list[str] = Field(min_length=1, max_length=MAX_NUMBERS, description="E.164")
    reason: str = Field(min_length=1, max_length=200, description="why: an objection, ...")


class SuppressedOut(BaseModel):
    added: int = Field(description="numbers new on the internal list")


class RegisterOut(BaseModel):
    name: str = Field(description="the register: tps, national, ...")
    screened_at: datetime


class RegisterReplacedOut(BaseModel):
    name: str
    numbers: int = Field(description="distinct numbers the register lists now")
