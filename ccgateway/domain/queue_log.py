"""The centre as Asterisk's queue_log: what reporting tools built for app_queue read.

Sans-IO: commands in (the dispatcher's, through a `CommandTap`), with the moment they were
carried out, and `QueueLogLine`s out; the shell writes them to a file or a table. The
format is app_queue's, as Asterisk 20 and 22 write it (main/logger.c `ast_queue_log`:
`epoch|callid|queuename|agent|event|data...`, the event always followed by a `|`). The
events and their data fields, from apps/app_queue.c at tags 20.17.0 / 22.9.0 (line numbers):

    ENTERQUEUE      url|callerid|origposition[|callername]    9027/9012, NONE as agent;
                    the name only with Asterisk's log-caller-id-name (here: caller_name)
    CONNECT         holdtime|bridgedchanneluniqueid|ringtime  7688/7665 (seconds)
    RINGNOANSWER    ringtime (milliseconds)                   5357/5361
    RINGCANCELED    ringtime (milliseconds)                   5909/5904 (the caller left
                    while the agent rang; ABANDON follows)
    COMPLETECALLER  holdtime|calltime|origposition            6950/6943 (the caller hung
    COMPLETEAGENT   holdtime|calltime|origposition             up first / the agent did)
    ABANDON         position|origposition|waittime            9207/9212, NONE as agent
    EXITWITHTIMEOUT position|origposition|waittime            9172/9156
    EXITEMPTY       position|origposition|waittime            9149/9133
    EXITWITHKEY     key|position|origposition|waittime        9219/9224
    BLINDTRANSFER   extension|context|holdtime|calltime|origposition         6685/6678
    ATTENDEDTRANSFER method|methoddata|holdtime|calltime|origposition        6598/6591
                    (before Asterisk 12 both were one TRANSFER event)
    ADDMEMBER       PAUSED or empty                           10962 (AMI: callid MANAGER)
    REMOVEMEMBER    empty                                     11002
    PAUSE/UNPAUSE   reason, per queue, callid NONE            8139/8119
    PAUSEALL/UNPAUSEALL  reason, queue NONE, callid NONE      8178/8158 (logged first
                    when a member is paused in every queue at once, as ours always are)
    QUEUESTART      empty, every field NONE                   main/logger.c 2185

How the centre maps onto it:
- callid is the call's id (on Asterisk the caller channel's Uniqueid, as app_queue's);
  queuename the queue's id; agent `Agent/<agent id>`, the agent code QueueMetrics expects
  (app_queue writes the member's name, which such setups set to `Agent/<n>`);
- a caller enters the queue when the centre first puts them there (`call.state` waiting);
  one the queue's rules turn away at once (closed, full, unstaffed: REFUSED, CLOSED,
  REJECTED) never entered, as app_queue logs nothing for a caller it does not let join, so
  the ENTERQUEUE line is held until the caller is seen staying (the next step, a line of
  another event, or `settle` releases it);
- a caller moved to another queue (an overflow step, a queue action, a supervisor) exits
  the first with EXITWITHTIMEOUT and enters the second, as a dialplan chaining two
  Queue() calls would log it; a caller sent on (voicemail, message) after waiting leaves
  with EXITWITHTIMEOUT, UNSTAFFED with EXITEMPTY, a callback with EXITWITHKEY 1;
- positions count the callers who entered the queue before and are still in it (app_queue
  orders by priority too: a priority caller may show a higher position than app_queue's);
- an agent is a member of every queue they qualify for (same PBX, the queue's requirement
  met) when they log in: ADDMEMBER per queue then; REMOVEMEMBER from those queues when
  they log out; a queue made or changed, or skills changed, while they are logged in shows
  as REMOVEMEMBER / ADDMEMBER at their next change of state. A pause is PAUSEALL then PAUSE
  per queue with the reason (the pause code, or the no-answer reason); a pause ending is
  UNPAUSEALL then UNPAUSE carrying the ended pause's reason, as app_queue does;
- after a transfer the call leaves the queue's view (app_queue follows it no further),
  unless it enters a queue again (a blind transfer to a queue: ENTERQUEUE there). A blind
  transfer's extension and context are the target and its kind (`billing|queue`,
  `a2|agent`, `+4930...|number`); a completed consult is ATTENDEDTRANSFER with method
  BRIDGE and the consulted leg's id. An agent leaving a three-way conference is
  COMPLETEAGENT (the call goes on outside the queue's view).

Strangers' text (caller numbers and names) never breaks a line: `|`, CR, LF and other
control characters are replaced, and each field is kept to 100 characters (the width of
the realtime table's data columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.commands import (
    CancelConsult,
    Command,
    Conference,
    HangUp,
    Interaction,
    Notify,
    Outcome,
    RecordInteraction,
    RingAgent,
    RingConsult,
)
from ccgateway.domain.directory import Directory

NONE = "NONE"
FIELD_MAX = 100
# Outcomes of a caller the queue's rules turned away on arrival: they never joined its line.
NEVER_ENTERED = frozenset({Outcome.REFUSED.value, Outcome.CLOSED.value, Outcome.REJECTED.value})
EXIT_EVENT = {
    Outcome.ABANDONED.value: "ABANDON",
    Outcome.UNSTAFFED.value: "EXITEMPTY",
}
CALLBACK_KEY = "1"  # the dialplans' "press 1 to be called back"
_UNSAFE = re.compile(r"[|\x00-\x1f\x7f]")
TRANSFER_KINDS = ("queue", "agent", "number")


def clean(text: object) -> str:
    """A field as app_queue would write it safely: no `|` (it separates fields), no line
    breaks or other control characters (a line is one event), at most 100 characters."""
    return _UNSAFE.sub("_", str(text))[:FIELD_MAX]


def agent_code(agent_id: str) -> str:
    return f"Agent/{agent_id}"


@dataclass(frozen=True, slots=True)
class QueueLogLine:
    """One queue_log event: `time` is whole epoch seconds, as app_queue's `time(NULL)`."""

    time: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...] = ()

    def text(self) -> str:
        """The line as app_queue writes it to the file (without the newline)."""
        head = (str(self.time), self.callid, self.queue, self.agent, self.event)
        return "|".join(map(clean, head)) + "|" + "|".join(map(clean, self.data))


