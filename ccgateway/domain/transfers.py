"""Transfers and three-way conferences of connected calls.

Blind: the caller goes straight on, and the agent's part of the call ends with a record of
its own (outcome TRANSFERRED) and their wrap-up:
- to a queue: back on hold in that queue's line, keeping their arrival (their place) and
  priority; the queue's rules apply as for any caller;
- to an agent: the same, kept for that agent (who must be free) until they answer;
- to a number: the PBX dials it and the call leaves the centre.

Attended: the caller holds while the agent consults a third party (a free agent, whoever the
queue's strategy picks in a queue, or a number). Then `complete` joins the caller to the
third party, `cancel` brings the agent back to the caller, and `conference` puts all three
together. The agent hanging up during a consult completes it, as on a desk phone; a
consult that is not answered brings the agent back. In a conference an agent may leave and
the call goes on with whoever is left; the caller leaving ends it for everybody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import Call, CallState, Consult, ConsultState
from ccgateway.domain.commands import (
    CancelConsult,
    Command,
    CompleteConsult,
    Conference,
    HangUp,
    Notify,
    Outcome,
    ReturnToQueue,
    RingConsult,
    StartConsult,
    TransferOut,
)
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.events import AgentChannel, LegFailure
from ccgateway.domain.queue_policy import check_number
from ccgateway.domain.timers import TimerKind
from ccgateway.domain.waiting_room import WaitingRoom

CONSULT_RING_S = 30.0
KEEP_FOR_AGENT_S = 60.0  # a blind transfer to an agent waits this long for them


class TargetKind(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class TransferTarget:
    kind: TargetKind
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TargetKind(self.kind))
        if self.kind is TargetKind.NUMBER:
            check_number(self.value, "transfer number")

    def describe(self) -> str:
        return f"{self.kind.value} {self.value}"


class Transfers:
    def __init__(self, room: WaitingRoom) -> None:
        self.room = room  # a caller transferred to a queue joins its line by its rules
        self.desk = room.desk
        self.floor = room.floor

    # --- blind --------------------------------------------------------------------------

    def blind(self, call_id: str, target: TransferTarget, now: float) -> list[Command]:
        call = self._talking(call_id)
        self.floor.require(call.pbx, "transfer")
        out: list[Command]
        if target.kind is TargetKind.NUMBER:
            out = [TransferOut(call.id, target.value, call.leg_id, call.pbx)]
            return out + self.desk.end(call, Outcome.TRANSFERRED, now, f"to {target.describe()}")
        keep_for = None
        if target.kind is TargetKind.AGENT:
            queue = self.floor.directory.queues[call.queue_id]
            crosses = call.kind == "inbound"  # a campaign's call stays on its own PBX
            pbxes = queue.scope if crosses else frozenset((call.pbx,))
            agent = self._free_agent(target.value, call, pbxes)
            why = f"transferred to {agent}"
            keep_for = (agent, now + KEEP_FOR_AGENT_S, why)
        else:
            queue = self.floor.directory.queue(target.value)
            if queue.pbx != call.pbx:
                raise InvalidValue(f"queue {queue.id} is on {queue.pbx}, the call on {call.pbx}")
        agent_leg = call.leg_id
        out = self._agent_part_ends(call, f"to {target.describe()}", now)
        call.state, call.agent_id, call.leg_id, call.answered_at = (
            CallState.WAITING,
            None,
            None,
            None,
        )
        call.queue_id, call.queued_at = queue.id, now
        out.append(ReturnToQueue(call.id, queue.extension, agent_leg, call.pbx))
        out.append(self.desk.notice(call))
        return out + self.room.admit(call, queue, now, keep_for)

    # --- attended -------------------------------------------------------------------------

    def consult(self, call_id: str, target: TransferTarget, now: float) -> list[Command]:
        call = self._talking(call_id)
        self.floor.require(call.pbx, "consult")
        assert call.leg_id is not None and call.agent_id is not None
        device: str
        agent_id: str | None = None
        if target.kind is TargetKind.NUMBER:
            device, number = target.value, target.value
        else:
            if target.kind is TargetKind.AGENT:
                agent_id = self._free_agent(target.value, call, frozenset((call.pbx,)))
            else:
                queue = self.floor.directory.queue(target.value)
                agent_id = self.floor.engine.best_agent(queue.id, now)
                if agent_id is None:
                    raise Conflict(f"no agent of queue {queue.id} is free to consult")
            device, number = self.floor.directory.agents[agent_id].device, None
            self.floor.apply(agent_id, Trigger.OFFER, now)
            self.floor.status[agent_id].call_id = call.id
        leg_id = self.floor.new_id()
        call.consult = Consult(leg_id, agent_id, number)
        self.desk.consult_legs[leg_id] = call.id
        self.floor.timers.set(TimerKind.CONSULT, leg_id, now + CONSULT_RING_S + 5.0)
        ring = RingConsult(
            leg_id,
            call.id,
            call.leg_id,
            device,
            number is not None,
            call.caller_number,
            CONSULT_RING_S,
            call.pbx,
        )
        extension = self.floor.directory.queues[call.queue_id].extension
        out: list[Command] = [StartConsult(call.id, call.leg_id, extension, call.pbx), ring]
        if agent_id is not None:
            out.append(self.floor.agent_notice(agent_id))
        return [*out, self._notice(call)]

    def complete(self, call_id: str, now: float) -> list[Command]:
        """The caller joins the consulted party; the consulting agent's part ends."""
        call, consult = self._consulting(call_id, talking=True)
        assert call.leg_id is not None
        out: list[Command] = [CompleteConsult(call.id, call.leg_id, consult.leg_id, call.pbx)]
        return out + self._hand_over(call, consult, now)

    def cancel(self, call_id: str, now: float) -> list[Command]:
        """The consult ends; the agent is back with the caller."""
        call, consult = self._consulting(call_id, talking=False)
        assert call.leg_id is not None
        out: list[Command] = [CancelConsult(call.id, call.leg_id, consult.leg_id, call.pbx)]
        return out + self.desk.drop_consult(call, consult, now) + [self._notice(call)]

    def conference(self, call_id: str, now: float) -> list[Command]:
        """All three talk together: the caller, the agent and the consulted party."""
        call, consult = self._consulting(call_id, talking=True)
        assert call.leg_id is not None
        self.floor.require(call.pbx, "conference")
        self.desk.consult_legs.pop(consult.leg_id, None)
        self.floor.timers.cancel(TimerKind.CONSULT, consult.leg_id)
        call.consult = None
        call.conference[consult.leg_id] = consult.agent_id
        self.desk.legs[consult.leg_id] = call.id
        legs = (call.leg_id, *call.conference)
        extension = self.floor.directory.queues[call.queue_id].extension
        return [Conference(call.id, legs, extension, call.pbx), self._notice(call)]

    def finish(self, call_id: str, how: str, now: float) -> list[Command]:
        """End a consult: `complete` (the caller goes to the consulted party), `cancel` (back
        to the agent) or `conference` (all three)."""
        steps = {"complete": self.complete, "cancel": self.cancel, "conference": self.conference}
        if how not in steps:
            raise InvalidValue(f"a consult ends with complete, cancel or conference, not {how!r}")
        return steps[how](call_id, now)

    # --- what the PBX says about consult and conference legs ------------------------------

    def owns(self, leg_id: str) -> bool:
        return leg_id in self.desk.consult_legs

    def leg_answered(self, leg_id: str, now: float) -> list[Command]:
        call = self._call_of(leg_id)
        if call is None or call.consult is None or call.consult.state is ConsultState.TALKING:
            return []
        consult = call.consult
        consult.state = ConsultState.TALKING
        self.floor.timers.cancel(TimerKind.CONSULT, leg_id)
        out: list[Command] = [self._notice(call)]
        if consult.agent_id is not None:
            self.floor.apply(consult.agent_id, Trigger.ANSWER, now)
            out.append(self.floor.agent_notice(consult.agent_id))
        return out

    def leg_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        """The consulted party did not answer: the agent goes back to the caller."""
        call = self._call_of(leg_id)
        if call is None or call.consult is None or call.leg_id is None:
            self.desk.consult_legs.pop(leg_id, None)
            return []
        consult = call.consult
        out: list[Command] = [CancelConsult(call.id, call.leg_id, consult.leg_id, call.pbx)]
        blame = failure is not LegFailure.NOT_SENT and consult.state is ConsultState.RINGING
        return out + self.desk.drop_consult(call, consult, now, blame=blame) + [self._notice(call)]

    def hung_up(self, leg_id: str, cause: int, now: float) -> list[Command] | None:
        """A consult leg, or a conference member's leg, ended; None when it is neither."""
        if leg_id in self.desk.consult_legs:
            return self.leg_failed(leg_id, LegFailure.NO_ANSWER, now)
        call_id = self.desk.legs.get(leg_id)
        call = self.desk.calls.get(call_id) if call_id else None
        if call is None or leg_id not in call.conference:
            return None
        agent_id = call.conference.pop(leg_id)
        self.desk.legs.pop(leg_id, None)
        if agent_id is None or self.floor.status[agent_id].call_id != call.id:
            return [self._notice(call)]
        self.desk.start_wrapup(agent_id, call.queue_id, now)
        return [self.floor.agent_notice(agent_id), self._notice(call)]

    def agent_hung_up(self, leg_id: str, now: float) -> list[Command] | None:
        """The agent of a connected call hung up. During a consult that completes it; in a
        conference the call goes on with the next member. None: not a call with a consult or
        a conference (the call desk ends it as any call)."""
        call = self.desk.call_for_leg(leg_id)
        if call is None or call.state is CallState.OFFERING:
            return None
        if call.consult is not None and call.consult.state is ConsultState.TALKING:
            return self._hand_over(call, call.consult, now)
        out: list[Command]
        if call.consult is not None:  # still ringing: the caller goes back to the queue
            consult = call.consult
            out = [HangUp(consult.leg_id, "the consulting agent hung up", call.pbx)]
            out += self.desk.drop_consult(call, consult, now)
            return out + self._requeue(call, now, "the agent hung up during a consult")
        if call.conference:
            leg_id, agent_id = next(iter(call.conference.items()))
            del call.conference[leg_id]
            out = self._agent_part_ends(call, "left the conference", now)
            call.leg_id, call.agent_id, call.answered_at = leg_id, agent_id, now
            return [*out, self.desk.notice(call)]
        return None

    def fire(self, leg_id: str, now: float) -> list[Command]:
        """A consult leg the PBX never answered for."""
        call = self._call_of(leg_id)
        if call is None or call.consult is None or call.consult.state is not ConsultState.RINGING:
            return []
        return [
            HangUp(leg_id, "consult not answered", call.pbx),
            *self.leg_failed(leg_id, LegFailure.NO_ANSWER, now),
        ]

    def resync(
        self, legs: Iterable[AgentChannel], now: float, pbx: str
    ) -> tuple[set[str], list[Command]]:
        """After a reconnect: consults and conference members whose legs the PBX no longer
        has are over; the ones it still has are this desk's (the call desk leaves them)."""
        present = {leg.leg_id for leg in legs}
        out: list[Command] = []
        mine: set[str] = set()
        for call in [c for c in self.desk.calls.values() if c.pbx == pbx]:
            consult = call.consult
            if consult is not None and consult.leg_id in present:
                mine.add(consult.leg_id)
            elif consult is not None:
                out += self.leg_failed(consult.leg_id, LegFailure.NOT_SENT, now)
            for leg_id in list(call.conference):
                if leg_id in present:
                    mine.add(leg_id)
                else:
                    out += self.hung_up(leg_id, 16, now) or []
        return mine, out

    # --- helpers -------------------------------------------------------------------------

    def _hand_over(self, call: Call, consult: Consult, now: float) -> list[Command]:
        """The consulted party takes the caller over: the first agent's part ends."""
        self.desk.consult_legs.pop(consult.leg_id, None)
        self.floor.timers.cancel(TimerKind.CONSULT, consult.leg_id)
        call.consult = None
        out = self._agent_part_ends(call, f"to {consult.target}", now)
        if consult.agent_id is None:  # a number: the call leaves the centre
            return out + self.desk.end(call, Outcome.TRANSFERRED, now, f"to {consult.number}")
        call.agent_id, call.leg_id, call.answered_at = consult.agent_id, consult.leg_id, now
        self.desk.legs[consult.leg_id] = call.id
        return [*out, self.desk.notice(call)]

    def _agent_part_ends(self, call: Call, detail: str, now: float) -> list[Command]:
        assert call.agent_id is not None
        out = [self.desk.record(call, Outcome.TRANSFERRED, now, detail)]
        if call.leg_id is not None:
            self.desk.legs.pop(call.leg_id, None)
        if self.floor.status[call.agent_id].call_id == call.id:
            self.desk.start_wrapup(call.agent_id, call.queue_id, now)
            out.append(self.floor.agent_notice(call.agent_id))
        return out

    def _requeue(self, call: Call, now: float, why: str) -> list[Command]:
        agent_leg = call.leg_id
        out = self._agent_part_ends(call, why, now)
        queue = self.floor.directory.queues[call.queue_id]
        call.state, call.agent_id, call.leg_id, call.answered_at = (
            CallState.WAITING,
            None,
            None,
            None,
        )
        call.queued_at = now
        out += [
            ReturnToQueue(call.id, queue.extension, agent_leg, call.pbx),
            self.desk.notice(call),
        ]
        return out + self.room.admit(call, queue, now, rejoin=True)

    def _talking(self, call_id: str) -> Call:
        call = self.desk.calls.get(call_id)
        if call is None:
            raise NotFound(f"no live call {call_id!r}")
        if call.state is not CallState.CONNECTED or call.agent_id is None:
            raise Conflict(f"call {call_id} is {call.state.value}: only a connected call moves")
        if call.consult is not None or call.conference:
            raise Conflict(f"call {call_id} has a consult or a conference going on")
        return call

    def _consulting(self, call_id: str, *, talking: bool) -> tuple[Call, Consult]:
        call = self.desk.calls.get(call_id)
        if call is None:
            raise NotFound(f"no live call {call_id!r}")
        consult = call.consult
        if consult is None:
            raise Conflict(f"call {call_id} has no consult going on")
        if talking and consult.state is not ConsultState.TALKING:
            raise Conflict(f"the consulted party of call {call_id} has not answered yet")
        return call, consult

    def _free_agent(self, agent_id: str, call: Call, pbxes: frozenset[str]) -> str:
        """The named agent, if free and on one of `pbxes`: the call's PBX, or for a blind
        transfer (rung as the queue's callers are) those its queue shares callers with over
        a trunk; a consult's leg is never rung over one."""
        agent = self.floor.directory.agent(agent_id)
        if agent.pbx not in pbxes:
            raise InvalidValue(
                f"agent {agent_id} is on {agent.pbx}, the call on {call.pbx}"
                + (" (its queue shares no callers with it)" if len(pbxes) > 1 else "")
            )
        if not self.floor.engine.is_free(agent_id):
            state = self.floor.status[agent_id].state.value
            raise Conflict(f"agent {agent_id} is not free to take a call ({state})")
        return agent_id

    def _call_of(self, leg_id: str) -> Call | None:
        call_id = self.desk.consult_legs.get(leg_id)
        return self.desk.calls.get(call_id) if call_id is not None else None

    @staticmethod
    def _notice(call: Call) -> Command:
        consult = call.consult
        return Notify(
            "call.transfer",
            {
                "call_id": call.id,
                "agent_id": call.agent_id,
                "consult": None
                if consult is None
                else {"target": consult.target, "state": consult.state.value},
                "conference": sorted(a or "number" for a in call.conference.values()),
            },
        )
