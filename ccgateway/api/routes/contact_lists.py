"""A campaign's contact lists (imported from CSV, all or nothing) and its contacts, with
where each stands; a supervisor schedules a contact's callback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from ccgateway.api.deps import CallManager, Configurer, Dialer, Limit, Offset, Reader
from ccgateway.api.dialer_record_schemas import (
    ContactCallbackIn,
    ContactListOut,
    ContactOut,
    ContactStateName,
    ImportReportOut,
    ProgressOut,
)
from ccgateway.api.intake import MB, GuardedRoute
from ccgateway.api.uploads import CSV_TYPES, body_of, lines_of, read_text
from ccgateway.domain.outbound.contacts import ContactState

router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["dialer"], route_class=GuardedRoute)

MAX_CSV_BYTES = 50 * MB
CSV_HELP = (
    "The CSV itself (UTF-8, a header row; at most 50 MB): a number (or phone) column, E.164 "
    "or national for `region`; optional id, name, priority, region, timezone, business, "
    "consent, consent_at, consent_source (and consent_<purpose>...); any other column is a "
    "custom field for the agent's screen and script."
)


@router.post(
    "/lists",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_of("text/csv", CSV_HELP),
)
async def import_list(
    campaign_id: str,
    request: Request,
    dialer: Dialer,
    _: Configurer,
    list_id: Annotated[str, Query(min_length=1, max_length=64)],
    name: Annotated[str, Query(min_length=1, max_length=200)],
    region: Annotated[
        str, Query(min_length=2, max_length=2, description="for national numbers")
    ] = "GB",
    source: Annotated[str, Query(max_length=200, description="the file's name")] = "",
) -> ImportReportOut:
    """Every row is checked (a valid number, its line type and time zones, consents,
    fields); the good rows are stored in one transaction, or none if any clashes with the
    campaign's contacts. Refused rows are reported with their line and reasons."""
    text = await read_text(request, MAX_CSV_BYTES, CSV_TYPES, "text/csv")
    contact_list, report = await dialer.import_list(
        campaign_id, list_id, name, lines_of(text), region, source
    )
    return ImportReportOut.of(contact_list, report)


@router.get("/lists")
async def list_lists(campaign_id: str, dialer: Dialer, _: Reader) -> list[ContactListOut]:
    """Oldest first."""
    return [ContactListOut.of(c) for c in await dialer.lists(campaign_id)]


@router.get("/contacts")
async def list_contacts(
    campaign_id: str,
    dialer: Dialer,
    _: Reader,
    state: ContactStateName | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ContactOut]:
    found = await dialer.contacts(
        campaign_id, ContactState(state) if state else None, limit, offset
    )
    return [ContactOut.of(contact, progress) for contact, progress in found]


@router.get("/contacts/{contact_id}")
async def get_contact(campaign_id: str, contact_id: str, dialer: Dialer, _: Reader) -> ContactOut:
    return ContactOut.of(*await dialer.contact(campaign_id, contact_id))


@router.post("/contacts/{contact_id}/callback")
async def schedule_callback(
    campaign_id: str,
    contact_id: str,
    body: ContactCallbackIn,
    dialer: Dialer,
    _: CallManager,
) -> ProgressOut:
    """Call the contact back at `at`, by `agent_id` (their phone rings first) or by any of
    the campaign's agents; not while the contact is being dialled or is suppressed."""
    progress = await dialer.schedule_callback(
        campaign_id, contact_id, body.at_epoch(), body.agent_id
    )
    return ProgressOut.of(progress)
