"""Campaigns: their settings, starting, pausing and stopping, live figures, and the records
of what they did (dials, refusals, dispositions, the script's answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from ccgateway.api.deps import CallManager, Configurer, Dialer, FloorViewer, Limit, Offset, Reader
from ccgateway.api.dialer_record_schemas import (
    AnswersOut,
    CampaignFiguresOut,
    DialRecordOut,
    DispositionRecordOut,
    RefusalRecordOut,
)
from ccgateway.api.dialer_schemas import CampaignIn, CampaignOut, CampaignSettings
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.times import epoch_or_none

router = APIRouter(prefix="/v1/campaigns", tags=["dialer"], route_class=GuardedRoute)

SINCE = (
    "ISO 8601 (e.g. 2026-03-01T08:00:00Z; without an offset, UTC) or epoch seconds; default: all"
)
Since = Annotated[datetime | None, Query(description=SINCE)]


@router.get("")
async def list_campaigns(dialer: Dialer, _: FloorViewer) -> list[CampaignOut]:
    return [CampaignOut.of(c) for c in await dialer.campaigns()]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_campaign(body: CampaignIn, dialer: Dialer, _: Configurer) -> CampaignOut:
    """A new campaign, stopped; checked against its rule set and the centre (its queue,
    the blend's queues, the PBX)."""
    return CampaignOut.of(await dialer.put_campaign(body.to_domain(body.id), new=True))


@router.get("/{campaign_id}")
async def get_campaign(campaign_id: str, dialer: Dialer, _: Reader) -> CampaignOut:
    return CampaignOut.of(await dialer.campaign(campaign_id))


@router.put("/{campaign_id}")
async def replace_campaign(
    campaign_id: str, body: CampaignSettings, dialer: Dialer, _: Configurer
) -> CampaignOut:
    """Replace a campaign's settings whole (a running campaign takes them at once); its
    rule set cannot change once it has dialled."""
    return CampaignOut.of(await dialer.put_campaign(body.to_domain(campaign_id), new=False))


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_campaign(campaign_id: str, dialer: Dialer, _: Configurer) -> None:
    """A stopped campaign with no call out, with its lists and contacts; its records stay."""
    await dialer.delete_campaign(campaign_id)


@router.post("/{campaign_id}/start")
async def start_campaign(campaign_id: str, dialer: Dialer, _: CallManager) -> CampaignOut:
    """Dial (within its schedule, while its agents are free); the state survives a restart."""
    return CampaignOut.of(await dialer.campaign_action(campaign_id, "start"))


@router.post("/{campaign_id}/pause")
async def pause_campaign(campaign_id: str, dialer: Dialer, _: CallManager) -> CampaignOut:
    """No new calls; those out go on."""
    return CampaignOut.of(await dialer.campaign_action(campaign_id, "pause"))


@router.post("/{campaign_id}/stop")
async def stop_campaign(campaign_id: str, dialer: Dialer, _: CallManager) -> CampaignOut:
    """No new calls, loaded contacts let go; those out go on."""
    return CampaignOut.of(await dialer.campaign_action(campaign_id, "stop"))


@router.get("/{campaign_id}/figures")
async def campaign_figures(campaign_id: str, dialer: Dialer, _: FloorViewer) -> CampaignFiguresOut:
    """Live, today's (UTC): dials and their outcomes, the abandon rate by the rule set's
    definition, talk per agent hour, the wait for an agent, refusals by rule."""
    return CampaignFiguresOut.of(dialer.figures(campaign_id))


@router.get("/{campaign_id}/dials")
async def list_dials(
    campaign_id: str,
    dialer: Dialer,
    _: Reader,
    since: Since = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DialRecordOut]:
    """Every dial's record, oldest first (those of a deleted campaign too: records stay)."""
    records = await dialer.dials(campaign_id, epoch_or_none(since), limit, offset)
    return [DialRecordOut.of(r) for r in records]


@router.get("/{campaign_id}/refusals")
async def list_refusals(
    campaign_id: str,
    dialer: Dialer,
    _: Reader,
    since: Since = None,
    limit: Limit = 100,
) -> list[RefusalRecordOut]:
    """Dials the law refused (a rule for each: calling hours, consent, do-not-call, ...)."""
    records = await dialer.refusals(campaign_id, epoch_or_none(since), limit)
    return [RefusalRecordOut.of(r) for r in records]


@router.get("/{campaign_id}/dispositions")
async def list_dispositions(
    campaign_id: str, dialer: Dialer, _: Reader, since: Since = None
) -> list[DispositionRecordOut]:
    """What the agents recorded after each conversation, with the script's answers."""
    records = await dialer.dispositions(campaign_id, epoch_or_none(since))
    return [DispositionRecordOut.of(r) for r in records]


@router.get("/{campaign_id}/answers")
async def campaign_answers(
    campaign_id: str, dialer: Dialer, _: Reader, since: Since = None
) -> AnswersOut:
    """The script's answers per question (a survey's results): counts and shares of
    choices, yes/no and scale points; mean, min and max of numbers; the latest texts."""
    from_epoch = epoch_or_none(since)
    return AnswersOut.of(campaign_id, from_epoch, await dialer.answers(campaign_id, from_epoch))
