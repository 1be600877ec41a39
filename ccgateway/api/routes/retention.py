"""Retention: how long each kind of data is kept, legal holds, and the purge (admins).

Periods are days; null (or absent) keeps for ever, the default. The law's floors (an
abandon-rate ledger's window, German proof of consent) lie under every period: a shorter
one is kept to the floor, and `GET /v1/retention` lists them with their reasons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field, Strict

from ccgateway.api.deps import DataController
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.routes.privacy import actor
from ccgateway.api.schemas import Input
from ccgateway.api.times import utc
from ccgateway.domain.errors import NotFound
from ccgateway.domain.retention import HoldKind, Kind, RetentionPolicy
from ccgateway.ports import Hold
from ccgateway.services.retention_service import PurgeReport, RetentionService

router = APIRouter(prefix="/v1/retention", tags=["retention"], route_class=GuardedRoute)


async def _retention(request: Request) -> RetentionService:
    retention: RetentionService = request.app.state.retention
    return retention


Retention = Annotated[RetentionService, Depends(_retention)]
# A kind named in JSON is text: the enum is taken from it (the rest of the body is strict).
Periods = dict[Annotated[Kind, Strict(False)], int | None]


class PolicyIn(Input):
    default: Periods = Field(default_factory=dict, description="kind -> days (null: for ever)")
    queues: dict[str, Periods] = Field(
        default_factory=dict, description="queue -> interactions, callbacks, tasks"
    )
    campaigns: dict[str, Periods] = Field(
        default_factory=dict,
        description="campaign -> dial_records, dispositions, refusals, contacts",
    )
    rule_sets: dict[str, Periods] = Field(
        default_factory=dict, description="rule set -> the same kinds as a campaign"
    )

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(self.default, self.queues, self.campaigns, self.rule_sets)


class FloorOut(BaseModel):
    rule_set: str
    kind: Kind
    days: int
    why: str


class PolicyOut(PolicyIn):
    floors: list[FloorOut] = Field(description="what the law keeps, whatever the periods say")


class HoldIn(Input):
    kind: HoldKind = Field(strict=False)
    value: str = Field(
        min_length=1, max_length=129, description="a number, a campaign id, or <campaign>:<contact>"
    )
    reason: str = Field(min_length=1, max_length=500)


class HoldOut(BaseModel):
    kind: HoldKind
    value: str
    reason: str
    at: datetime

    @classmethod
    def of(cls, h: Hold) -> HoldOut:
        return cls(kind=h.kind, value=h.value, reason=h.reason, at=utc(h.at))


class PurgeOut(BaseModel):
    started_at: datetime
    finished_at: datetime
    removed: dict[Kind, int] = Field(description="rows deleted of each kind")

    @classmethod
    def of(cls, r: PurgeReport) -> PurgeOut:
        return cls(started_at=utc(r.started_at), finished_at=utc(r.finished_at), removed=r.removed)


def _policy_out(retention: RetentionService) -> PolicyOut:
    p = retention.policy
    return PolicyOut(
        default=dict(p.default),
        queues={q: dict(v) for q, v in p.queues.items()},
        campaigns={c: dict(v) for c, v in p.campaigns.items()},
        rule_sets={r: dict(v) for r, v in p.rule_sets.items()},
        floors=[
            FloorOut(rule_set=r, kind=f.kind, days=f.days, why=f.why) for r, f in retention.floors()
        ],
    )


@router.get("")
async def get_policy(retention: Retention, _: DataController) -> PolicyOut:
    """The periods, and the law's floors under them."""
    return _policy_out(retention)


@router.put("")
async def put_policy(body: PolicyIn, retention: Retention, caller: DataController) -> PolicyOut:
    """Replace the periods (the next purge applies them; audited)."""
    await retention.put_policy(body.policy(), actor(caller))
    return _policy_out(retention)


@router.get("/holds")
async def list_holds(retention: Retention, _: DataController) -> list[HoldOut]:
    return [HoldOut.of(h) for h in await retention.holds()]


@router.post("/holds", status_code=status.HTTP_201_CREATED)
async def place_hold(body: HoldIn, retention: Retention, caller: DataController) -> HoldOut:
    """Suspend deletion of a number's, a campaign's or a contact's data (and erasure)."""
    await retention.hold(body.kind, body.value, body.reason, actor(caller))
    [placed] = [h for h in await retention.holds() if (h.kind, h.value) == (body.kind, body.value)]
    return HoldOut.of(placed)


@router.delete("/holds/{kind}/{value}", status_code=status.HTTP_204_NO_CONTENT)
async def release_hold(
    kind: HoldKind, value: str, retention: Retention, caller: DataController
) -> None:
    if not await retention.release(kind, value, actor(caller)):
        raise NotFound(f"no hold on {kind} {value!r}")


@router.post("/purge")
async def purge(retention: Retention, caller: DataController) -> PurgeOut:
    """Delete now what is past its period (as the schedule does); 409 while one runs."""
    return PurgeOut.of(await retention.purge(actor(caller)))
