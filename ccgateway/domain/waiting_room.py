"""What happens to callers while they wait, by their queue's rules (queue_policy.py).

At arrival a caller is checked against the queue's hours, its staffing and its length; while
waiting, their max wait and the last qualified agent logging out can send them on; and they
hear their position and expected wait (estimator.py) at the queue's announcement times.
Where a caller is sent is the queue's action for the rule that fired: another queue (the
same checks again there, keeping the caller's place), voicemail, a callback (callbacks.py:
the room holds the callback desk), a message, or the PBX's fallback. The room holds the
call desk (calls.py), whose line it admits callers to; the desk knows nothing of the room.
"""

from __future__ import annotations

from dataclasses import replace

from ccgateway.domain.agents import VOICE, AgentState
from ccgateway.domain.callbacks import CallbackDesk
from ccgateway.domain.calls import Call, CallDesk
from ccgateway.domain.commands import (
    Announce,
    Command,
    Interaction,
    Outcome,
    PlayConsent,
    PlayMessage,
    RecordInteraction,
    SendToFallback,
    SendToVoicemail,
)
from ccgateway.domain.engine import Decision
from ccgateway.domain.events import CallWaiting
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.model import Queue
from ccgateway.domain.queue_policy import CALLBACK_CONFIRMATION, FALLBACK, ActionKind, QueueAction
from ccgateway.domain.recording import Consent
from ccgateway.domain.timers import TimerKind

MAX_MOVES = 5  # queue actions followed in a row before a caller goes to the fallback
# How long a recording notice may take before the caller is let into the line anyway (the
# PBX never said it ended: the call is then not recorded).
CONSENT_TIMEOUT_S = 60.0


