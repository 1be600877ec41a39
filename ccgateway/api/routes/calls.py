from __future__ import annotations

from fastapi import APIRouter, status

from ccgateway.api.deps import Caller, Monitorer, Reader, Service
from ccgateway.api.schemas import CallOut, HealthOut, MonitorIn
from ccgateway.domain.commands import MonitorMode

router = APIRouter(prefix="/v1", tags=["live"])


@router.get("/calls")
async def live_calls(service: Service, _: Reader) -> list[CallOut]:
    """Calls in progress: waiting, ringing an agent, or connected."""
    return [CallOut.of(c) for c in service.calls()]


@router.post("/calls/{call_id}/monitor", status_code=status.HTTP_202_ACCEPTED)
async def monitor_call(call_id: str, body: MonitorIn, service: Service, _: Monitorer) -> None:
    """Ring a supervisor's phone; on answer they listen to the agent's call, whisper to the
    agent (the customer does not hear it) or barge in. Accepted means the phone is ringing."""
    await service.monitor(call_id, body.supervisor_device, MonitorMode(body.mode))


@router.get("/health")
async def health(service: Service, _: Caller) -> HealthOut:
    pbxes = service.pbx_health()
    return HealthOut(pbx_ready=bool(pbxes) and all(pbxes.values()), pbxes=pbxes)
