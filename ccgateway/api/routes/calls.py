from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ccgateway.api.deps import Caller, CallManager, Monitorer, Reader, Service
from ccgateway.api.schemas import CallOut, CallPatch, DecisionOut, HealthOut, MonitorIn
from ccgateway.domain.commands import MonitorMode

router = APIRouter(prefix="/v1", tags=["live"])


@router.get("/calls")
async def live_calls(service: Service, _: Reader) -> list[CallOut]:
    """Calls in progress: waiting, ringing an agent, or connected."""
    return [CallOut.of(c) for c in service.calls()]


@router.patch("/calls/{call_id}")
async def change_call(call_id: str, body: CallPatch, service: Service, _: CallManager) -> CallOut:
    """Change a live call's priority; a waiting caller is re-ranked at once."""
    return CallOut.of(await service.set_call_priority(call_id, body.priority))


@router.get("/decisions")
async def decisions(
    service: Service,
    _: Reader,
    call_id: Annotated[str | None, Query(max_length=150)] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    queue_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DecisionOut]:
    """Why each call went where it went: offers (which call, which agent, by which rule and
    strategy), relaxation steps and overflows; newest first, the last 5000 kept."""
    found = service.decisions(call_id, agent_id, queue_id, limit)
    return [DecisionOut.of(d) for d in found]


@router.post("/calls/{call_id}/monitor", status_code=status.HTTP_202_ACCEPTED)
async def monitor_call(call_id: str, body: MonitorIn, service: Service, _: Monitorer) -> None:
    """Ring a supervisor's phone; on answer they listen to the agent's call, whisper to the
    agent (the customer does not hear it) or barge in. Accepted means the phone is ringing."""
    await service.monitor(call_id, body.supervisor_device, MonitorMode(body.mode))


@router.get("/health")
async def health(service: Service, _: Caller) -> HealthOut:
    pbxes = service.pbx_health()
    return HealthOut(pbx_ready=bool(pbxes) and all(pbxes.values()), pbxes=pbxes)