class WaitingRoom:
    def __init__(self, desk: CallDesk, callbacks: CallbackDesk) -> None:
        self.desk = desk
        self.floor = desk.floor
        self.callbacks = callbacks  # where a caller who asks (or is sent) to be called back goes
        # The records of callers sent to voicemail, written when the PBX says how it went
        # (a PBX that could not take the message must not be recorded as if it had), or at
        # the caller's hang-up, or at a resync: call id -> (its PBX, the record).
        self.in_voicemail: dict[str, tuple[str, Interaction]] = {}

    # --- joining and leaving the line --------------------------------------------------

    def arrive(
        self, event: CallWaiting, now: float, pbx: str, age_s: float = 0.0, *, rejoin: bool = False
    ) -> list[Command]:
        """A caller asks for the queue behind the extension; `rejoin`: they were already
        waiting before the controller lost sight of them (a resync)."""
        if event.call_id in self.desk.calls:
            return []  # a repeat (a resync raced the event): the call is already here
        queue = self.floor.directory.queue_for_extension(event.extension, pbx)
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
        self.desk.calls[call.id] = call
        keep_for = self._last_agent_for(call, queue, now)
        return [self.desk.notice(call), *self.admit(call, queue, now, keep_for, rejoin=rejoin)]

    def _last_agent_for(
        self, call: Call, queue: Queue, now: float
    ) -> tuple[str, float, str] | None:
        """Whom to keep a returning caller for, and until when, if anyone."""
        last = self.floor.last_agent.get(call.caller_number) if queue.last_agent_wait_s else None
        if last is None or not call.caller_number or last[1] < now - queue.last_agent_within_s:
            return None
        agent = self.floor.directory.agents.get(last[0])
        if agent is None or agent.pbx not in queue.scope:
            return None
        state = self.floor.status[agent.id].state
        working = state not in (AgentState.LOGGED_OUT, AgentState.PAUSED)
        if not working or not queue.compiled.matches(agent.skills, agent.attributes):
            return None
        return agent.id, now + queue.last_agent_wait_s, "last agent"

    def admit(
        self,
        call: Call,
        queue: Queue,
        now: float,
        keep_for: tuple[str, float, str] | None = None,
        *,
        rejoin: bool = False,
        moves: int = 0,
    ) -> list[Command]:
        """Put an arriving (or moved) caller in the queue's line, unless its rules send them
        on. `rejoin` (a caller already waiting before a restart) skips the arrival checks."""
        limits = queue.limits
        if not rejoin and (refused := self.refusal(queue, now)) is not None:
            action, outcome, why = refused
            return self.send_on(call, action, outcome, why, now, moves)
        if not rejoin and (notice := self.notice(call, queue, now)) is not None:
            return [notice]
        self.desk.enqueue(call, now, keep_for)
        timers = self.floor.timers
        if limits.max_wait_s is not None:
            timers.set(TimerKind.MAXWAIT, call.id, call.queued_at + limits.max_wait_s)
        if queue.announce.enabled:
            timers.set(
                TimerKind.ANNOUNCE, call.id, max(now, call.queued_at + queue.announce.first_s)
            )
        return []

    def notice(self, call: Call, queue: Queue, now: float) -> PlayConsent | None:
        """The recording notice, if the caller is to hear it before joining the line: no
        agent is rung meanwhile, so it is heard before any bridge. A caller moved on to
        another queue that notifies does not hear it twice."""
        policy = queue.recording
        if call.consent is not Consent.NONE or not policy.notifies or policy.notice is None:
            return None
        if not self.floor.can(call.pbx, "record"):
            return None  # nothing would be recorded
        call.consent = Consent.PENDING
        self.floor.timers.set(TimerKind.CONSENT, call.id, now + CONSENT_TIMEOUT_S)
        return PlayConsent(call.id, queue.extension, policy.notice, policy.refuse_key, call.pbx)

    def consent_heard(
        self, call_id: str, refused: bool, now: float, *, played: bool = True
    ) -> list[Command]:
        """The notice has ended (or never said so in time): the caller joins the line, their
        choice kept for the recorder. One seen for a caller already in the line (a resync
        found them while hearing it) still counts for a refusal."""
        call = self.desk.calls.get(call_id)
        if call is None:
            return []
        heard = Consent.REFUSED if refused else Consent.HEARD if played else Consent.UNANSWERED
        if call.consent is not Consent.PENDING:
            if refused and call.consent is Consent.NONE:
                call.consent = Consent.REFUSED
            return []
        call.consent = heard
        self.floor.timers.cancel(TimerKind.CONSENT, call_id)
        queue = self.floor.directory.queues.get(call.queue_id)
        if queue is None:
            return self.send_on(call, FALLBACK, Outcome.REJECTED, "its queue is gone", now)
        keep_for = self._last_agent_for(call, queue, now)
        return self.admit(call, queue, now, keep_for, rejoin=True)

    def refusal(self, queue: Queue, now: float) -> tuple[QueueAction, Outcome, str] | None:
        """Why the queue's rules would not let a caller join its line now, with the action
        they name; None when they would."""
        limits = queue.limits
        if queue.hours is not None and not queue.hours.is_open(now):
            return limits.on_closed, Outcome.CLOSED, "closed"
        if limits.on_no_agents is not None and not self.is_staffed(queue):
            return limits.on_no_agents, Outcome.REFUSED, "no qualified agent logged in"
        if limits.max_waiting is not None and self.waiting_in(queue.id) >= limits.max_waiting:
            return limits.on_full, Outcome.REFUSED, f"full ({limits.max_waiting} waiting)"
        return None

    def waiting_in(self, queue_id: str) -> int:
        return sum(
            1
            for c in self.desk.calls.values()
            if c.queue_id == queue_id and self.floor.engine.waiting(c.id) is not None
        )

    # --- sending callers on ---------------------------------------------------------------

    def send_on(
        self,
        call: Call,
        action: QueueAction,
        outcome: Outcome,
        why: str,
        now: float,
        moves: int = 0,
    ) -> list[Command]:
        """Carry out a queue's action for a caller (waiting, or just arrived)."""
        queue_id = call.queue_id
        rule = f"queue {queue_id}: {why}"
        target = self.floor.directory.queues.get(action.target or "")
        if action.kind is ActionKind.QUEUE and (target is None or moves >= MAX_MOVES):
            action = FALLBACK  # a target removed since, or queues sending callers round
        if action.kind.value in FEATURES and not self.floor.can(call.pbx, action.kind.value):
            action = FALLBACK  # the caller's PBX cannot do it
        self.floor.decide(
            Decision(now, "action", call.id, queue_id, None, rule, f"sent on: {action.describe()}")
        )
        if action.kind is ActionKind.QUEUE and target is not None:
            self.desk.leave_line(call, now)
            call.queue_id, call.queued_at = target.id, now
            return [self.desk.notice(call), *self.admit(call, target, now, moves=moves + 1)]
        if action.kind is ActionKind.CALLBACK and call.caller_number:
            return self.to_callback(call, now, why)
        detail = action.describe() if action.kind is not ActionKind.CALLBACK else "fallback"
        out = self.desk.end(call, outcome, now, detail=f"{why}: {detail}")
        if action.kind is ActionKind.VOICEMAIL and action.target is not None:
            return [SendToVoicemail(call.id, action.target, call.pbx), *self._hold(call, out)]
        if action.kind is ActionKind.MESSAGE and action.target is not None:
            return [PlayMessage(call.id, action.target, call.pbx), *out]
        return [SendToFallback(call.id, why, call.pbx), *out]

    def to_callback(
        self, call: Call, now: float, why: str, number: str | None = None
    ) -> list[Command]:
        """The caller hangs up after a confirmation and a queued callback keeps their place
        (to `number`, or the caller's own)."""
        queue = self.floor.directory.queues[call.queue_id]
        _, out = self.callbacks.create(
            queue,
            number or call.caller_number,
            call.caller_name,
            call.priority,
            now,
            placed_at=call.arrived_at,
            origin_call_id=call.id,
        )
        confirm = PlayMessage(call.id, CALLBACK_CONFIRMATION, call.pbx)
        ended = self.desk.end(call, Outcome.CALLBACK, now, detail=f"{why}: callback")
        return [confirm, *ended, *out]

    def _hold(self, call: Call, out: list[Command]) -> list[Command]:
        """`out` without the call's record, which waits in `in_voicemail`."""
        kept: list[Command] = []
        for command in out:
            if isinstance(command, RecordInteraction) and command.interaction.call_id == call.id:
                self.in_voicemail[call.id] = (call.pbx, command.interaction)
            else:
                kept.append(command)
        return kept

    def voicemail_ended(self, call_id: str, failure: str, now: float) -> list[Command]:
        """Write the record of a caller who was sent to voicemail; a failure says so."""
        held = self.in_voicemail.pop(call_id, None)
        if held is None:
            return []
        record = held[1]
        if failure:
            record = replace(record, detail=f"{record.detail}: failed ({failure})")
            self.floor.decide(
                Decision(
                    now,
                    "action",
                    call_id,
                    record.queue_id or "",
                    None,
                    "voicemail",
                    f"the PBX could not take the message: {failure}",
                )
            )
        return [RecordInteraction(record)]

    def voicemail_unknown(self, pbx: str) -> list[Command]:
        """The PBX's link was lost: write the records of its callers in voicemail as they
        are (how the voicemail went can no longer be told)."""
        gone = [call_id for call_id, (owner, _) in self.in_voicemail.items() if owner == pbx]
        return [RecordInteraction(self.in_voicemail.pop(call_id)[1]) for call_id in gone]

    def sweep_unstaffed(self, now: float) -> list[Command]:
        """Callers of queues whose last qualified agent has logged out are sent on."""
        out: list[Command] = []
        queues = self.floor.directory.queues
        if not any(q.limits.on_no_agents is not None for q in queues.values()):
            return out  # no queue sends callers on for this: nothing to look at
        waiting = [c for c in self.desk.calls.values() if self.floor.engine.waiting(c.id)]
        checked: dict[str, bool] = {}
        for call in waiting:
            queue = queues.get(call.queue_id)
            if queue is None or queue.limits.on_no_agents is None:
                continue
            if queue.id not in checked:
                checked[queue.id] = self.is_staffed(queue)
            if not checked[queue.id]:
                why = "no qualified agent logged in"
                out += self.send_on(call, queue.limits.on_no_agents, Outcome.UNSTAFFED, why, now)
        return out

    def is_staffed(self, queue: Queue) -> bool:
        """Some agent who could ever take the queue's callers is logged in."""
        requirements = [queue.requirement_at(step) for step in range(len(queue.relaxation) + 1)]
        for agent in self.floor.directory.agents.values():
            if agent.pbx not in queue.scope:
                continue
            if self.floor.status[agent.id].state is AgentState.LOGGED_OUT:
                continue
            if any(r.matches(agent.skills, agent.attributes) for r in requirements):
                return True
        return False

    # --- timers ---------------------------------------------------------------------------

    def fire(self, kind: TimerKind, call_id: str, now: float) -> list[Command]:
        if kind == TimerKind.CONSENT:
            return self._consent_unanswered(call_id, now)
        call = self.desk.calls.get(call_id)
        queue = self.floor.directory.queues.get(call.queue_id) if call else None
        if call is None or queue is None:
            return []
        if self.floor.engine.waiting(call_id) is None:  # being rung: ask again later
            again = call.offer_deadline or now + queue.announce.every_s
            self.floor.timers.set(kind, call_id, max(again, now + 1.0))
            return []
        if kind == TimerKind.MAXWAIT and queue.limits.max_wait_s is not None:
            why = f"waited {queue.limits.max_wait_s:g} s"
            return self.send_on(call, queue.limits.on_max_wait, Outcome.TIMED_OUT, why, now)
        if kind == TimerKind.ANNOUNCE and queue.announce.enabled:
            self.floor.timers.set(TimerKind.ANNOUNCE, call_id, now + queue.announce.every_s)
            return [self.announcement(call, queue, now)]
        return []

    def _consent_unanswered(self, call_id: str, now: float) -> list[Command]:
        return self.consent_heard(call_id, False, now, played=False)

    def announcement(self, call: Call, queue: Queue, now: float) -> Announce:
        ahead = self.ahead_of(call.id, queue)
        wait = None
        if queue.announce.wait_time:
            wait = self.desk.estimator.expected_wait(queue.id, ahead, now)
        return Announce(
            call.id,
            queue.extension,
            ahead + 1 if queue.announce.position else None,
            None if wait is None else round(wait, 1),
            queue.announce.comfort,
            # "press 1" only where the key can become a callback (see Switchboard)
            queue.announce.offer_callback
            and bool(call.caller_number)
            and self.floor.can(call.pbx, "callback"),
            call.pbx,
        )

    def ahead_of(self, item_id: str, queue: Queue) -> int:
        """Voice items (callers and callbacks) of the queue that will be served first."""
        engine = self.floor.engine
        me = engine.waiting(item_id)
        if me is None:
            return 0
        mine = (-(me.priority + queue.boost_at(me.step)), me.arrived_at, me.call_id)
        return sum(
            1
            for w in engine.waiting_calls()
            if w.queue_id == queue.id
            and w.channel == VOICE
            and (-(w.priority + queue.boost_at(w.step)), w.arrived_at, w.call_id) < mine
        )
