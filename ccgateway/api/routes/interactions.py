from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ccgateway.api.deps import Limit, Offset, Reader, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import InteractionOut
from ccgateway.api.times import epoch_or_none
from ccgateway.ports import InteractionQuery

router = APIRouter(prefix="/v1/interactions", tags=["interactions"], route_class=GuardedRoute)

TIME = "ISO 8601 (e.g. 2024-05-01T08:00:00Z; without an offset, UTC) or epoch seconds"


@router.get("")
async def list_interactions(
    service: Service,
    _: Reader,
    queue_id: str | None = None,
    agent_id: str | None = None,
    since: Annotated[datetime | None, Query(description=f"arrived at or after: {TIME}")] = None,
    until: Annotated[datetime | None, Query(description=f"arrived before: {TIME}")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[InteractionOut]:
    """Finished calls, oldest first: answered, abandoned, timed out or rejected."""
    query = InteractionQuery(
        queue_id, agent_id, epoch_or_none(since), epoch_or_none(until), limit, offset
    )
    return [InteractionOut.of(i) for i in await service.interactions(query)]
