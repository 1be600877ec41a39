"""Inbound calls: a caller waits, is offered to an agent, talks, and leaves a record.

The `CallDesk` keeps the live calls, their line (in the routing engine, with the wait
estimator) and the agent legs rung for them. It is driven by the centre (center.py), which
hands it PBX events and routing matches, and by the waiting room (waiting_room.py), which
admits callers to the line by their queue's rules; every agent state change goes through
the floor (floor.py), so the routing engine always knows who is free. A call that ends
lets go of what a transfer (transfers.py) put on it: the consulted party, conference members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.commands import (
    Command,
    Fact,
    HangUp,
    Interaction,
    Monitor,
    MonitorMode,
    Notify,
    Outcome,
    RecordInteraction,
    RingAgent,
)
from ccgateway.domain.engine import Match
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.estimator import WaitEstimator
from ccgateway.domain.events import LegFailure, failure_for_cause
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import DEFAULT_PBX, DEVICE_PATTERN
from ccgateway.domain.recording import Consent, RecordingPolicy
from ccgateway.domain.timers import TimerKind

# How long past the PBX's own ring timeout we wait for its verdict before giving up on a leg.
RING_GRACE_S = 5.0
# A PBX stamp further than this from our own clock is not believed (clocks set apart).
CLOCKS_APART_S = 5.0
CUT_OFF_DETAIL = "cut off by the PBX (it restarted or shut down)"
# A PBX feature (Floor.features): its adapter reports the moment an answered agent leg is
# bridged to its caller (LegBridged), so an answer never bridged is no conversation.
BRIDGE_EVENTS = "bridge_events"


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
    # When the part of the call the next record covers began: the arrival, or the last
    # transfer (each agent's part of a transferred call has a record of its own).
    segment_at: float = 0.0
    consult: Consult | None = None  # an attended transfer or conference being set up
    # Conference members besides the call's own agent leg: leg id -> agent id (None: a number)
    conference: dict[str, str | None] = field(default_factory=dict)
    kind: str = "inbound"  # "outbound": a person a campaign reached, put through to an agent
    consent: Consent = Consent.NONE  # the recording notice (waiting_room.py), if one played
    recording: RecordingPolicy | None = None  # a campaign's call: its own; None: the queue's
    campaign_id: str | None = None  # a campaign's call: which campaign placed it
    # The PBX joined the caller and the agent (False from an answer until the PBX says so,
    # on a PBX that says so: `bridge_events`); a caller gone before is no conversation.
    bridged: bool = True

    def __post_init__(self) -> None:
        if not self.segment_at:
            self.segment_at = self.arrived_at


@dataclass(frozen=True, slots=True)
class OutboundCallEnded(Fact):
    """The desk ended a call a campaign placed: the dialer's part of its end follows."""

    call: Call
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class CallConnected(Fact):
    """An agent answered the call: the recorder may start (recorder.py)."""

    call: Call


@dataclass(frozen=True, slots=True)
class CallEnded(Fact):
    """The call is over for the centre: a recording of it ends (recorder.py)."""

    call: Call


class ConsultState(StrEnum):
    RINGING = "ringing"
    TALKING = "talking"


@dataclass(slots=True)
class Consult:
    """The third party an agent is consulting while the caller holds: an agent or a number."""

    leg_id: str
    agent_id: str | None
    number: str | None
    state: ConsultState = ConsultState.RINGING

    @property
    def target(self) -> str:
        return self.agent_id or self.number or "?"


