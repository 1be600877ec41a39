"""The floor: what every part of the centre shares about agents right now.

Each agent's live status, their phones' device states, which PBX links are up, the routing
engine that knows who is free for what, the centre's timers and its recent decisions. The
calls, the callbacks and the non-voice tasks (center.py, callbacks.py, tasks.py) each keep
their own items and change agents only through `apply` and the task methods here, so the
engine is always told who is free on which channel.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ccgateway.domain.agents import VOICE, AgentPolicy, AgentState, AgentStatus, Trigger
from ccgateway.domain.commands import Command, Fact, Notify
from ccgateway.domain.directory import Directory
from ccgateway.domain.engine import Decision, RoutingEngine
from ccgateway.domain.errors import Conflict
from ccgateway.domain.events import DeviceState
from ccgateway.domain.timers import TimerKind, Timers


@dataclass(frozen=True, slots=True)
class AgentReleased(Fact):
    """An agent's talk and wrap-up of a call are over, after `busy_s` in all."""

    agent_id: str
    busy_s: float


# Device states in which a phone cannot take an offer: not registered, or already in use
# (a personal call, or a call the controller did not place).
BUSY_DEVICE = frozenset({DeviceState.UNAVAILABLE, DeviceState.IN_USE, DeviceState.RINGING})
LAST_AGENT_MEMORY = 200_000  # callers whose last agent is remembered; the oldest go first
REQUESTABLE = {
    AgentState.AVAILABLE: Trigger.MAKE_AVAILABLE,
    AgentState.PAUSED: Trigger.PAUSE,
    AgentState.LOGGED_OUT: Trigger.LOG_OUT,
}


# What a PBX may be asked to do beyond ringing agents and hanging up (its adapter says).
FEATURES = frozenset(
    {
        "transfer",
        "message",
        "voicemail",
        "consult",
        "conference",
        "callback",
        "announce",
        "outbound",
        "record",
    }
)


class Floor:
    def __init__(self, new_id: Callable[[], str], policy: AgentPolicy) -> None:
        self.new_id = new_id  # leg ids (unique across restarts; the shell chooses how)
        self.policy = policy
        self.directory = Directory()
        self.status: dict[str, AgentStatus] = {}
        self.devices: dict[tuple[str, str], DeviceState] = {}  # (PBX, device) -> state
        # PBXs whose picture we hold. No offers on a PBX until it has shown its picture after
        # a (re)connect: an offer made blind could not be rung.
        self.ready: set[str] = set()
        self.decisions: deque[Decision] = deque(maxlen=5000)
        # Set when an agent logs out or changes: queues may have lost their last agent.
        self.staffing_dropped = False
        self.features: dict[str, frozenset[str]] = {}  # per PBX; a PBX not named can do all
        # caller number -> (agent id, when their last answered call ended)
        self.last_agent: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self.timers = Timers()
        # Agents whose talk and wrap-up of a call are over, since the centre last took them
        # (Settling.hand_on): the dialer learns how long its agents stay busy.
        self.released: list[AgentReleased] = []
        self.engine = RoutingEngine(
            self.directory.agents,
            self.directory.queues,
            lambda agent_id: self.status[agent_id].idle_since,
            lambda agent_id, now: self.status[agent_id].occupancy(now),
        )

    def remember_last_agent(self, caller_number: str, agent_id: str, ended_at: float) -> None:
        """Who served a caller last, by call or callback (also fed from the records at
        start-up): last-agent routing."""
        if not caller_number:
            return
        self.last_agent[caller_number] = (agent_id, ended_at)
        self.last_agent.move_to_end(caller_number)
        while len(self.last_agent) > LAST_AGENT_MEMORY:
            self.last_agent.popitem(last=False)

    def can(self, pbx: str, feature: str) -> bool:
        return feature in self.features.get(pbx, FEATURES)

    def require(self, pbx: str, feature: str) -> None:
        if not self.can(pbx, feature):
            raise Conflict(f"the PBX {pbx} cannot do {feature}s (yet)")

    def apply(self, agent_id: str, trigger: Trigger, now: float, reason: str | None = None) -> None:
        """Every agent state change goes through here, so the engine always knows who is free.

        A change deferred "after this call" is applied when the agent's work on the call is
        over: instead of becoming available, or instead of a no-answer pause.
        """
        status = self.status[agent_id]
        engaged = status.engaged_at
        status.apply(trigger, now, reason)
        status.resume_at = None
        if engaged is not None and status.engaged_at is None:
            self.released.append(AgentReleased(agent_id, now - engaged))
        if status.pending is not None and status.state in (AgentState.AVAILABLE, AgentState.PAUSED):
            state, pending_reason = status.pending
            status.pending = None
            status.apply(REQUESTABLE[state], now, pending_reason)
        elif status.state is AgentState.LOGGED_OUT:
            status.pending = None
        if status.state is AgentState.LOGGED_OUT:
            self.staffing_dropped = True
        self.refresh(agent_id)

    def fire(self, kind: TimerKind, agent_id: str, now: float) -> list[Command]:
        """An agent's wrap-up ended or their timed pause is over."""
        status = self.status.get(agent_id)
        if kind is TimerKind.WRAPUP and status is not None and status.state is AgentState.WRAP_UP:
            self.apply(agent_id, Trigger.WRAPUP_DONE, now)
            return [self.agent_notice(agent_id)]
        if kind is TimerKind.RESUME and status is not None and status.state is AgentState.PAUSED:
            self.apply(agent_id, Trigger.MAKE_AVAILABLE, now)
            return [self.agent_notice(agent_id)]
        return []

    def capacity(self, agent_id: str) -> dict[str, int]:
        """Non-voice channels the agent works on, and how many items of each at once."""
        return {**self.policy.capacity, **self.directory.agents[agent_id].capacity}

    def refresh(self, agent_id: str) -> None:
        """Tell the engine on which channels the agent can be offered work right now."""
        agent = self.directory.agents[agent_id]
        status = self.status[agent_id]
        available = status.state is AgentState.AVAILABLE
        reachable = (
            agent.pbx in self.ready
            and self.devices.get((agent.pbx, agent.device)) not in BUSY_DEVICE
        )
        self.engine.set_free(agent_id, available and reachable and not status.tasks, VOICE)
        capacity = self.capacity(agent_id)
        for channel in self.engine.channels() | set(capacity):
            if channel != VOICE:
                most = capacity.get(channel, 0)
                self.engine.set_free(agent_id, available and status.load(channel) < most, channel)

    def refresh_pbx(self, pbx: str) -> None:
        for agent in self.directory.agents.values():
            if agent.pbx == pbx:
                self.refresh(agent.id)

    def take_task(self, agent_id: str, task_id: str, channel: str, now: float) -> None:
        self.status[agent_id].take_task(task_id, channel, now)
        self.refresh(agent_id)

    def drop_task(self, agent_id: str, task_id: str, now: float) -> None:
        status = self.status.get(agent_id)
        if status is not None:
            status.drop_task(task_id, now)
            self.refresh(agent_id)

    def decide(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def agent_notice(self, agent_id: str) -> Notify:
        status = self.status[agent_id]
        return Notify(
            "agent.state",
            {
                "agent_id": agent_id,
                "state": status.state.value,
                "reason": status.reason,
                "call_id": status.call_id,
                "tasks": sorted(status.tasks),
                "wrapup_until": status.wrapup_until,
            },
        )
