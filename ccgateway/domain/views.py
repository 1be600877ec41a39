"""Read models of the live centre, for the API: plain frozen values, computed on demand."""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Call, CallState, Center
from ccgateway.domain.events import DeviceState
from ccgateway.domain.model import Agent
from ccgateway.domain.recording import Recording

LOGGED_IN = frozenset(AgentState) - {AgentState.LOGGED_OUT}


@dataclass(frozen=True, slots=True)
class AgentView:
    agent: Agent
    state: AgentState
    reason: str | None
    since: float
    call_id: str | None
    calls_answered: int
    wrapup_until: float | None
    device_state: DeviceState
    pending: tuple[AgentState, str | None] | None = None
    occupancy: float = 0.0
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: str
    queue_id: str
    caller_number: str
    caller_name: str
    state: CallState
    agent_id: str | None
    arrived_at: float
    answered_at: float | None
    wait_s: float
    offers: int
    priority: int
    recording: Recording | None = None  # being recorded now (paused or not)


@dataclass(frozen=True, slots=True)
class QueueStatus:
    queue_id: str
    waiting: int
    longest_wait_s: float
    offering: int
    connected: int
    agents_qualified: int
    agents_logged_in: int
    agents_available: int
    occupancy: float | None  # mean of the logged-in qualified agents' occupancy today


def agent_view(center: Center, agent_id: str, now: float) -> AgentView:
    agent = center.directory.agent(agent_id)
    s = center.status[agent_id]
    device = center.devices.get((agent.pbx, agent.device), DeviceState.UNKNOWN)
    return AgentView(
        agent,
        s.state,
        s.reason,
        s.since,
        s.call_id,
        s.calls_answered,
        s.wrapup_until,
        device,
        s.pending,
        s.occupancy(now),
        tuple(sorted(s.tasks)),
    )


def call_view(call: Call, now: float, recording: Recording | None = None) -> CallView:
    waited_until = call.answered_at if call.answered_at is not None else now
    return CallView(
        call.id,
        call.queue_id,
        call.caller_number,
        call.caller_name,
        call.state,
        call.agent_id,
        call.arrived_at,
        call.answered_at,
        round(waited_until - call.arrived_at, 3),
        call.offers,
        call.priority,
        recording,
    )


def live_calls(center: Center, now: float) -> list[CallView]:
    recording = center.recorder.live.get
    views = (call_view(c, now, recording(c.id)) for c in center.calls.values())
    return sorted(views, key=lambda v: v.arrived_at)


def queue_status(center: Center, queue_id: str, now: float) -> QueueStatus:
    queue = center.directory.queue(queue_id)
    calls = [c for c in center.calls.values() if c.queue_id == queue_id]
    waiting = [c for c in calls if c.state is CallState.WAITING]
    qualified = [
        a.id
        for a in center.directory.agents.values()
        if a.pbx in queue.scope and queue.compiled.matches(a.skills, a.attributes)
    ]
    states = [center.status[a].state for a in qualified]
    shares = [
        center.status[a].occupancy(now) for a in qualified if center.status[a].state in LOGGED_IN
    ]
    return QueueStatus(
        queue_id=queue_id,
        waiting=len(waiting),
        longest_wait_s=round(max((now - c.arrived_at for c in waiting), default=0.0), 3),
        offering=sum(c.state is CallState.OFFERING for c in calls),
        connected=sum(c.state is CallState.CONNECTED for c in calls),
        agents_qualified=len(qualified),
        agents_logged_in=sum(s in LOGGED_IN for s in states),
        agents_available=sum(s is AgentState.AVAILABLE for s in states),
        occupancy=round(sum(shares) / len(shares), 4) if shares else None,
    )
