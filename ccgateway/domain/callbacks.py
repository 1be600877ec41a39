"""Queued callbacks: a caller keeps their place without holding the line.

A waiting caller who presses the key (or whom an integrator or a queue rule sends) hangs up;
a callback takes their place in the queue's line, with their arrival time and priority.
When its turn comes an agent is reserved and rung first; once the agent answers, the PBX
dials the customer and joins the two (DialCallback). A busy line or no answer is tried
again after the queue's `callback.retry_s`, `callback.attempts` times in all; an agent who
does not answer is made not ready, like for a call, and the callback keeps its place.

Callbacks are saved at every change (SaveCallback) and loaded at start; after a reconnect
the PBX's agent legs settle the ones that were being dialled or talking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ccgateway.domain.agents import Trigger
from ccgateway.domain.commands import (
    Command,
    DialCallback,
    HangUp,
    Interaction,
    Notify,
    Outcome,
    RecordInteraction,
    SaveCallback,
)
from ccgateway.domain.engine import Match
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.events import AgentChannel, LegFailure, failure_for_cause
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue, check_priority
from ccgateway.domain.queue_policy import check_number
from ccgateway.domain.records import CHANGEABLE_CALLBACK, LIVE_CALLBACK, Callback, CallbackState
from ccgateway.domain.timers import TimerKind

S = CallbackState
AGENT_RING_S = 20.0  # how long the agent's phone rings for a callback
GRACE_S = 10.0  # past the PBX's own timeouts before the centre gives up on a leg
CHANGEABLE_FIELDS = frozenset({"number", "name", "priority", "not_before"})


class CallbackDesk:
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.callbacks: dict[str, Callback] = {}
        self.legs: dict[str, str] = {}  # agent leg id -> callback id

    # --- making and changing callbacks ------------------------------------------------

    def create(
        self,
        queue: Queue,
        number: str,
        name: str,
        priority: int,
        now: float,
        *,
        placed_at: float | None = None,
        not_before: float | None = None,
        origin_call_id: str | None = None,
    ) -> tuple[Callback, list[Command]]:
        """A new callback in `queue`'s line, at `placed_at` (default now), not before
        `not_before`."""
        check_number(number, "callback number")
        check_priority(priority)
        if len(name) > 200:
            raise InvalidValue("a callback's name is at most 200 characters")
        callback = Callback(
            id="cb-" + self.floor.new_id().removeprefix("ccgw-"),
            queue_id=queue.id,
            number=number,
            name=name,
            priority=priority,
            placed_at=now if placed_at is None else placed_at,
            created_at=now,
            not_before=not_before,
            pbx=queue.pbx,
            origin_call_id=origin_call_id,
            updated_at=now,
        )
        out = self._schedule(callback, now)
        return self.callbacks[callback.id], out

    def change(self, callback_id: str, changes: dict[str, object], now: float) -> list[Command]:
        """An integrator's edit (number, name, priority, not_before) of a callback that is
        not being dialled."""
        callback = self.live(callback_id)
        if callback.state not in CHANGEABLE_CALLBACK:
            raise Conflict(f"callback {callback_id} is {callback.state.value}: too late to change")
        unknown = set(changes) - CHANGEABLE_FIELDS
        if unknown:
            raise InvalidValue(f"callbacks cannot change {', '.join(sorted(unknown))}")
        if "number" in changes:
            check_number(str(changes["number"]), "callback number")
        if "priority" in changes:
            check_priority(changes["priority"])  # type: ignore[arg-type]
        self._unfile(callback)
        changed = dataclasses.replace(callback, **changes)  # type: ignore[arg-type]
        return self._schedule(changed, now)

    def cancel(self, callback_id: str, now: float) -> list[Command]:
        callback = self.live(callback_id)
        if callback.state not in CHANGEABLE_CALLBACK:
            raise Conflict(
                f"callback {callback_id} is {callback.state.value}: hang up the call instead"
            )
        self._unfile(callback)
        return self._finish(callback, S.CANCELLED, now)

    def restore(self, saved: Iterable[Callback], now: float) -> None:
        """Callbacks saved before a restart; the ones that were with an agent wait for the
        PBX's picture (`resync`) to say how they stand."""
        for callback in saved:
            if callback.state not in LIVE_CALLBACK:
                continue
            self.callbacks[callback.id] = callback
            if callback.leg_id is not None and callback.state not in CHANGEABLE_CALLBACK:
                self.legs[callback.leg_id] = callback.id
            else:
                self._schedule(dataclasses.replace(callback, state=S.WAITING), now)

    def moved(self, callback_id: str, queue_id: str, now: float) -> None:
        """The engine moved a waiting callback to another queue (an overflow step)."""
        callback = self.callbacks.get(callback_id)
        if callback is not None:
            self._put(callback, now, queue_id=queue_id)

    def live(self, callback_id: str) -> Callback:
        callback = self.callbacks.get(callback_id)
        if callback is None:
            raise NotFound(f"no live callback {callback_id!r}")
        return callback

    # --- routing --------------------------------------------------------------------------

    def offer(self, match: Match, now: float) -> list[Command]:
        callback = self.callbacks[match.call_id]
        agent = self.floor.directory.agents[match.agent_id]
        queue = self.floor.directory.queues[callback.queue_id]
        self.floor.engine.remove_call(callback.id)
        self.floor.apply(agent.id, Trigger.OFFER, now)
        self.floor.status[agent.id].call_id = callback.id
        self.floor.decide(match.decision)
        leg_id = self.floor.new_id()
        self.legs[leg_id] = callback.id
        offered = self._put(callback, now, state=S.OFFERING, agent_id=agent.id, leg_id=leg_id)
        self.floor.timers.set(TimerKind.CALLBACK_RING, callback.id, now + AGENT_RING_S + GRACE_S)
        dial = DialCallback(
            leg_id,
            callback.id,
            agent.id,
            agent.device,
            callback.number,
            queue.callback.caller_id,
            AGENT_RING_S,
            queue.callback.ring_s,
            callback.pbx,
        )
        return [dial, self.floor.agent_notice(agent.id), *self._saved(offered)]

    # --- what the PBX says -------------------------------------------------------------------

    def owns(self, leg_id: str) -> bool:
        return leg_id in self.legs

    def agent_answered(self, leg_id: str, now: float) -> list[Command]:
        callback = self._for_leg(leg_id)
        if callback is None or callback.state is not S.OFFERING or callback.agent_id is None:
            return []
        self.floor.apply(callback.agent_id, Trigger.ANSWER, now)
        queue = self.floor.directory.queues.get(callback.queue_id)
        ring_s = queue.callback.ring_s if queue else 60.0
        self.floor.timers.set(TimerKind.CALLBACK_RING, callback.id, now + ring_s + GRACE_S)
        dialing = self._put(callback, now, state=S.DIALING, attempts=callback.attempts + 1)
        return [self.floor.agent_notice(callback.agent_id), *self._saved(dialing)]

    def customer_answered(self, leg_id: str, now: float) -> list[Command]:
        callback = self._for_leg(leg_id)
        if callback is None or callback.state is not S.DIALING or callback.agent_id is None:
            return []
        self.floor.timers.cancel(TimerKind.CALLBACK_RING, callback.id)
        self.floor.status[callback.agent_id].calls_answered += 1
        connected = self._put(callback, now, state=S.CONNECTED, answered_at=now, result="answered")
        return self._saved(connected)

    def customer_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        """The customer was busy, did not answer or could not be reached: try again later."""
        callback = self._for_leg(leg_id)
        if callback is None or callback.state is not S.DIALING:
            return []
        return self._attempt_failed(callback, failure.value, now)

    def agent_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        """The agent's phone was not answered: the agent is made not ready, the callback
        keeps its place."""
        callback = self._for_leg(leg_id)
        if callback is None or callback.state is not S.OFFERING or callback.agent_id is None:
            return []
        if failure is LegFailure.NOT_SENT:
            out = self._release(callback, Trigger.WITHDRAW, now)
        else:
            reason = f"{self.floor.policy.no_answer_reason}: {failure.value}"
            out = self._release(callback, Trigger.NO_ANSWER, now, reason=reason)
        return out + self._back_in_line(callback, now)

    def hung_up(self, leg_id: str, cause: int, now: float) -> list[Command] | None:
        """The agent leg ended; None when it is not a callback's."""
        callback = self._for_leg(leg_id)
        if callback is None:
            return None
        if callback.state is S.OFFERING:
            return self.agent_failed(leg_id, failure_for_cause(cause), now)
        if callback.state is S.DIALING:  # the agent gave up before the customer answered
            return self._attempt_failed(callback, "agent hung up", now)
        if callback.state is S.CONNECTED:
            return self._completed(callback, now)
        return []

    def fire(self, kind: TimerKind, callback_id: str, now: float) -> list[Command]:
        callback = self.callbacks.get(callback_id)
        if callback is None:
            return []
        if kind == TimerKind.CALLBACK_DUE and callback.state is S.SCHEDULED:
            return self._schedule(dataclasses.replace(callback, not_before=None), now)
        if kind == TimerKind.CALLBACK_RING and callback.leg_id is not None:
            leg = callback.leg_id
            hang_up = HangUp(leg, "the callback's leg outlived its ring time", callback.pbx)
            if callback.state is S.OFFERING:
                return [hang_up, *self.agent_failed(leg, LegFailure.NO_ANSWER, now)]
            if callback.state is S.DIALING:
                return [hang_up, *self._attempt_failed(callback, LegFailure.NO_ANSWER.value, now)]
        return []

    def resync(
        self, legs: Iterable[AgentChannel], now: float, pbx: str
    ) -> tuple[set[str], list[Command]]:
        """Settle callbacks with an agent after a reconnect; returns the legs they own (the
        call desk leaves those alone) and the commands."""
        present = {leg.leg_id: leg for leg in legs}
        out: list[Command] = []
        for callback in [c for c in self.callbacks.values() if c.pbx == pbx and c.leg_id]:
            assert callback.leg_id is not None
            leg = present.get(callback.leg_id)
            if callback.state is S.OFFERING and leg is None:
                out += self._release(callback, Trigger.WITHDRAW, now)
                out += self._back_in_line(callback, now)
            elif callback.state in (S.DIALING, S.CONNECTED) and leg is None:
                if callback.state is S.CONNECTED or callback.answered_at is not None:
                    out += self._completed(callback, now)
                else:  # it may have rung the customer: that was an attempt
                    out += self._attempt_failed(callback, "lost while dialling", now)
            elif leg is not None and leg.answered and callback.agent_id is not None:
                self.floor.apply(callback.agent_id, Trigger.ADOPT_CALL, now)
                self.floor.status[callback.agent_id].call_id = callback.id
                if leg.bridged and callback.state is not S.CONNECTED:
                    self._put(callback, now, state=S.CONNECTED, answered_at=now - leg.age_s)
        return {leg_id for leg_id in present if leg_id in self.legs}, out

    # --- helpers ----------------------------------------------------------------------------

    def _release(
        self,
        callback: Callback,
        trigger: Trigger,
        now: float,
        *,
        reason: str | None = None,
        wrapup_s: float = 0.0,
    ) -> list[Command]:
        """The agent's part in the callback is over (if they are still on it: after a
        restart they may not be)."""
        agent_id = callback.agent_id
        status = self.floor.status.get(agent_id) if agent_id is not None else None
        if agent_id is None or status is None or status.call_id != callback.id:
            return []
        self.floor.apply(agent_id, trigger, now, reason)
        if trigger is Trigger.HANG_UP:
            status.wrapup_until = now + wrapup_s
            self.floor.timers.set(TimerKind.WRAPUP, agent_id, status.wrapup_until)
        return [self.floor.agent_notice(agent_id)]

    def _attempt_failed(self, callback: Callback, result: str, now: float) -> list[Command]:
        # No conversation took place: the agent is free again at once.
        out = self._release(callback, Trigger.HANG_UP, now)
        self._drop_leg(callback)
        self.floor.timers.cancel(TimerKind.CALLBACK_RING, callback.id)
        queue = self.floor.directory.queues.get(callback.queue_id)
        attempts = queue.callback.attempts if queue else 1
        if callback.attempts >= attempts or queue is None:
            return out + self._finish(callback, S.NOT_REACHED, now, result=result)
        retry = dataclasses.replace(
            callback,
            state=S.SCHEDULED,
            agent_id=None,
            leg_id=None,
            result=result,
            not_before=now + queue.callback.retry_s,
        )
        return out + self._schedule(retry, now)

    def _back_in_line(self, callback: Callback, now: float) -> list[Command]:
        self._drop_leg(callback)
        self.floor.timers.cancel(TimerKind.CALLBACK_RING, callback.id)
        waiting = dataclasses.replace(callback, state=S.WAITING, agent_id=None, leg_id=None)
        return self._schedule(waiting, now)

    def _completed(self, callback: Callback, now: float) -> list[Command]:
        queue = self.floor.directory.queues.get(callback.queue_id)
        wrapup_s = queue.wrapup_s if queue else 0.0
        out = self._release(callback, Trigger.HANG_UP, now, wrapup_s=wrapup_s)
        agent_id = callback.agent_id
        answered = callback.answered_at or now
        if agent_id is not None:
            self.floor.remember_last_agent(callback.number, agent_id, now)
        record = Interaction(
            call_id=callback.id,
            queue_id=callback.queue_id,
            agent_id=agent_id,
            caller_number=callback.number,
            outcome=Outcome.ANSWERED,
            arrived_at=callback.created_at,
            answered_at=answered,
            ended_at=now,
            wait_s=round(answered - callback.created_at, 3),
            talk_s=round(now - answered, 3),
            offers=callback.attempts,
            detail=f"called back (attempt {callback.attempts})",
            kind="callback",
        )
        self._drop_leg(callback)
        return [*out, RecordInteraction(record), *self._finish(callback, S.DONE, now)]

    def _finish(
        self, callback: Callback, state: CallbackState, now: float, result: str | None = None
    ) -> list[Command]:
        ended = dataclasses.replace(
            callback,
            state=state,
            updated_at=now,
            result=callback.result if result is None else result,
        )
        del self.callbacks[callback.id]
        self.floor.timers.cancel(TimerKind.CALLBACK_DUE, callback.id)
        out: list[Command] = [SaveCallback(ended), self._notice(ended)]
        if state is S.NOT_REACHED:
            record = Interaction(
                call_id=callback.id,
                queue_id=callback.queue_id,
                agent_id=None,
                caller_number=callback.number,
                outcome=Outcome.NOT_REACHED,
                arrived_at=callback.created_at,
                answered_at=None,
                ended_at=now,
                wait_s=round(now - callback.created_at, 3),
                talk_s=0.0,
                offers=callback.attempts,
                detail=f"not reached after {callback.attempts} attempt(s): {ended.result}",
                kind="callback",
            )
            out.append(RecordInteraction(record))
        return out

    def _schedule(self, callback: Callback, now: float) -> list[Command]:
        """File the callback: in its queue's line, or for later when it is not due yet."""
        if callback.not_before is not None and callback.not_before > now:
            scheduled = self._put(callback, now, state=S.SCHEDULED)
            self.floor.timers.set(TimerKind.CALLBACK_DUE, callback.id, callback.not_before)
            return self._saved(scheduled)
        waiting = self._put(callback, now, state=S.WAITING, not_before=None)
        self.floor.engine.add_call(
            waiting.id, waiting.queue_id, waiting.priority, waiting.placed_at, now
        )
        return self._saved(waiting)

    def _unfile(self, callback: Callback) -> None:
        self.floor.engine.remove_call(callback.id)
        self.floor.timers.cancel(TimerKind.CALLBACK_DUE, callback.id)

    def _put(self, callback: Callback, now: float, **changes: object) -> Callback:
        updated = dataclasses.replace(callback, updated_at=now, **changes)  # type: ignore[arg-type]
        self.callbacks[updated.id] = updated
        return updated

    def _drop_leg(self, callback: Callback) -> None:
        if callback.leg_id is not None:
            self.legs.pop(callback.leg_id, None)

    def _for_leg(self, leg_id: str) -> Callback | None:
        callback_id = self.legs.get(leg_id)
        return self.callbacks.get(callback_id) if callback_id is not None else None

    def _saved(self, callback: Callback) -> list[Command]:
        return [SaveCallback(callback), self._notice(callback)]

    @staticmethod
    def _notice(callback: Callback) -> Notify:
        return Notify(
            "callback.state",
            {
                "callback_id": callback.id,
                "queue_id": callback.queue_id,
                "state": callback.state.value,
                "agent_id": callback.agent_id,
                "attempts": callback.attempts,
            },
        )
