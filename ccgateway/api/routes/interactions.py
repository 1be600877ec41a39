from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ccgateway.api.deps import Reader, Service
from ccgateway.api.schemas import InteractionOut
from ccgateway.ports import InteractionQuery

router = APIRouter(prefix="/v1/interactions", tags=["interactions"])


@router.get("")
async def list_interactions(
    service: Service,
    _: Reader,
    queue_id: str | None = None,
    agent_id: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; arrived at or after")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; arrived before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[InteractionOut]:
    """Finished calls, oldest first: answered, abandoned, timed out or rejected."""
    query = InteractionQuery(
        queue_id,
        agent_id,
        since.timestamp() if since else None,
        until.timestamp() if until else None,
        limit,
        offset,
    )
    return [InteractionOut.of(i) for i in await service.interactions(query)]
