"""The live centre: folds PBX events and agent requests into state, returns commands.

One instance is owned by one dispatcher task (services/dispatcher.py), so nothing here locks.
Every public method takes `now` and returns the commands the shell must carry out, in order.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.agents import AgentPolicy, AgentState, AgentStatus, Trigger
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
from ccgateway.domain.engine import Decision, Match, RoutingEngine
from ccgateway.domain.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    CallerChannel,
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    Feature,
    FeatureCodeDialled,
    HoldTimedOut,
    LegFailure,
    MachineDetected,
    PbxConnectionLost,
    PbxEvent,
    PbxResynced,
)
from ccgateway.domain.model import DEFAULT_PBX, DEVICE_PATTERN, Agent, Queue, Skill, check_priority

# How long past the PBX's own ring timeout we wait for its verdict before giving up on a leg.
RING_GRACE_S = 5.0
# Callers whose last agent is remembered (the oldest are forgotten first).
LAST_AGENT_MEMORY = 200_000
# Device states in which a phone cannot take an offer: not registered, or already in use
# (a personal call, or a call the controller did not place).
BUSY_DEVICE = frozenset({DeviceState.UNAVAILABLE, DeviceState.IN_USE, DeviceState.RINGING})
REQUESTABLE = {
    AgentState.AVAILABLE: Trigger.MAKE_AVAILABLE,
    AgentState.PAUSED: Trigger.PAUSE,
    AgentState.LOGGED_OUT: Trigger.LOG_OUT,
}
FEATURES = {
    Feature.AVAILABLE: (AgentState.AVAILABLE, False),
    Feature.PAUSE: (AgentState.PAUSED, False),
    Feature.LOGOUT: (AgentState.LOGGED_OUT, False),
    Feature.PAUSE_AFTER_CALL: (AgentState.PAUSED, True),
    Feature.LOGOUT_AFTER_CALL: (AgentState.LOGGED_OUT, True),
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
    priority: int = 0
    queued_at: float = 0.0  # when it entered its current queue (after an overflow: later)


class Center:
    def __init__(self, new_leg_id: Callable[[], str], policy: AgentPolicy | None = None) -> None:
        self.policy = policy or AgentPolicy()
        self.directory = Directory()
        self.status: dict[str, AgentStatus] = {}
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, str] = {}  # agent leg id -> call id
        self.devices: dict[str, DeviceState] = {}
        self.decisions: deque[Decision] = deque(maxlen=5000)
        self.engine = RoutingEngine(
            self.directory.agents,
            self.directory.queues,
            lambda agent_id: self.status[agent_id].idle_since,
            lambda agent_id, now: self.status[agent_id].occupancy(now),
        )
        # caller number -> (agent id, when their last answered call ended): last-agent routing
        self.last_agent: OrderedDict[str, tuple[str, float]] = OrderedDict()
        # (when, kind, id): wrap-ups ending and offers timing out, checked lazily.
        self._timers: list[tuple[float, str, str]] = []
        self._new_leg_id = new_leg_id
        # PBXs whose picture we hold. No offers on a PBX until it has shown its picture after
        # a (re)connect: an offer made blind could not be rung.
        self.ready: set[str] = set()

    @property
    def waiting(self) -> list[str]:
        """Waiting call ids, higher priority first, then earlier arrival (one queue's order)."""
        calls = [self.calls[w.call_id] for w in self.engine.waiting_calls()]
        return [c.id for c in sorted(calls, key=lambda c: (-c.priority, c.arrived_at, c.id))]

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
        self.status.setdefault(agent.id, AgentStatus(since=now, idle_since=now, counted_at=now))
        self.engine.agent_changed(agent.id)
        self._refresh(agent.id)
        return self._route(now)

    def remove_agent(self, agent_id: str) -> None:
        self.directory.agent(agent_id)
        if self.status[agent_id].call_id is not None:
            raise Conflict(f"agent {agent_id} has a call; remove the agent after it ends")
        self.engine.agent_removed(agent_id)
        del self.directory.agents[agent_id]
        del self.status[agent_id]

    def put_queue(self, queue: Queue, now: float, *, loading: bool = False) -> list[Command]:
        """Add or change a queue; `loading` skips the check that overflow targets exist
        (queues are loaded one by one, so a target may come later)."""
        self.directory.check_queue(queue, check_targets=not loading)
        self.directory.queues[queue.id] = queue
        self.engine.queue_changed(queue.id)
        return self._route(now)

    def remove_queue(self, queue_id: str) -> None:
        self.directory.check_queue_removable(queue_id)
        if any(call.queue_id == queue_id for call in self.calls.values()):
            raise Conflict(f"queue {queue_id} has live calls; remove it when they have ended")
        del self.directory.queues[queue_id]
        self.engine.queue_changed(queue_id)

    def restore_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, now: float
    ) -> None:
        """Put back an agent's presence saved before a restart; calls come from the PBX."""
        if state in REQUESTABLE:
            self._apply(agent_id, REQUESTABLE[state], now, reason)

    # --- agent requests ----------------------------------------------------------------

    def set_agent_state(
        self,
        agent_id: str,
        state: AgentState,
        reason: str | None,
        now: float,
        after_call: bool = False,
    ) -> list[Command]:
        """An agent's (or a supervisor's) request. `after_call` defers it while the agent
        has a call: it applies when the call and its wrap-up are over, instead of the
        agent becoming available."""
        self.directory.agent(agent_id)
        if state not in REQUESTABLE:
            raise InvalidValue(
                f"state must be one of {', '.join(s.value for s in REQUESTABLE)}, not {state.value}"
            )
        if state is AgentState.PAUSED:
            self.policy.check_pause_reason(reason)
        status = self.status[agent_id]
        if after_call and status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            status.pending = (state, reason)
            return [self._agent_notice(agent_id)]
        status.pending = None
        self._apply(agent_id, REQUESTABLE[state], now, reason)
        return [self._agent_notice(agent_id), *self._route(now)]

    def set_call_priority(self, call_id: str, priority: int, now: float) -> list[Command]:
        """Raise or lower a waiting caller's priority (an integrator's VIP, a retention case)."""
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound(f"no live call {call_id!r}")
        call.priority = check_priority(priority)
        if self.engine.waiting(call_id) is not None:
            self.engine.set_priority(call_id, call.priority)
        return [self._call_notice(call), *self._route(now)]

    def reset_day(self, now: float) -> None:
        """A new day: every agent's occupancy counts from zero."""
        for status in self.status.values():
            status.count(now)
            status.reset_counters(now)

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
                agent = self.directory.agent_for_device(device)
                if agent is not None:
                    self._refresh(agent.id)
                out = []
            case PbxResynced():
                self.ready.add(pbx)
                out = self._resync(event, now, pbx)
                self._refresh_pbx(pbx)
            case FeatureCodeDialled():
                out = self._feature_code(event, now)
            case PbxConnectionLost():
                self.ready.discard(pbx)
                self._refresh_pbx(pbx)
                out = []  # the PBX keeps the calls; the resync after reconnect settles them
        return out + self._route(now)

    def tick(self, now: float) -> list[Command]:
        """Fire what is due: ended wrap-ups, offers the PBX never answered for, and
        relaxation steps of waiting callers."""
        out: list[Command] = []
        while (when := self._next_timer()) is not None and when <= now:
            _, kind, key = heapq.heappop(self._timers)
            if kind == "wrapup":
                self._apply(key, Trigger.WRAPUP_DONE, now)
                out.append(self._agent_notice(key))
            elif kind == "resume":
                self._apply(key, Trigger.MAKE_AVAILABLE, now)
                out.append(self._agent_notice(key))
            else:
                leg_id = self.calls[key].leg_id
                assert leg_id is not None
                out.append(HangUp(leg_id, "no answer within the ring timeout", self.calls[key].pbx))
                out += self._leg_failed(leg_id, LegFailure.NO_ANSWER, now)
        for decision in self.engine.advance(now):
            self.decisions.append(decision)
            call = self.calls[decision.call_id]
            if decision.kind == "overflow":
                call.queue_id, call.queued_at = decision.queue_id, now
            out.append(self._call_notice(call))
        return out + self._route(now)

    def next_deadline(self) -> float | None:
        times = [t for t in (self._next_timer(), self.engine.next_due()) if t is not None]
        return min(times, default=None)

    def _next_timer(self) -> float | None:
        """The earliest timer still in force; stale ones (the wrap-up was cut short, the
        offer was answered) are dropped on the way."""
        while self._timers:
            when, kind, key = self._timers[0]
            if kind == "wrapup":
                status = self.status.get(key)
                live = status is not None and status.state is AgentState.WRAP_UP
                live = live and status is not None and status.wrapup_until == when
            elif kind == "resume":
                status = self.status.get(key)
                live = status is not None and status.state is AgentState.PAUSED
                live = live and status is not None and status.resume_at == when
            else:
                call = self.calls.get(key)
                live = call is not None and call.state is CallState.OFFERING
                live = live and call is not None and call.offer_deadline == when
            if live:
                return when
            heapq.heappop(self._timers)
        return None

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
        priority = queue.priority if event.priority is None else event.priority
        call = Call(
            event.call_id,
            queue.id,
            event.caller_number,
            event.caller_name,
            now - age_s,
            pbx=pbx,
            priority=priority,
            queued_at=now - age_s,
        )
        self.calls[call.id] = call
        call.state = CallState.WAITING
        keep_for = self._last_agent_for(call, queue, now)
        self.engine.add_call(
            call.id, call.queue_id, call.priority, call.arrived_at, call.queued_at, keep_for
        )
        return [self._call_notice(call)]

    def _last_agent_for(self, call: Call, queue: Queue, now: float) -> tuple[str, float] | None:
        """Whom to keep a returning caller for, and until when, if anyone."""
        last = self.last_agent.get(call.caller_number) if queue.last_agent_wait_s else None
        if last is None or not call.caller_number or last[1] < now - queue.last_agent_within_s:
            return None
        agent = self.directory.agents.get(last[0])
        if agent is None or agent.pbx != call.pbx:
            return None
        working = self.status[agent.id].state not in (AgentState.LOGGED_OUT, AgentState.PAUSED)
        if not working or not queue.compiled.matches(agent.skills, agent.attributes):
            return None
        return agent.id, now + queue.last_agent_wait_s

    def remember_last_agent(self, caller_number: str, agent_id: str, ended_at: float) -> None:
        """Who served a caller last (also fed from the records at start-up)."""
        if not caller_number:
            return
        self.last_agent[caller_number] = (agent_id, ended_at)
        self.last_agent.move_to_end(caller_number)
        while len(self.last_agent) > LAST_AGENT_MEMORY:
            self.last_agent.popitem(last=False)

    def _feature_code(self, event: FeatureCodeDialled, now: float) -> list[Command]:
        """An agent's request from their phone; a refused one is told on the event stream."""
        agent = self.directory.agent_for_device(event.device)
        if agent is None:
            return [Notify("agent.feature_refused", {"device": event.device, "why": "no agent"})]
        state, after_call = FEATURES[event.feature]
        try:
            reason = None
            if state is AgentState.PAUSED and event.code is not None:
                reason = self.policy.pause_code(event.code)
            elif state is AgentState.PAUSED and self.policy.pause_codes:
                reason = self.policy.pause_codes[0]
            return self.set_agent_state(agent.id, state, reason, now, after_call)
        except (InvalidValue, InvalidTransition) as exc:
            why: dict[str, object] = {
                "agent_id": agent.id,
                "feature": event.feature.value,
                "why": str(exc),
            }
            return [Notify("agent.feature_refused", why)]

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
        self._apply(call.agent_id, Trigger.ANSWER, now)
        self.status[call.agent_id].calls_answered += 1
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
            reason = f"{self.policy.no_answer_reason}: {failure.value}"
            self._apply(agent_id, Trigger.NO_ANSWER, now, reason)
            status = self.status[agent_id]
            resume_s = self.policy.no_answer_resume_s
            if resume_s is not None and status.reason == reason:  # not a deferred pause
                status.resume_at = now + resume_s
                heapq.heappush(self._timers, (status.resume_at, "resume", agent_id))
        else:
            self._apply(agent_id, Trigger.WITHDRAW, now)
        call.state, call.agent_id, call.leg_id, call.offer_deadline = (
            CallState.WAITING,
            None,
            None,
            None,
        )
        self._enqueue(call)  # its arrival time keeps its place at the head
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
        self.engine.remove_call(call.id)
        if call.leg_id is not None:
            self.legs.pop(call.leg_id, None)
        if call.agent_id is not None:
            status = self.status[call.agent_id]
            if call.state is CallState.OFFERING:
                assert call.leg_id is not None
                out.append(
                    HangUp(call.leg_id, "the caller left before the agent answered", call.pbx)
                )
                self._apply(call.agent_id, Trigger.WITHDRAW, now)
            else:
                queue = self.directory.queues.get(call.queue_id)
                self._apply(call.agent_id, Trigger.HANG_UP, now)
                status.wrapup_until = now + (queue.wrapup_s if queue else 0.0)
                heapq.heappush(self._timers, (status.wrapup_until, "wrapup", call.agent_id))
            out.append(self._agent_notice(call.agent_id))
        answered = call.answered_at
        if answered is not None and call.agent_id is not None:
            self.remember_last_agent(call.caller_number, call.agent_id, now)
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
        """Offer waiting calls to free agents until no waiting call has a free qualified agent."""
        out: list[Command] = []
        while (match := self.engine.next_match(now)) is not None:
            out += self._offer(match, now)
        return out

    def _offer(self, match: Match, now: float) -> list[Command]:
        call = self.calls[match.call_id]
        agent = self.directory.agents[match.agent_id]
        queue = self.directory.queues[call.queue_id]
        self.engine.remove_call(call.id)
        self._apply(agent.id, Trigger.OFFER, now)
        self.status[agent.id].call_id = call.id
        leg_id = self._new_leg_id()
        self.legs[leg_id] = call.id
        call.state, call.agent_id, call.leg_id = CallState.OFFERING, agent.id, leg_id
        call.offers += 1
        call.offer_deadline = now + queue.ring_timeout_s + RING_GRACE_S
        heapq.heappush(self._timers, (call.offer_deadline, "offer", call.id))
        self.decisions.append(match.decision)
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
            self.engine.remove_call(known.id)
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
        self._apply(agent.id, Trigger.ADOPT_CALL, now)
        self.status[agent.id].call_id = call.id
        return [self._agent_notice(agent.id), self._call_notice(call)]

    # --- helpers -------------------------------------------------------------------------

    def _apply(
        self, agent_id: str, trigger: Trigger, now: float, reason: str | None = None
    ) -> None:
        """Every agent state change goes through here, so the engine always knows who is free.

        A change deferred "after this call" is applied when the agent's work on the call is
        over: instead of becoming available, or instead of a no-answer pause.
        """
        status = self.status[agent_id]
        status.apply(trigger, now, reason)
        status.resume_at = None
        if status.pending is not None and status.state in (AgentState.AVAILABLE, AgentState.PAUSED):
            state, pending_reason = status.pending
            status.pending = None
            status.apply(REQUESTABLE[state], now, pending_reason)
        elif status.state is AgentState.LOGGED_OUT:
            status.pending = None
        self._refresh(agent_id)

    def _refresh(self, agent_id: str) -> None:
        agent = self.directory.agents[agent_id]
        free = (
            self.status[agent_id].state is AgentState.AVAILABLE
            and agent.pbx in self.ready
            and self.devices.get(agent.device) not in BUSY_DEVICE
        )
        self.engine.set_free(agent_id, free)

    def _refresh_pbx(self, pbx: str) -> None:
        for agent in self.directory.agents.values():
            if agent.pbx == pbx:
                self._refresh(agent.id)

    def _enqueue(self, call: Call) -> None:
        call.state = CallState.WAITING
        self.engine.add_call(call.id, call.queue_id, call.priority, call.arrived_at, call.queued_at)

    @staticmethod
    def _as_waiting(caller: CallerChannel) -> CallWaiting:
        return CallWaiting(
            caller.call_id,
            caller.extension,
            caller.caller_number,
            caller.caller_name,
            caller.priority,
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