@dataclass(slots=True)
class _Caller:
    """A caller in a queue, or talking to the agent who took them from it."""

    queue: str
    entered: int  # app_queue's qe->start: when they joined this queue
    origposition: int
    ring: tuple[str, str, float] | None = None  # agent, leg, since: an agent being rung
    agent: str | None = None  # the agent who answered
    leg: str = ""
    answered: int = 0
    consult: str | None = None  # the leg of a party being consulted
    conference: bool = False
    outside: bool = False  # transferred on: out of the queue's view until it enters one

    @property
    def connected(self) -> bool:
        return self.agent is not None


@dataclass(slots=True)
class _Member:
    state: str
    reason: str | None
    queues: tuple[str, ...] = ()


@dataclass(slots=True)
class QueueLog:
    """The translator: feed it every command with its moment (`observe`), in order; it
    keeps what it needs of each call and agent. `directory` is the centre's (read when an
    agent logs in: the queues they are a member of)."""

    directory: Directory
    caller_name: bool = False  # the ENTERQUEUE's fourth field (log-caller-id-name)
    _callers: dict[str, _Caller] = field(default_factory=dict)
    _lines: dict[str, list[str]] = field(default_factory=dict)  # queue -> callers in order
    # call -> (the step's moment, its ENTERQUEUE), held until the caller is seen staying
    _pending: dict[str, tuple[float, QueueLogLine]] = field(default_factory=dict)
    _members: dict[str, _Member] = field(default_factory=dict)

    def start(self, now: float) -> list[QueueLogLine]:
        """The line Asterisk writes when its queue log opens."""
        return [QueueLogLine(int(now), NONE, NONE, NONE, "QUEUESTART", ("",))]

    def know_agent(self, agent_id: str, state: str, reason: str | None) -> None:
        """An agent as the centre had them when the feed started (nothing is written)."""
        queues = self.queues_of(agent_id) if state != "logged_out" else ()
        self._members[agent_id] = _Member(state, reason, queues)

    def queues_of(self, agent_id: str) -> tuple[str, ...]:
        """The queues the agent qualifies for: the queues they are a member of."""
        agent = self.directory.agents.get(agent_id)
        if agent is None:
            return ()
        return tuple(
            sorted(
                q.id
                for q in self.directory.queues.values()
                if agent.pbx in q.scope and q.compiled.matches(agent.skills, agent.attributes)
            )
        )

    def settle(self) -> list[QueueLogLine]:
        """Release the entries held back: callers who stayed past their arrival."""
        released = [line for _, line in self._pending.values()]
        self._pending.clear()
        return released

    def observe(self, command: Command, now: float) -> list[QueueLogLine]:
        """The queue_log lines `command` makes, in order. Held entries go first: all of them
        when it makes lines, and those of an earlier step (the commands of one step share
        its moment; a caller still there after their arrival's step stayed)."""
        earlier = [call for call, (at, _) in self._pending.items() if at != now]
        released = [self._pending.pop(call)[1] for call in earlier]
        held = list(self._pending)
        lines = self._lines_for(command, now)
        if lines:  # what was held before it goes first; what it holds stays held
            released += [self._pending.pop(call)[1] for call in held if call in self._pending]
        return [*released, *lines]

    # --- what each command means ---------------------------------------------------------

    def _lines_for(self, command: Command, now: float) -> list[QueueLogLine]:
        match command:
            case Notify(topic="call.state", data=data):
                return self._call_state(data, now)
            case Notify(topic="call.ended", data=data):
                return self._call_ended(data, now)
            case Notify(topic="agent.state", data=data):
                return self._agent_state(data, now)
            case RingAgent(call_id=call_id, agent_id=agent_id, leg_id=leg_id):
                caller = self._callers.get(call_id)
                if caller is not None and not caller.connected:
                    caller.ring = (agent_id, leg_id, now)
            case RingConsult(call_id=call_id, leg_id=leg_id):
                if (caller := self._callers.get(call_id)) is not None:
                    caller.consult = leg_id
            case CancelConsult(call_id=call_id):
                if (caller := self._callers.get(call_id)) is not None:
                    caller.consult = None
            case Conference(call_id=call_id):
                if (caller := self._callers.get(call_id)) is not None:
                    caller.consult, caller.conference = None, True
            case HangUp(channel_id=channel_id):
                self._consult_hung_up(channel_id)
            case RecordInteraction(interaction=record) if record.outcome is Outcome.TRANSFERRED:
                return self._agent_part_ended(record, now)
        return []

    def _call_state(self, data: Mapping[str, object], now: float) -> list[QueueLogLine]:
        call_id, queue, state = str(data["call_id"]), str(data["queue_id"]), str(data["state"])
        caller = self._callers.get(call_id)
        if caller is None:
            if state == "waiting":
                self._enter(call_id, queue, data, now)
            return []  # a call met connected (a restart adopted it): never seen entering
        if caller.outside or caller.connected:
            if state == "waiting":  # back in a queue's line (a blind transfer to a queue)
                self._forget(call_id)
                self._enter(call_id, queue, data, now)
            return []
        out = self._ring_ended(call_id, caller, now, "RINGNOANSWER") if state == "waiting" else []
        if caller.queue != queue and state == "waiting":  # moved on to another queue
            if self._pending.pop(call_id, None) is None:
                out.append(self._exit(call_id, caller, "EXITWITHTIMEOUT", now))
            self._forget(call_id)
            self._enter(call_id, queue, data, now)
        elif state == "connected" and caller.ring is not None:
            agent, leg, rung_at = caller.ring
            self._leave_line(call_id, caller)
            caller.ring, caller.agent, caller.leg, caller.answered = None, agent, leg, int(now)
            hold, ring = int(now) - caller.entered, int(now - rung_at)
            out.append(self._line(now, call_id, caller, agent, "CONNECT", hold, leg, ring))
        return out

    def _call_ended(self, data: Mapping[str, object], now: float) -> list[QueueLogLine]:
        call_id, outcome = str(data["call_id"]), str(data["outcome"])
        caller = self._callers.get(call_id)
        if caller is None or caller.outside:
            self._forget(call_id)
            return []
        if call_id in self._pending and outcome in NEVER_ENTERED:
            del self._pending[call_id]  # turned away on arrival: app_queue logs nothing
            self._forget(call_id)
            return []
        out: list[QueueLogLine] = []
        if caller.connected and caller.agent is not None:
            event = "COMPLETEAGENT" if data.get("ended_by") == "agent" else "COMPLETECALLER"
            hold, talk = caller.answered - caller.entered, int(now) - caller.answered
            out.append(
                self._line(
                    now, call_id, caller, caller.agent, event, hold, talk, caller.origposition
                )
            )
        else:
            out += self._ring_ended(call_id, caller, now, "RINGCANCELED")
            if outcome == Outcome.CALLBACK.value:
                out.append(self._exit(call_id, caller, "EXITWITHKEY", now, CALLBACK_KEY))
            else:
                out.append(
                    self._exit(call_id, caller, EXIT_EVENT.get(outcome, "EXITWITHTIMEOUT"), now)
                )
        self._forget(call_id)
        return out

    def _agent_part_ended(self, record: Interaction, now: float) -> list[QueueLogLine]:
        """An agent's part of a call ended by a transfer (or by leaving a conference)."""
        caller = self._callers.get(record.call_id)
        if caller is None or caller.outside or caller.agent is None:
            return []
        call_id, agent = record.call_id, caller.agent
        hold, talk = caller.answered - caller.entered, int(now) - caller.answered
        times = (hold, talk, caller.origposition)
        if caller.conference:
            line = self._line(now, call_id, caller, agent, "COMPLETEAGENT", *times)
        elif caller.consult is not None:
            how = ("BRIDGE", caller.consult)
            line = self._line(now, call_id, caller, agent, "ATTENDEDTRANSFER", *how, *times)
        else:
            kind, _, target = record.detail.removeprefix("to ").partition(" ")
            where = (target, kind) if kind in TRANSFER_KINDS and target else (caller.queue, "queue")
            line = self._line(now, call_id, caller, agent, "BLINDTRANSFER", *where, *times)
        self._forget(call_id)
        self._callers[call_id] = _Caller(caller.queue, int(now), 0, outside=True)
        return [line]

    def _consult_hung_up(self, channel_id: str) -> None:
        for caller in self._callers.values():
            if caller.consult == channel_id:
                caller.consult = None

    # --- agents ----------------------------------------------------------------------------

    def _agent_state(self, data: Mapping[str, object], now: float) -> list[QueueLogLine]:
        agent_id, state = str(data["agent_id"]), str(data["state"])
        reason = None if data.get("reason") is None else str(data["reason"])
        before = self._members.get(agent_id) or _Member("logged_out", None)
        after = _Member(state, reason, before.queues)
        self._members[agent_id] = after
        agent, at = agent_code(agent_id), int(now)
        out: list[QueueLogLine] = []
        if state in ("paused", "logged_out"):  # from being rung: the ring was not answered
            out += self._rang_out(agent_id, now)
        if state != "logged_out":
            # Members of the queues they qualify for now: at login, and after a queue or
            # their skills changed meanwhile (seen at their next change of state).
            # (Logged out, they are a member of none: at login every queue is joined.)
            after.queues = self.queues_of(agent_id)
            gone = [q for q in before.queues if q not in after.queues]
            joined = [q for q in after.queues if q not in before.queues]
            added = "PAUSED" if state == "paused" else ""
            out += [QueueLogLine(at, "MANAGER", q, agent, "REMOVEMEMBER", ("",)) for q in gone]
            out += [QueueLogLine(at, "MANAGER", q, agent, "ADDMEMBER", (added,)) for q in joined]
        else:
            removed = before.queues if before.state != "logged_out" else ()
            after.queues = ()
            return out + [
                QueueLogLine(at, "MANAGER", q, agent, "REMOVEMEMBER", ("",)) for q in removed
            ]
        paused, was_paused = state == "paused", before.state == "paused"
        if paused and (not was_paused or reason != before.reason):
            out += self._pause(at, agent, after.queues, "PAUSE", reason or "", reason or "")
        elif was_paused and not paused:
            out += self._pause(at, agent, after.queues, "UNPAUSE", "", before.reason or "")
        return out

    def _rang_out(self, agent_id: str, now: float) -> list[QueueLogLine]:
        """RINGNOANSWER before the no-answer pause it brings, as app_queue logs them."""
        out: list[QueueLogLine] = []
        for call_id, caller in self._callers.items():
            if caller.ring is not None and caller.ring[0] == agent_id:
                out += self._ring_ended(call_id, caller, now, "RINGNOANSWER")
        return out

    @staticmethod
    def _pause(
        at: int, agent: str, queues: Iterable[str], event: str, all_reason: str, reason: str
    ) -> list[QueueLogLine]:
        queues = list(queues)
        if not queues:
            return []  # a member of no queue: app_queue would find no member to pause
        every = QueueLogLine(at, NONE, NONE, agent, f"{event}ALL", (all_reason,))
        return [every, *(QueueLogLine(at, NONE, q, agent, event, (reason,)) for q in queues)]

    # --- callers in lines ------------------------------------------------------------------

    def _enter(self, call_id: str, queue: str, data: Mapping[str, object], now: float) -> None:
        line = self._lines.setdefault(queue, [])
        line.append(call_id)
        self._callers[call_id] = _Caller(queue, int(now), len(line))
        fields = ["", str(data.get("caller_number") or ""), str(len(line))]
        if self.caller_name:
            fields.append(str(data.get("caller_name") or ""))
        self._pending[call_id] = (
            now,
            QueueLogLine(int(now), call_id, queue, NONE, "ENTERQUEUE", tuple(fields)),
        )

    def _ring_ended(
        self, call_id: str, caller: _Caller, now: float, event: str
    ) -> list[QueueLogLine]:
        if caller.ring is None:
            return []
        agent, _, rung_at = caller.ring
        caller.ring = None
        return [self._line(now, call_id, caller, agent, event, int((now - rung_at) * 1000))]

    def _exit(
        self, call_id: str, caller: _Caller, event: str, now: float, *first: str
    ) -> QueueLogLine:
        position = self._position(call_id, caller)
        wait = int(now) - caller.entered
        return self._line(
            now, call_id, caller, None, event, *first, position, caller.origposition, wait
        )

    def _position(self, call_id: str, caller: _Caller) -> int:
        line = self._lines.get(caller.queue, [])
        return line.index(call_id) + 1 if call_id in line else 1

    def _leave_line(self, call_id: str, caller: _Caller) -> None:
        line = self._lines.get(caller.queue)
        if line is not None and call_id in line:
            line.remove(call_id)
            if not line:
                del self._lines[caller.queue]

    def _forget(self, call_id: str) -> None:
        caller = self._callers.pop(call_id, None)
        if caller is not None:
            self._leave_line(call_id, caller)

    @staticmethod
    def _line(
        now: float, call_id: str, caller: _Caller, agent_id: str | None, event: str, *data: object
    ) -> QueueLogLine:
        agent = NONE if agent_id is None else agent_code(agent_id)
        return QueueLogLine(int(now), call_id, caller.queue, agent, event, tuple(map(str, data)))
