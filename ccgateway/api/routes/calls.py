from __future__ import annotations

from fastapi import APIRouter

from ccgateway.api.deps import Caller, Reader, Service
from ccgateway.api.schemas import CallOut, HealthOut

router = APIRouter(prefix="/v1", tags=["live"])


@router.get("/calls")
async def live_calls(service: Service, _: Reader) -> list[CallOut]:
    """Calls in progress: waiting, ringing an agent, or connected."""
    return [CallOut.of(c) for c in service.calls()]


@router.get("/health")
async def health(service: Service, _: Caller) -> HealthOut:
    pbxes = service.pbx_health()
    return HealthOut(pbx_ready=bool(pbxes) and all(pbxes.values()), pbxes=pbxes)
