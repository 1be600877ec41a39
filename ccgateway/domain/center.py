"""The live centre: folds PBX events and agent requests into state, returns commands.

One instance is owned by one dispatcher task (services/dispatcher.py), so nothing here locks.
Every public method takes `now` and returns the commands the shell must carry out, in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.agents import AgentState, AgentStatus, Trigger
from ccgateway.domain.commands import (
    Command,
    HangUp,
    Interaction,
    Monitor,
    MonitorMode,
    Notify,
    Outcome,
    RecordInteraction,
    RingAgent,
    SendToFallback,
)
from ccgateway.domain.directory import Directory
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    CallerChannel,
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    HoldTimedOut,
    LegFailure,
    MachineDetected,
    PbxConnectionLost,
    PbxEvent,
    PbxResynced,
)
from ccgateway.domain.model import DEFAULT_PBX, DEVICE_PATTERN, Agent, Queue, Skill
from ccgateway.domain.routing import Decision, choose_agent

# How long past the PBX's own ring timeout we wait for its verdict before giving up on a leg.
RING_GRACE_S = 5.0
REQUESTABLE = {
    AgentState.AVAILABLE: Trigger.MAKE_AVAILABLE,
    AgentState.PAUSED: Trigger.PAUSE,
    AgentState.LOGGED_OUT: Trigger.LOG_OUT,
}
# Q.850 causes an unanswered leg can end with, mapped to why the offer failed.
LEG_CAUSES = {
    1: LegFailure.UNREACHABLE,  # unallocated number
    3: LegFailure.UNREACHABLE,  # no route
    17: LegFailure.BUSY,
    18: LegFailure.NO_ANSWER,  # no user responding
    19: LegFailure.NO_ANSWER,  # alerting, no answer
    20: LegFailure.UNREACHABLE,  # subscriber absent (not registered)
    21: LegFailure.REJECTED,
    27: LegFailure.UNREACHABLE,  # destination out of order
    41: LegFailure.UNREACHABLE,  # temporary failure (a phone that does not respond)
}


class CallState(StrEnum):
    WAITING = "waiting"
    OFFERING = "offering"
    CONNECTED = "connected"


@dataclass(slots=True)
class Call:
    id: str
    queue_id: str
    caller_number: str
    caller_name: str
    arrived_at: float
    state: CallState = CallState.WAITING
    agent_id: str | None = None
    leg_id: str | None = None
    answered_at: float | None = None
    offers: int = 0
    offer_deadline: float | None = None
    pbx: str = DEFAULT_PBX


class Center:
    def __init__(self, new_leg_id: Callable[[], str]) -> None:
        self.directory = Directory()
        self.status: dict[str, AgentStatus] = {}
        self.calls: dict[str, Call] = {}
        self.waiting: list[str] = []  # call ids in the order they will be served
        self.legs: dict[str, str] = {}  # agent leg id -> call id
        self.devices: dict[str, DeviceState] = {}
        self.decisions: deque[Decision] = deque(maxlen=1000)
        self._new_leg_id = new_leg_id
        # PBXs whose picture we hold. No offers on a PBX until it has shown its picture after
        # a (re)connect: an offer made blind could not be rung.
        self.ready: set[str] = set()

    @property
    def pbx_ready(self) -> bool:
        return bool(self.ready)

    # --- configuration (the store has already saved it) -------------------------------

    def put_skill(self, skill: Skill) -> None:
        self.directory.check_skill(skill)
        self.directory.skills[skill.id] = skill

    def remove_skill(self, skill_id: str) -> None:
        self.directory.check_skill_removable(skill_id)
        del self.directory.skills[skill_id]

    def put_agent(self, agent: Agent, now: float) -> list[Command]:
        self.directory.check_agent(agent)
        self.directory.agents[agent.id] = agent
        self.status.setdefault(agent.id, AgentStatus(since=now, idle_since=now))
        return self._route(now)

    def remove_agent(self, agent_id: str) -> None:
        self.directory.agent(agent_id)
        if self.status[agent_id].call_id is not None:
            raise Conflict(f"agent {agent_id} has a call; remove the agent after it ends")
        del self.directory.agents[agent_id]
        del self.status[agent_id]

    def put_queue(self, queue: Queue, now: float) -> list[Command]:
        self.directory.check_queue(queue)
        self.directory.queues[queue.id] = queue
        return self._route(now)

    def remove_queue(self, queue_id: str) -> None:
        self.directory.queue(queue_id)
        if any(call.queue_id == queue_id for call in self.calls.values()):
            raise Conflict(f"queue {queue_id} has live calls; remove it when they have ended")
        del self.directory.queues[queue_id]

    def restore_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, now: float
    ) -> None:
        """Put back an agent's presence saved before a restart; calls come from the PBX."""
        status = self.status[agent_id]
        if state in REQUESTABLE:
            status.apply(REQUESTABLE[state], now, reason)

    # --- agent requests ----------------------------------------------------------------

    def set_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, now: float
    ) -> list[Command]:
        self.directory.agent(agent_id)
        if state not in REQUESTABLE:
            raise InvalidValue(
                f"state must be one of {', '.join(s.value for s in REQUESTABLE)}, not {state.value}"
            )
        status = self.status[agent_id]
        status.apply(REQUESTABLE[state], now, reason)
        return [self._agent_notice(agent_id), *self._route(now)]

    def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> list[Command]:
        """A supervisor listens to, whispers to or barges into a connected call."""
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound(f"no live call {call_id!r}")
        if call.state is not CallState.CONNECTED or call.leg_id is None:
            raise Conflict(
                f"call {call_id} is {call.state.value}: only a connected call can be monitored"
            )
        if not DEVICE_PATTERN.fullmatch(supervisor_device):
            raise InvalidValue(f"device {supervisor_device!r} must look like 'PJSIP/sup1'")
        return [Monitor(call.leg_id, supervisor_device, mode, call.pbx)]

    # --- PBX events --------------------------------------------------------------------

    def handle(self, event: PbxEvent, now: float, pbx: str = DEFAULT_PBX) -> list[Command]:
        """Fold one event from the PBX named `pbx` into the centre."""
        match event:
            case CallWaiting():
                out = self._call_waiting(event, now, pbx)
            case AgentLegAnswered(leg_id=leg_id):
                out = self._leg_answered(leg_id, now, pbx)
            case AgentLegFailed(leg_id=leg_id, failure=failure):
                out = self._leg_failed(leg_id, failure, now)
            case ChannelHungUp(channel_id=channel_id, cause=cause):
                out = self._hung_up(channel_id, cause, now)
            case HoldTimedOut(call_id=call_id):
                call = self.calls.get(call_id)
                out = self._end_call(call, Outcome.TIMED_OUT, now) if call else []
            case MachineDetected():
                out = []  # outbound dialing acts on it; an inbound call has nothing to do
            case DeviceStateChanged(device=device, state=state):
                self.devices[device] = state
                out = []
            case PbxResynced():
                self.ready.add(pbx)
                out = self._resync(event, now, pbx)
            case PbxConnectionLost():
                self.ready.discard(pbx)
                out = []  # the PBX keeps the calls; the resync after reconnect settles them
        return out + self._route(now)

    def tick(self, now: float) -> list[Command]:
        """Fire what is due: ended wrap-ups and offers the PBX never answered for."""
        out: list[Command] = []
        for agent_id, status in self.status.items():
            if status.state is AgentState.WRAP_UP and (status.wrapup_until or 0.0) <= now:
                status.apply(Trigger.WRAPUP_DONE, now)
                out.append(self._agent_notice(agent_id))
        for call in list(self.calls.values()):
            if call.state is CallState.OFFERING and (call.offer_deadline or 0.0) <= now:
                assert call.leg_id is not None
                leg_id = call.leg_id
                out.append(HangUp(leg_id, "no answer within the ring timeout", call.pbx))
                out += self._leg_failed(leg_id, LegFailure.NO_ANSWER, now)
        return out + self._route(now)

    def next_deadline(self) -> float | None:
        times = [
            s.wrapup_until
            for s in self.status.values()
            if s.state is AgentState.WRAP_UP and s.wrapup_until is not None
        ]
        times += [
            c.offer_deadline
            for c in self.calls.values()
            if c.state is CallState.OFFERING and c.offer_deadline is not None
        ]
        return min(times, default=None)

    # --- the steps -----------------------------------------------------------------------

    def _call_waiting(
        self, event: CallWaiting, now: float, pbx: str, age_s: float = 0.0
    ) -> list[Command]:
        if event.call_id in self.calls:
            return []  # a repeat (a resync raced the event): the call is already here
        queue = self.directory.queue_for_extension(event.extension, pbx)
        if queue is None:
            reason = f"no queue has extension {event.extension}"
            record = Interaction(
                event.call_id,
                None,
                None,
                event.caller_number,
                Outcome.REJECTED,
                now - age_s,
                None,
                now,
                age_s,
                0.0,
                0,
            )
            return [SendToFallback(event.call_id, reason, pbx), RecordInteraction(record)]
        call = Call(
            event.call_id, queue.id, event.caller_number, event.caller_name, now - age_s, pbx=pbx
        )
        self.calls[call.id] = call
        self.waiting.append(call.id)
        return [self._call_notice(call)]

    def _leg_answered(self, leg_id: str, now: float, pbx: str) -> list[Command]:
        call = self._call_for_leg(leg_id)
        if call is None:
            return [HangUp(leg_id, "answered a call that is no longer waiting", pbx)]
        if call.state is not CallState.OFFERING:
            return []
        assert call.agent_id is not None
        call.state = CallState.CONNECTED
        call.answered_at = now
        call.offer_deadline = None
        status = self.status[call.agent_id]
        status.apply(Trigger.ANSWER, now)
        status.calls_answered += 1
        return [self._agent_notice(call.agent_id), self._call_notice(call)]

    def _leg_failed(
        self, leg_id: str, failure: LegFailure, now: float, blame_agent: bool = True
    ) -> list[Command]:
        call = self._call_for_leg(leg_id)
        self.legs.pop(leg_id, None)
        if call is None or call.state is not CallState.OFFERING:
            return []
        assert call.agent_id is not None
        agent_id = call.agent_id
        if blame_agent and failure is not LegFailure.NOT_SENT:
            self.status[agent_id].apply(Trigger.NO_ANSWER, now, f"not ready: {failure.value}")
        else:
            self.status[agent_id].apply(Trigger.WITHDRAW, now)
        call.state, call.agent_id, call.leg_id, call.offer_deadline = (
            CallState.WAITING,
            None,
            None,
            None,
        )
        self.waiting.insert(0, call.id)  # back to the head of its queue
        return [self._agent_notice(agent_id), self._call_notice(call)]

    def _hung_up(self, channel_id: str, cause: int, now: float) -> list[Command]:
        call = self.calls.get(channel_id)
        if call is not None:
            outcome = Outcome.ANSWERED if call.state is CallState.CONNECTED else Outcome.ABANDONED
            return self._end_call(call, outcome, now)
        call = self._call_for_leg(channel_id)
        if call is None:
            return []
        if call.state is CallState.OFFERING:
            failure = LEG_CAUSES.get(cause, LegFailure.ERROR)
            return self._leg_failed(channel_id, failure, now)
        # The agent hung up a connected call: the dialplan ends the caller too; make sure.
        return [
            *self._end_call(call, Outcome.ANSWERED, now),
            HangUp(call.id, "agent hung up", call.pbx),
        ]

    def _end_call(self, call: Call, outcome: Outcome, now: float) -> list[Command]:
        out: list[Command] = []
        del self.calls[call.id]
        if call.id in self.waiting:
            self.waiting.remove(call.id)
        if call.leg_id is not None:
            self.legs.pop(call.leg_id, None)
        if call.agent_id is not None:
            status = self.status[call.agent_id]
            if call.state is CallState.OFFERING:
                assert call.leg_id is not None
                out.append(
                    HangUp(call.leg_id, "the caller left before the agent answered", call.pbx)
                )
                status.apply(Trigger.WITHDRAW, now)
            else:
                status.apply(Trigger.HANG_UP, now)
                queue = self.directory.queues.get(call.queue_id)
                status.wrapup_until = now + (queue.wrapup_s if queue else 0.0)
            out.append(self._agent_notice(call.agent_id))
        answered = call.answered_at
        record = Interaction(
            call_id=call.id,
            queue_id=call.queue_id,
            agent_id=call.agent_id if answered else None,
            caller_number=call.caller_number,
            outcome=outcome,
            arrived_at=call.arrived_at,
            answered_at=answered,
            ended_at=now,
            wait_s=round((answered if answered is not None else now) - call.arrived_at, 3),
            talk_s=round(now - answered, 3) if answered is not None else 0.0,
            offers=call.offers,
        )
        out.append(RecordInteraction(record))
        out.append(Notify("call.ended", {"call_id": call.id, "outcome": outcome.value}))
        return out

    def _route(self, now: float) -> list[Command]:
        """Offer waiting calls, in service order, to the best free qualified agent."""
        out: list[Command] = []
        reachable = {d: s is not DeviceState.UNAVAILABLE for d, s in self.devices.items()}
        for call_id in list(self.waiting):
            call = self.calls[call_id]
            queue = self.directory.queues.get(call.queue_id)
            if queue is None or call.pbx not in self.ready:
                continue
            # A PBX bridges only its own channels: only agents on the call's PBX can take it.
            candidates = (
                (agent, s)
                for a, s in self.status.items()
                if (agent := self.directory.agents[a]).pbx == call.pbx
            )
            decision = choose_agent(call.id, queue.requires, candidates, reachable)
            if decision is not None:
                out += self._offer(call, queue, decision, now)
        return out

    def _offer(self, call: Call, queue: Queue, decision: Decision, now: float) -> list[Command]:
        agent = self.directory.agents[decision.agent_id]
        status = self.status[agent.id]
        status.apply(Trigger.OFFER, now)
        status.call_id = call.id
        leg_id = self._new_leg_id()
        self.legs[leg_id] = call.id
        self.waiting.remove(call.id)
        call.state, call.agent_id, call.leg_id = CallState.OFFERING, agent.id, leg_id
        call.offers += 1
        call.offer_deadline = now + queue.ring_timeout_s + RING_GRACE_S
        self.decisions.append(decision)
        ring = RingAgent(
            leg_id,
            call.id,
            agent.id,
            agent.device,
            queue.ring_timeout_s,
            call.caller_number,
            call.caller_name,
            call.pbx,
        )
        return [ring, self._agent_notice(agent.id), self._call_notice(call)]

    def _resync(self, snapshot: PbxResynced, now: float, pbx: str) -> list[Command]:
        """Make the centre agree with the PBX after a (re)connect or a controller restart.

        Only that PBX's calls are touched: another PBX's calls are not in its picture.
        """
        out: list[Command] = []
        for device in snapshot.devices:
            self.devices[device.device] = device.state
        present = {c.call_id: c for c in snapshot.callers}
        pbx_legs = {leg.leg_id: leg for leg in snapshot.agent_legs}
        for call in [c for c in self.calls.values() if c.pbx == pbx]:
            if call.id not in present:  # ended while nobody was listening
                outcome = (
                    Outcome.ANSWERED if call.state is CallState.CONNECTED else Outcome.ABANDONED
                )
                out += self._end_call(call, outcome, now)
            elif call.leg_id is not None and call.leg_id not in pbx_legs:
                if call.state is CallState.OFFERING:
                    out += self._leg_failed(call.leg_id, LegFailure.ERROR, now, blame_agent=False)
                else:  # the agent is gone but the caller is still here: serve them again
                    out += self._end_call(call, Outcome.ANSWERED, now)
                    out += self._call_waiting(self._as_waiting(present[call.id]), now, pbx)
        for leg in snapshot.agent_legs:
            out += self._resync_leg(leg, present, now, pbx)
        bridged = {leg.caller_id for leg in snapshot.agent_legs if leg.answered}
        for caller in sorted(snapshot.callers, key=lambda c: -c.age_s):
            if caller.call_id not in self.calls and caller.call_id not in bridged:
                out += self._call_waiting(self._as_waiting(caller), now, pbx, caller.age_s)
        self.waiting.sort(key=lambda cid: self.calls[cid].arrived_at)
        return out

    def _resync_leg(
        self, leg: AgentChannel, present: dict[str, CallerChannel], now: float, pbx: str
    ) -> list[Command]:
        call = self._call_for_leg(leg.leg_id)
        if call is not None:
            return self._leg_answered(leg.leg_id, now, pbx) if leg.answered else []
        caller = present.get(leg.caller_id)
        known = self.calls.get(leg.caller_id)
        stray = known is not None and known.state is not CallState.WAITING
        if not leg.answered or caller is None or stray:
            return [HangUp(leg.leg_id, "agent leg unknown to the controller", pbx)]
        # A conversation the controller did not see start (it restarted, or the answer was
        # lost with the connection): adopt it. Hanging the leg up would hang up the caller.
        if known is not None:
            self.waiting.remove(known.id)
            del self.calls[known.id]
        agent = self.directory.agent_for_device(leg.device)
        queue = self.directory.queue_for_extension(caller.extension, pbx)
        call = Call(
            caller.call_id,
            queue.id if queue else "",
            caller.caller_number,
            caller.caller_name,
            known.arrived_at if known else now - caller.age_s,
            CallState.CONNECTED,
            agent.id if agent else None,
            leg.leg_id,
            now - leg.age_s,
            1,
            pbx=pbx,
        )
        self.calls[call.id] = call
        self.legs[leg.leg_id] = call.id
        if agent is None:
            return [self._call_notice(call)]
        status = self.status[agent.id]
        status.apply(Trigger.ADOPT_CALL, now)
        status.call_id = call.id
        return [self._agent_notice(agent.id), self._call_notice(call)]

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _as_waiting(caller: CallerChannel) -> CallWaiting:
        return CallWaiting(
            caller.call_id, caller.extension, caller.caller_number, caller.caller_name
        )

    def _call_for_leg(self, leg_id: str) -> Call | None:
        call_id = self.legs.get(leg_id)
        call = self.calls.get(call_id) if call_id is not None else None
        return call if call is not None and call.leg_id == leg_id else None

    def _agent_notice(self, agent_id: str) -> Notify:
        status = self.status[agent_id]
        return Notify(
            "agent.state",
            {
                "agent_id": agent_id,
                "state": status.state.value,
                "reason": status.reason,
                "call_id": status.call_id,
            },
        )

    @staticmethod
    def _call_notice(call: Call) -> Notify:
        return Notify(
            "call.state",
            {
                "call_id": call.id,
                "queue_id": call.queue_id,
                "state": call.state.value,
                "agent_id": call.agent_id,
            },
        )
