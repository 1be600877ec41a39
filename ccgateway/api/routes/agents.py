from __future__ import annotations

import asyncio

from fastapi import APIRouter, status

from ccgateway.api.deps import Caller, Configurer, FloorViewer, Keys, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import AgentFiguresOut, AgentIn, AgentOut, AgentPatch, AgentStateIn
from ccgateway.domain.agents import AgentState
from ccgateway.ports import KeyStore

router = APIRouter(prefix="/v1/agents", tags=["agents"], route_class=GuardedRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_agent(body: AgentIn, service: Service, _: Configurer) -> AgentOut:
    return AgentOut.of(await service.create_agent(body.to_domain()))


@router.get("")
async def list_agents(service: Service, _: FloorViewer) -> list[AgentOut]:
    return [AgentOut.of(a) for a in service.agents()]


@router.get("/{agent_id}")
async def get_agent(agent_id: str, service: Service, caller: Caller) -> AgentOut:
    caller.require_agent(agent_id)
    return AgentOut.of(service.agent(agent_id))


@router.get("/{agent_id}/figures")
async def agent_figures(agent_id: str, service: Service, caller: Caller) -> AgentFiguresOut:
    """Today's (UTC): calls answered (inbound, transferred to them, callbacks), talk time,
    AHT, transfers made, tasks completed and their handling time; occupancy now."""
    caller.require_agent(agent_id)
    figures, occupancy = service.agent_figures(agent_id)
    return AgentFiguresOut.of(figures, occupancy)


@router.patch("/{agent_id}")
async def update_agent(
    agent_id: str, body: AgentPatch, service: Service, _: Configurer
) -> AgentOut:
    """Change the given fields; the result is checked as a whole."""
    return AgentOut.of(await service.change_agent(agent_id, body.changes()))


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent_id: str, service: Service, keys: Keys, _: Configurer) -> None:
    """The agent, its accounts and its API keys: none acts for a new agent of the same id."""
    await service.delete_agent(agent_id)
    await asyncio.to_thread(_delete_keys_of, keys, agent_id)


def _delete_keys_of(keys: KeyStore, agent_id: str) -> None:
    # The users table drops an agent's accounts by its foreign key; api_keys has none.
    for info in keys.list():
        if info.agent_id == agent_id:
            keys.delete(info.id)


@router.post("/{agent_id}/state")
async def set_agent_state(
    agent_id: str, body: AgentStateIn, service: Service, caller: Caller
) -> AgentOut:
    """Log in (available), pause with a reason (a pause code when the centre has them), or
    log out; with `after_call` the change waits until the agent's call and wrap-up are over."""
    caller.require_agent(agent_id, change_state=True)
    view = await service.set_agent_state(
        agent_id, AgentState(body.state), body.reason, body.after_call
    )
    return AgentOut.of(view)