class CallDesk:
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, str] = {}  # agent leg id -> call id
        self.estimator = WaitEstimator()  # learns from the line: who joins, leaves, is taken
        # Consult legs a transfer (transfers.py) rings: leg id -> call id. A call that ends
        # lets its consulted party and conference members go.
        self.consult_legs: dict[str, str] = {}

    # --- the line ------------------------------------------------------------------------

    def enqueue(
        self, call: Call, now: float, keep_for: tuple[str, float, str] | None = None
    ) -> None:
        """Put the call (back) in its queue's line; its arrival time keeps its place."""
        call.state = CallState.WAITING
        self.floor.engine.add_call(
            call.id,
            call.queue_id,
            call.priority,
            call.arrived_at,
            call.queued_at,
            keep_for,
            trunked=call.kind == "inbound",  # a campaign's live call stays on its own PBX
        )
        self.estimator.joined(call.queue_id, now)

    def leave_line(self, call: Call, now: float, *, abandoned: bool = False) -> None:
        """Take the call out of its queue's line (offered, moved, sent on, hung up)."""
        if self.floor.engine.remove_call(call.id) is not None:
            self.estimator.left(call.queue_id, now, abandoned=abandoned)

    def stop_wait_timers(self, call_id: str) -> None:
        """The caller will not wait in this queue again (answered, ended or moved): the
        queue's max wait and announcements (set by the waiting room) stop."""
        self.floor.timers.cancel(TimerKind.MAXWAIT, call_id)
        self.floor.timers.cancel(TimerKind.ANNOUNCE, call_id)
        self.floor.timers.cancel(TimerKind.CONSENT, call_id)

    # --- offers ---------------------------------------------------------------------------

    def offer(self, match: Match, now: float) -> list[Command]:
        self.floor.decide(match.decision)
        return self.ring(self.calls[match.call_id], match.agent_id, now)

    def ring(self, call: Call, agent_id: str, now: float, *, kept: bool = False) -> list[Command]:
        """Offer the call to the agent: reserve them and ring their phone. `kept`: the agent
        was already reserved for this call (a progressive dial)."""
        agent = self.floor.directory.agents[agent_id]
        queue = self.floor.directory.queues[call.queue_id]
        self.leave_line(call, now)
        if not kept:
            self.floor.apply(agent.id, Trigger.OFFER, now)
        self.floor.status[agent.id].call_id = call.id
        leg_id = self.floor.new_id()
        self.legs[leg_id] = call.id
        call.state, call.agent_id, call.leg_id = CallState.OFFERING, agent.id, leg_id
        call.offers += 1
        call.offer_deadline = now + queue.ring_timeout_s + RING_GRACE_S
        self.floor.timers.set(TimerKind.OFFER, call.id, call.offer_deadline)
        ring = RingAgent(
            leg_id,
            call.id,
            agent.id,
            agent.device,
            queue.ring_timeout_s,
            call.caller_number,
            call.caller_name,
            call.pbx,
            auto_answer=call.kind == "outbound",
            agent_pbx=agent.pbx if agent.pbx != call.pbx else "",
        )
        return [ring, self.floor.agent_notice(agent.id), self.notice(call)]

    def offer_timed_out(self, call_id: str, now: float) -> list[Command]:
        """The PBX never said how the ring ended: give up on the leg ourselves."""
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.OFFERING or call.leg_id is None:
            return []
        leg_id = call.leg_id
        hang_up = HangUp(leg_id, "no answer within the ring timeout", call.pbx)
        return [hang_up, *self.leg_failed(leg_id, LegFailure.NO_ANSWER, now)]

    def leg_answered(
        self,
        leg_id: str,
        now: float,
        pbx: str,
        *,
        seen_bridged: bool = False,
        at: float | None = None,
    ) -> list[Command]:
        """The agent answered. `seen_bridged`: a resync found the leg already answered (its
        bridge, if any, was not seen: it is taken as made). `at`: the PBX's time of the
        answer (`_pbx_moment`)."""
        call = self.call_for_leg(leg_id)
        if call is None:
            return [HangUp(leg_id, "answered a call that is no longer waiting", pbx)]
        if call.state is not CallState.OFFERING:
            return []
        assert call.agent_id is not None
        call.state = CallState.CONNECTED
        call.answered_at = _pbx_moment(at, call.arrived_at, now)
        call.bridged = seen_bridged or not self.floor.can(call.pbx, BRIDGE_EVENTS)
        call.offer_deadline = None
        self.floor.timers.cancel(TimerKind.OFFER, call.id)
        self.stop_wait_timers(call.id)
        self.estimator.taken(call.queue_id, now, now - call.queued_at)
        self.floor.apply(call.agent_id, Trigger.ANSWER, now)
        self.floor.status[call.agent_id].calls_answered += 1
        return [self.floor.agent_notice(call.agent_id), self.notice(call), CallConnected(call)]

    def leg_failed(
        self, leg_id: str, failure: LegFailure, now: float, blame_agent: bool = True
    ) -> list[Command]:
        call = self.call_for_leg(leg_id)
        self.legs.pop(leg_id, None)
        if call is None or call.state is not CallState.OFFERING:
            return []
        assert call.agent_id is not None
        agent_id = call.agent_id
        if blame_agent and failure is not LegFailure.NOT_SENT:
            self._not_ready(agent_id, failure, now)
        else:
            self.floor.apply(agent_id, Trigger.WITHDRAW, now)
        call.agent_id, call.leg_id, call.offer_deadline = None, None, None
        self.floor.timers.cancel(TimerKind.OFFER, call.id)
        self.enqueue(call, now)
        return [self.floor.agent_notice(agent_id), self.notice(call)]

    def _not_ready(self, agent_id: str, failure: LegFailure, now: float) -> None:
        policy = self.floor.policy
        reason = f"{policy.no_answer_reason}: {failure.value}"
        self.floor.apply(agent_id, Trigger.NO_ANSWER, now, reason)
        status = self.floor.status[agent_id]
        if policy.no_answer_resume_s is not None and status.reason == reason:  # not deferred
            status.resume_at = now + policy.no_answer_resume_s
            self.floor.timers.set(TimerKind.RESUME, agent_id, status.resume_at)

    # --- the end ----------------------------------------------------------------------------

    def hung_up(
        self, channel_id: str, cause: int, now: float, *, pbx_down: bool = False
    ) -> list[Command] | None:
        """A channel of ours ended; None when it is not one of this desk's. `pbx_down`: the
        PBX cut it off itself (shutting down): a waiting caller did not abandon."""
        call = self.calls.get(channel_id)
        if call is not None and call.state is CallState.CONNECTED and not call.bridged:
            # The agent answered but the caller left before the PBX joined them.
            assert call.leg_id is not None
            hang_up = HangUp(call.leg_id, "the caller left before the bridge", call.pbx)
            outcome = Outcome.CUT_OFF if pbx_down else Outcome.ABANDONED
            detail = "the caller left as the agent answered, before the bridge"
            return [
                hang_up,
                *self._take_back_answer(call, now),
                *self.end(call, outcome, now, detail),
            ]
        if call is not None:
            if call.state is CallState.CONNECTED:
                return self.end(call, Outcome.ANSWERED, now, CUT_OFF_DETAIL if pbx_down else "")
            return self.end(call, Outcome.CUT_OFF if pbx_down else Outcome.ABANDONED, now)
        call = self.call_for_leg(channel_id)
        if call is None:
            return None
        if call.state is CallState.OFFERING:
            failure = failure_for_cause(cause)
            return self.leg_failed(channel_id, failure, now)
        # The agent hung up a connected call: the dialplan ends the caller too; make sure.
        return [
            *self.end(call, Outcome.ANSWERED, now, by_agent=True),
            HangUp(call.id, "agent hung up", call.pbx),
        ]

    def caller_left(self, call_id: str, context: str, now: float) -> list[Command]:
        """The caller's channel went on in a context that is not ours: someone else took
        them. A waiting (or ringing) caller's wait ends as REDIRECTED (the ringing leg is
        hung up, the agent freed); a conversation ends as answered. The caller is left
        alone where they are."""
        call = self.calls.get(call_id)
        if call is None:
            return []
        detail = f"moved by another tool to {context}"
        if call.state is CallState.CONNECTED and call.bridged:
            return self.end(call, Outcome.ANSWERED, now, detail)
        taken_back = self._take_back_answer(call, now) if call.state is CallState.CONNECTED else []
        return [*taken_back, *self.end(call, Outcome.REDIRECTED, now, detail)]

    def leg_bridged(self, leg_id: str) -> None:
        """The PBX joined the leg's agent and caller: from now on it is a conversation."""
        call = self.call_for_leg(leg_id)
        if call is not None:
            call.bridged = True

    def bridge_failed(self, leg_id: str, result: str, now: float) -> list[Command]:
        """The agent answered but the PBX could not bridge the caller to them: no
        conversation. The answer is taken back (the agent is free at once, not blamed, their
        answered count undone) and the call ends: a caller who is gone abandoned; one the
        PBX could not bridge for another reason is no longer ours to serve. (That reason is
        a caller leaving its hold as the agent answers; the dialplan tells it after the
        caller's own events, so a caller who hung up has ended as abandoned by then.)"""
        call = self.call_for_leg(leg_id)
        if call is None or call.state is not CallState.CONNECTED:
            return []
        gone = result.strip().upper() == "NONEXISTENT"
        outcome = Outcome.ABANDONED if gone else Outcome.REDIRECTED
        detail = f"the agent answered, the bridge to the caller failed ({result or '?'})"
        return [*self._take_back_answer(call, now), *self.end(call, outcome, now, detail)]

    def _take_back_answer(self, call: Call, now: float) -> list[Command]:
        """An answer that was no conversation: its agent is free at once (no wrap-up, not
        blamed, the answered count undone) and the call keeps no agent or answer."""
        agent_id = call.agent_id
        if call.leg_id is not None:
            self.legs.pop(call.leg_id, None)
        call.agent_id, call.answered_at, call.leg_id = None, None, None
        if agent_id is None:
            return []
        status = self.floor.status[agent_id]
        status.calls_answered = max(0, status.calls_answered - 1)
        self.floor.apply(agent_id, Trigger.HANG_UP, now)
        if status.state is AgentState.WRAP_UP:  # no wrap-up: there was no call to wrap up
            self.floor.apply(agent_id, Trigger.WRAPUP_DONE, now)
        return [self.floor.agent_notice(agent_id)]

    def end(
        self, call: Call, outcome: Outcome, now: float, detail: str = "", *, by_agent: bool = False
    ) -> list[Command]:
        """The call is over for the centre: the agent's work ends, the record is written.
        `by_agent`: the agent's side hung up first (told as `ended_by`: queue_log's
        COMPLETEAGENT rather than COMPLETECALLER)."""
        for leg_id in call.conference:  # before they are let go, which forgets them
            self.legs.pop(leg_id, None)
        out = self._let_go_third_parties(call, now)
        del self.calls[call.id]
        self.leave_line(call, now, abandoned=outcome is Outcome.ABANDONED)
        self.stop_wait_timers(call.id)
        self.floor.timers.cancel(TimerKind.OFFER, call.id)
        if call.leg_id is not None:
            self.legs.pop(call.leg_id, None)
        if call.agent_id is not None:
            if call.state is CallState.OFFERING:
                assert call.leg_id is not None
                out.append(
                    HangUp(call.leg_id, "the caller left before the agent answered", call.pbx)
                )
                self.floor.apply(call.agent_id, Trigger.WITHDRAW, now)
            else:
                self.start_wrapup(call.agent_id, call.queue_id, now)
            out.append(self.floor.agent_notice(call.agent_id))
        out.append(self.record(call, outcome, now, detail))
        ended: dict[str, object] = {"call_id": call.id, "outcome": outcome.value}
        if call.agent_id is not None:
            ended["agent_id"] = call.agent_id  # so an agent's stream carries its own calls' end
        if by_agent:
            ended["ended_by"] = "agent"
        out.append(Notify("call.ended", ended))
        out.append(CallEnded(call))
        if call.kind == "outbound":
            out.append(OutboundCallEnded(call, outcome))  # the dialer records its dial
        return out

    def _let_go_third_parties(self, call: Call, now: float) -> list[Command]:
        """The caller is gone: the consulted party and conference members are let go."""
        out: list[Command] = []
        if call.consult is not None:
            out.append(HangUp(call.consult.leg_id, "the caller hung up", call.pbx))
            out += self.drop_consult(call, call.consult, now)
        for leg_id, agent_id in list(call.conference.items()):
            out.append(HangUp(leg_id, "the caller hung up", call.pbx))
            if agent_id is not None and self.floor.status[agent_id].call_id == call.id:
                self.start_wrapup(agent_id, call.queue_id, now)
                out.append(self.floor.agent_notice(agent_id))
        call.conference.clear()
        return out

    def drop_consult(
        self, call: Call, consult: Consult, now: float, *, blame: bool = False
    ) -> list[Command]:
        """The consult ends without taking the caller over: its agent (if any) is let go."""
        self.consult_legs.pop(consult.leg_id, None)
        self.floor.timers.cancel(TimerKind.CONSULT, consult.leg_id)
        call.consult = None
        agent_id = consult.agent_id
        if agent_id is None or self.floor.status[agent_id].call_id != call.id:
            return []
        state = self.floor.status[agent_id].state
        if state is AgentState.RESERVED and blame:
            reason = f"{self.floor.policy.no_answer_reason}: consult not answered"
            self.floor.apply(agent_id, Trigger.NO_ANSWER, now, reason)
        elif state is AgentState.RESERVED:
            self.floor.apply(agent_id, Trigger.WITHDRAW, now)
        else:
            self.start_wrapup(agent_id, call.queue_id, now)
        return [self.floor.agent_notice(agent_id)]

    def record(self, call: Call, outcome: Outcome, now: float, detail: str = "") -> Command:
        """The record of the call's part since `segment_at`; the next part starts now."""
        answered = call.answered_at
        if answered is not None and call.agent_id is not None:
            self.floor.remember_last_agent(call.caller_number, call.agent_id, now)
        record = Interaction(
            call_id=call.id,
            queue_id=call.queue_id,
            agent_id=call.agent_id if answered else None,
            caller_number=call.caller_number,
            outcome=outcome,
            arrived_at=call.segment_at,
            answered_at=answered,
            ended_at=now,
            wait_s=round((answered if answered is not None else now) - call.segment_at, 3),
            talk_s=round(now - answered, 3) if answered is not None else 0.0,
            offers=call.offers,
            detail=detail,
            kind=call.kind,
        )
        call.segment_at = now
        return RecordInteraction(record)

    def start_wrapup(self, agent_id: str, queue_id: str, now: float) -> None:
        queue = self.floor.directory.queues.get(queue_id)
        self.floor.apply(agent_id, Trigger.HANG_UP, now)
        status = self.floor.status[agent_id]
        status.wrapup_until = now + (queue.wrapup_s if queue else 0.0)
        self.floor.timers.set(TimerKind.WRAPUP, agent_id, status.wrapup_until)

    # --- supervision ------------------------------------------------------------------------

    def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> list[Command]:
        """A supervisor listens to, whispers to or barges into a connected call."""
        call = self.live(call_id)
        if call.state is not CallState.CONNECTED or call.leg_id is None:
            raise Conflict(
                f"call {call_id} is {call.state.value}: only a connected call can be monitored"
            )
        if not DEVICE_PATTERN.fullmatch(supervisor_device):
            raise InvalidValue(f"device {supervisor_device!r} must look like 'PJSIP/sup1'")
        # Told to the agent too (their desktop shows it): a whisper or barge is heard by the
        # agent anyway, and a listening supervisor is no secret kept from them.
        notice = Notify(
            "call.monitor",
            {
                "call_id": call.id,
                "agent_id": call.agent_id,
                "mode": mode.value,
                "supervisor_device": supervisor_device,
            },
        )
        return [Monitor(call.leg_id, supervisor_device, mode, call.pbx), notice]

    # --- helpers ----------------------------------------------------------------------------

    def live(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound(f"no live call {call_id!r}")
        return call

    def call_for_leg(self, leg_id: str) -> Call | None:
        call_id = self.legs.get(leg_id)
        call = self.calls.get(call_id) if call_id is not None else None
        return call if call is not None and call.leg_id == leg_id else None

    @staticmethod
    def notice(call: Call) -> Notify:
        return Notify(
            "call.state",
            {
                "call_id": call.id,
                "queue_id": call.queue_id,
                "state": call.state.value,
                "agent_id": call.agent_id,
                "caller_number": call.caller_number,
                "caller_name": call.caller_name,
                "arrived_at": call.arrived_at,
                "kind": call.kind,
            },
        )


def _pbx_moment(at: float | None, since: float, now: float) -> float:
    """A moment the PBX stamped, kept within `since` .. `now` (its clock may be a few
    milliseconds behind ours: FreeSWITCH's answer has been stamped 2 ms after a caller's
    arrival that reached us later than that); one further off than CLOCKS_APART_S, or none,
    is the moment we read it."""
    if at is None or not since - CLOCKS_APART_S <= at <= now + CLOCKS_APART_S:
        return now
    return min(max(at, since), now)
