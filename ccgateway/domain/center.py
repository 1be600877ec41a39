"""The live centre: folds PBX events and requests into state, returns commands.

One instance is owned by one dispatcher task (services/dispatcher.py), so nothing here locks.
Every public method takes `now` and returns the commands the shell must carry out, in order.

The centre is the front of a few parts that share one floor (floor.py: agents' status, the
routing engine, timers, decisions): the call desk (calls.py) for callers and agent legs, the
waiting room (waiting_room.py) for queues' rules, callbacks, tasks, transfers, the dialer
(outbound/) and the reconciliation after a reconnect (reconcile.py). It checks requests
and hands them to the part they concern; the switchboard (switchboard.py) does the same for
PBX events and due timers. After every step the centre settles (settling.py): the facts one
part states for another (commands.Fact) are handed on, waiting work is offered to free
agents until nobody can be served, and the dialer paces.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable

from ccgateway.domain.agents import AgentPolicy, AgentState, AgentStatus
from ccgateway.domain.callbacks import CallbackDesk
from ccgateway.domain.calls import Call, CallDesk, CallState
from ccgateway.domain.commands import Command, MonitorMode, Notify, Outcome
from ccgateway.domain.directory import Directory
from ccgateway.domain.engine import Decision, RoutingEngine
from ccgateway.domain.errors import Conflict, InvalidTransition, InvalidValue
from ccgateway.domain.events import DeviceState, Feature, FeatureCodeDialled, PbxEvent
from ccgateway.domain.floor import BUSY_DEVICE, REQUESTABLE, Floor
from ccgateway.domain.model import DEFAULT_PBX, Agent, Queue, Skill, check_priority
from ccgateway.domain.outbound.campaigns import Campaign
from ccgateway.domain.outbound.dialer import OutboundDesk
from ccgateway.domain.outbound.records import DispositionRecord
from ccgateway.domain.outbound.runs import Entry
from ccgateway.domain.privacy import Forgotten, mentions
from ccgateway.domain.queue_policy import ActionKind, QueueAction
from ccgateway.domain.recorder import Recorder
from ccgateway.domain.records import CHANGEABLE_CALLBACK, Callback, Task
from ccgateway.domain.settling import Settling, settles, settles_with
from ccgateway.domain.switchboard import Switchboard
from ccgateway.domain.tasks import TaskDesk
from ccgateway.domain.transfers import Transfers, TransferTarget
from ccgateway.domain.waiting_room import WaitingRoom

__all__ = ["BUSY_DEVICE", "Call", "CallState", "Center"]

FEATURES = {
    Feature.AVAILABLE: (AgentState.AVAILABLE, False),
    Feature.PAUSE: (AgentState.PAUSED, False),
    Feature.LOGOUT: (AgentState.LOGGED_OUT, False),
    Feature.PAUSE_AFTER_CALL: (AgentState.PAUSED, True),
    Feature.LOGOUT_AFTER_CALL: (AgentState.LOGGED_OUT, True),
}


class Center:
    def __init__(self, new_leg_id: Callable[[], str], policy: AgentPolicy | None = None) -> None:
        self.floor = Floor(new_leg_id, policy or AgentPolicy())
        self.desk = CallDesk(self.floor)
        self.callbacks = CallbackDesk(self.floor)
        self.tasks = TaskDesk(self.floor)
        self.room = WaitingRoom(self.desk, self.callbacks)
        self.transfers = Transfers(self.room)
        self.outbound = OutboundDesk(self.floor, self.desk)
        self.recorder = Recorder(self.floor, self.desk.calls)
        self.switchboard = Switchboard(
            self.room, self.tasks, self.transfers, self.outbound, self.recorder
        )
        self.settling = Settling(self.room, self.tasks, self.outbound, self.recorder)

    # The floor's and the desk's state, as the read models and tests know it.
    @property
    def policy(self) -> AgentPolicy:
        return self.floor.policy

    @property
    def directory(self) -> Directory:
        return self.floor.directory

    @property
    def status(self) -> dict[str, AgentStatus]:
        return self.floor.status

    @property
    def devices(self) -> dict[tuple[str, str], DeviceState]:
        return self.floor.devices

    @property
    def engine(self) -> RoutingEngine:
        return self.floor.engine

    @property
    def decisions(self) -> deque[Decision]:
        return self.floor.decisions

    @property
    def ready(self) -> set[str]:
        return self.floor.ready

    @property
    def calls(self) -> dict[str, Call]:
        return self.desk.calls

    @property
    def last_agent(self) -> OrderedDict[str, tuple[str, float]]:
        return self.floor.last_agent

    @property
    def waiting(self) -> list[str]:
        """Waiting call ids, higher priority first, then earlier arrival (one queue's order)."""
        calls = [self.calls[w.call_id] for w in self.engine.waiting_calls()]
        return [c.id for c in sorted(calls, key=lambda c: (-c.priority, c.arrived_at, c.id))]

    @property
    def pbx_ready(self) -> bool:
        return bool(self.ready)

    def drive_pbx(self, name: str, features: frozenset[str]) -> None:
        """The PBX named `name` is driven by the shell; it can do `features` (floor.FEATURES)."""
        self.floor.features[name] = features

    def remember_last_agent(self, caller_number: str, agent_id: str, ended_at: float) -> None:
        self.floor.remember_last_agent(caller_number, agent_id, ended_at)

    # --- configuration (the store has already saved it) -------------------------------

    def put_skill(self, skill: Skill) -> None:
        self.directory.check_skill(skill)
        self.directory.skills[skill.id] = skill

    def remove_skill(self, skill_id: str) -> None:
        self.directory.check_skill_removable(skill_id)
        del self.directory.skills[skill_id]

    @settles
    def put_agent(self, agent: Agent, now: float) -> list[Command]:
        self.directory.check_agent(agent)
        self.directory.put_agent(agent)
        self.status.setdefault(agent.id, AgentStatus(since=now, idle_since=now, counted_at=now))
        self.engine.agent_changed(agent.id)
        self.floor.refresh(agent.id)
        self.floor.staffing_dropped = True  # the agent's skills may no longer fit a queue
        return []

    def check_agent_removable(self, agent_id: str) -> None:
        self.directory.agent(agent_id)
        status = self.status[agent_id]
        if status.call_id is not None or status.tasks:
            raise Conflict(f"agent {agent_id} has work in hand; remove the agent after it ends")

    @settles
    def remove_agent(self, agent_id: str, now: float) -> list[Command]:
        self.check_agent_removable(agent_id)
        self.engine.agent_removed(agent_id)
        self.directory.drop_agent(agent_id)
        del self.status[agent_id]
        self.floor.staffing_dropped = True
        return []

    @settles
    def put_queue(self, queue: Queue, now: float, *, loading: bool = False) -> list[Command]:
        """Add or change a queue; `loading` skips the check that overflow targets exist
        (queues are loaded one by one, so a target may come later)."""
        self.directory.check_queue(queue, check_targets=not loading)
        self.directory.put_queue(queue)
        self.engine.queue_changed(queue.id)
        return []

    def remove_queue(self, queue_id: str) -> None:
        self.directory.check_queue_removable(queue_id)
        self.outbound.check_queue_removable(queue_id)
        if any(call.queue_id == queue_id for call in self.calls.values()):
            raise Conflict(f"queue {queue_id} has live calls; remove it when they have ended")
        self.directory.drop_queue(queue_id)
        self.engine.queue_changed(queue_id)

    def restore_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, now: float
    ) -> None:
        """Put back an agent's presence saved before a restart; calls come from the PBX."""
        if state in REQUESTABLE:
            self.floor.apply(agent_id, REQUESTABLE[state], now, reason)

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
        if state is AgentState.LOGGED_OUT and status.tasks and not after_call:
            raise Conflict(
                f"agent {agent_id} has {len(status.tasks)} task(s) in hand: "
                "complete them, or pause, before logging out"
            )
        if after_call and status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            status.pending = (state, reason)  # nothing changes now: nothing to settle
            return [self.floor.agent_notice(agent_id)]
        return self._change_agent_state(agent_id, state, reason, now)

    @settles
    def _change_agent_state(
        self, agent_id: str, state: AgentState, reason: str | None, now: float
    ) -> list[Command]:
        self.status[agent_id].pending = None
        self.floor.apply(agent_id, REQUESTABLE[state], now, reason)
        return [self.floor.agent_notice(agent_id)]

    @settles
    def set_call_priority(self, call_id: str, priority: int, now: float) -> list[Command]:
        """Raise or lower a waiting caller's priority (an integrator's VIP, a retention case)."""
        call = self.desk.live(call_id)
        call.priority = check_priority(priority)
        if self.engine.waiting(call_id) is not None:
            self.engine.set_priority(call_id, call.priority)
        return [self.desk.notice(call)]

    def move_call(self, call_id: str, queue_id: str, now: float) -> list[Command]:
        """A supervisor moves a waiting caller to another queue, as that queue's overflow
        would: the caller keeps their arrival (and so their wait) and priority, and the
        target queue's own rules (hours, length, staffing) apply on entry."""
        call = self.desk.live(call_id)
        if call.state is not CallState.WAITING:
            raise Conflict(
                f"call {call_id} is {call.state.value}: only a waiting caller is moved "
                "(a caller with an agent is transferred)"
            )
        target = self.directory.queues.get(queue_id)
        if target is None:
            raise InvalidValue(f"no queue {queue_id!r} to move the caller to")
        if target.pbx != call.pbx:
            raise InvalidValue(f"queue {queue_id!r} is on {target.pbx}, the caller on {call.pbx}")
        if target.id == call.queue_id:
            return []  # nothing changes: nothing to settle
        if (refused := self.room.refusal(target, now)) is not None:
            raise Conflict(f"queue {queue_id!r} takes no caller now ({refused[2]})")
        return self._move(call, target, now)

    @settles
    def _move(self, call: Call, target: Queue, now: float) -> list[Command]:
        action = QueueAction(ActionKind.QUEUE, target.id)
        return self.room.send_on(call, action, Outcome.TRANSFERRED, "moved by hand", now)

    @settles
    def request_callback(self, call_id: str, number: str | None, now: float) -> list[Command]:
        """A waiting caller (or an integrator for them) asks to be called back: the caller
        hangs up after a confirmation and a callback keeps their place."""
        call = self.desk.live(call_id)
        if call.state is CallState.CONNECTED:
            raise Conflict(f"call {call_id} is with an agent already")
        self.floor.require(call.pbx, "callback")
        if not (number or call.caller_number):
            raise InvalidValue("the caller's number is unknown: give the number to call back")
        return self.room.to_callback(call, now, "asked for a callback", number)

    @settles_with
    def create_callback(
        self,
        queue_id: str,
        number: str,
        name: str,
        priority: int | None,
        not_before: float | None,
        now: float,
    ) -> tuple[Callback, list[Command]]:
        """An integrator's callback (a web form, a CRM task): it joins the queue's line now
        (or at `not_before`), behind those already waiting."""
        queue = self.directory.queue(queue_id)
        self.floor.require(queue.pbx, "callback")
        callback, out = self.callbacks.create(
            queue,
            number,
            name,
            queue.priority if priority is None else priority,
            now,
            not_before=not_before,
        )
        return callback, out

    @settles_with
    def change_callback(
        self, callback_id: str, changes: dict[str, object], now: float
    ) -> tuple[Callback, list[Command]]:
        out = self.callbacks.change(callback_id, changes, now)
        return self.callbacks.live(callback_id), out

    def cancel_callback(self, callback_id: str, now: float) -> list[Command]:
        # Only a scheduled or waiting callback can be cancelled: no agent is freed, so the
        # centre does not settle after it.
        return self.callbacks.cancel(callback_id, now)

    # --- outbound campaigns ------------------------------------------------------------

    @settles
    def put_campaign(self, campaign: Campaign, now: float) -> list[Command]:
        return self.outbound.put_campaign(campaign, now)

    @settles
    def campaign_action(self, campaign_id: str, action: str, now: float) -> list[Command]:
        """Start, pause or stop a campaign."""
        return self.outbound.set_state(campaign_id, action, now)

    @settles
    def contacts_loaded(
        self,
        campaign_id: str,
        entries: list[Entry],
        asked: int,
        screened: dict[str, float | None],
        now: float,
    ) -> list[Command]:
        return self.outbound.contacts_loaded(campaign_id, entries, asked, screened, now)

    @settles
    def preview_answer(
        self, agent_id: str, dial_id: str, accept: bool, now: float
    ) -> list[Command]:
        self.directory.agent(agent_id)
        return self.outbound.preview_answer(agent_id, dial_id, accept, now)

    @settles_with
    def dispose(
        self,
        dial_id: str,
        agent_id: str,
        code: str,
        answers: dict[str, object],
        note: str,
        callback_at: float | None,
        callback_agent_id: str | None,
        now: float,
    ) -> tuple[DispositionRecord, list[Command]]:
        record, out = self.outbound.dispose(
            dial_id, agent_id, code, answers, note, callback_at, callback_agent_id, now
        )
        return record, out

    # --- transfers ---------------------------------------------------------------------

    @settles
    def transfer(
        self, call_id: str, target: TransferTarget, attended: bool, now: float
    ) -> list[Command]:
        """Move a connected call to a queue, an agent or a number; `attended` consults the
        target first (then `finish_transfer`)."""
        if attended:
            return self.transfers.consult(call_id, target, now)
        return self.transfers.blind(call_id, target, now)

    @settles
    def finish_transfer(self, call_id: str, how: str, now: float) -> list[Command]:
        """End a consult: `complete`, `cancel` or `conference` (Transfers.finish)."""
        return self.transfers.finish(call_id, how, now)

    # --- non-voice tasks ---------------------------------------------------------------

    @settles_with
    def create_task(
        self,
        queue_id: str,
        channel: str,
        priority: int | None,
        title: str,
        data: dict[str, str],
        now: float,
    ) -> tuple[Task, list[Command]]:
        queue = self.directory.queue(queue_id)
        task, out = self.tasks.create(
            queue, channel, queue.priority if priority is None else priority, title, data, now
        )
        return task, out

    @settles
    def answer_task(self, task_id: str, agent_id: str, answer: str, now: float) -> list[Command]:
        """An agent's `accept`, `reject` or `complete` of a task."""
        self.directory.agent(agent_id)
        return self.tasks.answer(task_id, agent_id, answer, now)

    @settles
    def cancel_task(self, task_id: str, now: float) -> list[Command]:
        return self.tasks.cancel(task_id, now)

    @settles_with
    def forget_person(self, number: str, now: float) -> tuple[Forgotten, list[Command]]:
        """Let go of what the live centre holds of a person being erased (privacy.py):
        their queued callbacks withdrawn, their contacts out of the hoppers, their number
        out of the dial log and the last-agent memory; what of theirs is live goes on, and
        its ids come back so that its records are written without them."""
        out: list[Command] = []
        callbacks = set()
        for callback in list(self.callbacks.callbacks.values()):
            if callback.number == number:
                callbacks.add(callback.id)
                if callback.state in CHANGEABLE_CALLBACK:
                    out += self.callbacks.cancel(callback.id, now)
        contacts, dials = self.outbound.state.forget(number)
        self.floor.last_agent.pop(number, None)
        calls = frozenset(c.id for c in self.calls.values() if c.caller_number == number)
        forgotten = Forgotten(
            contacts=contacts,
            callbacks=frozenset(callbacks),
            calls=calls,
            dials=dials,
            recordings=self.recorder.forget(calls | dials),
            tasks=frozenset(
                t.id for t in self.tasks.tasks.values() if mentions(number, t.title, t.data)
            ),
        )
        return forgotten, out

    @settles
    def recording_action(self, call_id: str, action: str, now: float) -> list[Command]:
        """Start, pause or resume the recording of a connected call."""
        return self.recorder.act(self.desk.live(call_id), action, now)

    def reset_day(self, now: float) -> None:
        """A new day: every agent's occupancy counts from zero."""
        for status in self.status.values():
            status.count(now)
            status.reset_counters(now)
        self.outbound.reset_day()

    def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> list[Command]:
        """A supervisor listens to, whispers to or barges into a connected call."""
        return self.desk.monitor(call_id, supervisor_device, mode)

    # --- PBX events --------------------------------------------------------------------

    @settles
    def handle(self, event: PbxEvent, now: float, pbx: str = DEFAULT_PBX) -> list[Command]:
        """Fold one event from the PBX named `pbx` into the centre. A feature code is an
        agent's request; any other event goes to the part it concerns (switchboard.py)."""
        if isinstance(event, FeatureCodeDialled):
            return self._feature_code(event, now, pbx)
        return self.switchboard.event(event, now, pbx)

    @settles
    def tick(self, now: float) -> list[Command]:
        """Fire what is due: ended wrap-ups, offers the PBX never answered for, and
        relaxation steps of waiting callers."""
        out: list[Command] = []
        while (due := self.floor.timers.pop_due(now)) is not None:
            # handed on before the next timer fires
            out += self.settling.hand_on(self.switchboard.fire(*due, now), now)
        for decision in self.engine.advance(now):
            self.floor.decide(decision)
            if decision.kind == "overflow":
                self.desk.stop_wait_timers(decision.call_id)  # the new queue's rules apply
            call = self.calls.get(decision.call_id)
            if call is not None:
                if decision.kind == "overflow":
                    call.queue_id, call.queued_at = decision.queue_id, now
                out.append(self.desk.notice(call))
            elif decision.kind == "overflow":
                self.callbacks.moved(decision.call_id, decision.queue_id, now)
                self.tasks.moved(decision.call_id, decision.queue_id, now)
        return out

    def next_deadline(self) -> float | None:
        times = [t for t in (self.floor.timers.next(), self.engine.next_due()) if t is not None]
        return min(times, default=None)

    # --- the steps -----------------------------------------------------------------------

    def _feature_code(self, event: FeatureCodeDialled, now: float, pbx: str) -> list[Command]:
        """An agent's request from their phone; a refused one is told on the event stream."""
        agent = self.directory.agent_for_device(event.device, pbx)
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
