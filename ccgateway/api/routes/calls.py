from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from ccgateway.api.auth import Permission
from ccgateway.api.deps import (
    Caller,
    CallManager,
    FloorViewer,
    Limit,
    Monitorer,
    Reader,
    Service,
    Work,
)
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import CallOut, CallPatch, DecisionOut, HealthOut, MonitorIn
from ccgateway.api.visibility import CALLER_FIELDS
from ccgateway.api.work_schemas import CallbackOut, CallbackRequestIn, TransferIn
from ccgateway.domain.commands import MonitorMode
from ccgateway.domain.errors import NotFound
from ccgateway.services.center_service import CenterService

router = APIRouter(prefix="/v1", tags=["live"], route_class=GuardedRoute)


@router.get("/calls")
async def live_calls(service: Service, caller: FloorViewer) -> list[CallOut]:
    """Calls in progress: waiting, ringing an agent, or connected. A wallboard sees them
    without the callers' numbers and names (it counts and times them, nothing more)."""
    calls = [CallOut.of(c) for c in service.calls()]
    if caller.can(Permission.READ):
        return calls
    hidden = dict.fromkeys(CALLER_FIELDS, "")  # what the stream leaves out for it too
    return [c.model_copy(update=hidden) for c in calls]


@router.get("/calls/{call_id}")
async def live_call(call_id: str, service: Service, caller: Caller) -> CallOut:
    """One call in progress: for readers, and for the agent it is offered to or with."""
    for call in service.calls():
        if call.call_id == call_id:
            caller.require_agent(call.agent_id or "")
            return CallOut.of(call)
    if not caller.can(Permission.READ) and caller.agent_id is None:
        raise Forbidden(f"the {caller.role.value} role may not read calls")
    raise NotFound(f"no live call {call_id!r}")


@router.patch("/calls/{call_id}")
async def change_call(call_id: str, body: CallPatch, service: Service, _: CallManager) -> CallOut:
    """Change a live call's priority (a waiting caller is re-ranked at once) and/or move a
    waiting caller to another queue (409 when that queue takes no caller now: closed,
    full, nobody logged in; the caller then stays where they are)."""
    return CallOut.of(await service.change_call(call_id, body.priority, body.queue_id))


@router.get("/decisions")
async def decisions(
    service: Service,
    _: Reader,
    call_id: Annotated[str | None, Query(max_length=150)] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    queue_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
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


@router.post("/calls/{call_id}/transfer")
async def transfer_call(
    call_id: str, body: TransferIn, service: Service, work: Work, caller: Caller
) -> CallOut | None:
    """Blind: the caller goes straight to the queue (keeping their place and priority), the
    agent (who must be free) or the number, and the agent's part ends. Attended: the caller
    holds while the agent talks to the target; finish with /complete, /cancel or /conference.
    For the call's own agent, a supervisor or an admin. Null: the call left the centre."""
    caller.require_agent(agent_of(service, call_id), change_state=True)
    view = await work.transfer(call_id, body.to_domain(), body.attended)
    return CallOut.of(view) if view else None


@router.post("/calls/{call_id}/transfer/{how}")
async def finish_transfer(
    call_id: str,
    how: Literal["complete", "cancel", "conference"],
    service: Service,
    work: Work,
    caller: Caller,
) -> CallOut | None:
    """complete: the caller goes to the consulted party; cancel: back to the agent;
    conference: all three talk (the caller leaving ends it for everybody)."""
    caller.require_agent(agent_of(service, call_id), change_state=True)
    view = await work.finish_transfer(call_id, how)
    return CallOut.of(view) if view else None


@router.post("/calls/{call_id}/callback", status_code=status.HTTP_201_CREATED)
async def request_callback(
    call_id: str, body: CallbackRequestIn, work: Work, _: CallManager
) -> CallbackOut:
    """The waiting caller is called back instead: they hear a confirmation and hang up, a
    callback keeps their place in line (as if they had pressed 1)."""
    return CallbackOut.of(await work.request_callback(call_id, body.number))


def agent_of(service: CenterService, call_id: str) -> str:
    for call in service.calls():
        if call.call_id == call_id:
            return call.agent_id or ""
    raise NotFound(f"no live call {call_id!r}")


@router.get("/health")
async def health(service: Service, _: Caller, request: Request, response: Response) -> HealthOut:
    pbxes = service.pbx_health()
    # A pair's controller (app.state.ha: its lease keeper's `role`) says whether it is active;
    # one that is no longer (riding out the database's absence, then fenced off its PBXs)
    # answers 503 as a standby does, so a load balancer sends it nothing.
    role: dict[str, object] = getattr(request.app.state, "ha", dict)()
    if role.get("role", "active") != "active":
        response.status_code = 503
    return HealthOut(
        pbx_ready=bool(pbxes) and all(pbxes.values()),
        pbxes=pbxes,
        database=service.database_available(),
        problems=service.pbx_problems(),
        passive=service.pbx_owners(),
        **role,
    )
