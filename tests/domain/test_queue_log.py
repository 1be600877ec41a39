"""The queue_log translator (sans-IO): commands in, app_queue's lines out, each line read
back by the independent reader of the format."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ccgateway.domain.commands import (
    CancelConsult,
    Command,
    CompleteConsult,
    Conference,
    Interaction,
    Notify,
    Outcome,
    RecordInteraction,
    RingAgent,
    RingConsult,
)
from ccgateway.domain.directory import Directory
from ccgateway.domain.model import Agent, Queue
from ccgateway.domain.queue_log import QueueLog, clean
from tests.queue_log_format import Event, parse_line


def waiting(
    call_id: str, queue: str = "q", agent: str | None = None, state: str = "waiting"
) -> Notify:
    data = {"call_id": call_id, "queue_id": queue, "state": state, "agent_id": agent}
    return Notify("call.state", {**data, "caller_number": "+4930", "caller_name": ""})


def connected(call_id: str, agent: str, queue: str = "q") -> Notify:
    return waiting(call_id, queue, agent, "connected")


def ended(call_id: str, outcome: Outcome) -> Notify:
    return Notify("call.ended", {"call_id": call_id, "outcome": outcome.value})


def transferred(call_id: str, agent: str, detail: str) -> RecordInteraction:
    record = Interaction(
        call_id, "q", agent, "+4930", Outcome.TRANSFERRED, 0, 0, 0, 0, 0, 1, detail
    )
    return RecordInteraction(record)


def agent(agent_id: str, state: str, reason: str | None = None) -> Notify:
    return Notify("agent.state", {"agent_id": agent_id, "state": state, "reason": reason})


def run(steps: Sequence[tuple[float, Command]], translator: QueueLog | None = None) -> list[Event]:
    translator = translator or QueueLog(directory())
    lines = [line for now, command in steps for line in translator.observe(command, now)]
    lines += translator.settle()
    return [parse_line(line.text()) for line in lines]


def directory() -> Directory:
    found = Directory()
    for queue in (Queue("q", "Q", "200"), Queue("r", "R", "300")):
        found.put_queue(queue)
    found.put_agent(Agent("a1", "A1", "PJSIP/a1"))
    found.put_agent(Agent("a2", "A2", "PJSIP/a2"))
    return found


def shape(events: Sequence[Event]) -> list[tuple[str, ...]]:
    return [(e.event, e.queue, e.agent, *e.data.values()) for e in events]


def answered(call_id: str = "c1") -> list[tuple[float, Command]]:
    return [
        (100, waiting(call_id)),
        (102, RingAgent("l1", call_id, "a1", "PJSIP/a1", 15)),
        (105, connected(call_id, "a1")),
    ]


def test_an_attended_transfer_is_logged_with_the_consulted_leg() -> None:
    events = run(
        [
            *answered(),
            (130, RingConsult("l2", "c1", "l1", "PJSIP/a2", False, "+4930", 30)),
            (140, CompleteConsult("c1", "l1", "l2")),
            (140, transferred("c1", "a1", "to a2")),
            (140, connected("c1", "a2")),  # the consulted agent: outside the queue's view
            (200, ended("c1", Outcome.ANSWERED)),
        ]
    )
    assert shape(events)[-1] == (
        "ATTENDEDTRANSFER",
        "q",
        "Agent/a1",
        "BRIDGE",
        "l2",
        "5",
        "35",
        "1",
    )


def test_a_cancelled_consult_then_a_blind_transfer_to_a_number() -> None:
    events = run(
        [
            *answered(),
            (110, RingConsult("l2", "c1", "l1", "+4940", True, "+4930", 30)),
            (115, CancelConsult("c1", "l1", "l2")),
            (120, transferred("c1", "a1", "to number +4940")),
            (120, ended("c1", Outcome.TRANSFERRED)),
        ]
    )
    assert shape(events)[-1] == (
        "BLINDTRANSFER",
        "q",
        "Agent/a1",
        "+4940",
        "number",
        "5",
        "15",
        "1",
    )


def test_an_agent_leaving_a_conference_completes_their_part() -> None:
    events = run(
        [
            *answered(),
            (110, RingConsult("l2", "c1", "l1", "PJSIP/a2", False, "+4930", 30)),
            (115, Conference("c1", ("l1", "l2"), "200")),
            (150, transferred("c1", "a1", "left the conference")),
            (150, connected("c1", "a2")),
            (170, ended("c1", Outcome.ANSWERED)),
        ]
    )
    assert shape(events)[-1] == ("COMPLETEAGENT", "q", "Agent/a1", "5", "45", "1")


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        (Outcome.ABANDONED, ("ABANDON", "q", "NONE", "2", "2", "30")),
        (Outcome.TIMED_OUT, ("EXITWITHTIMEOUT", "q", "NONE", "2", "2", "30")),
        (Outcome.UNSTAFFED, ("EXITEMPTY", "q", "NONE", "2", "2", "30")),
        (Outcome.CALLBACK, ("EXITWITHKEY", "q", "NONE", "1", "2", "2", "30")),
        # Out of the centre's hands (moved away, cut off by the PBX): app_queue has no verb
        # for it, and ABANDON would count them as abandoned in every reader of the log.
        (Outcome.REDIRECTED, ("EXITWITHTIMEOUT", "q", "NONE", "2", "2", "30")),
        (Outcome.CUT_OFF, ("EXITWITHTIMEOUT", "q", "NONE", "2", "2", "30")),
    ],
)
def test_how_a_waiting_caller_leaves(outcome: Outcome, line: tuple[str, ...]) -> None:
    events = run([(100, waiting("c0")), (100, waiting("c1")), (130, ended("c1", outcome))])
    assert shape(events)[-1] == line


def test_positions_count_the_callers_still_ahead() -> None:
    events = run(
        [
            (100, waiting("c1")),
            (101, waiting("c2")),
            (102, waiting("c3")),
            (110, ended("c1", Outcome.ABANDONED)),
            (120, ended("c3", Outcome.ABANDONED)),
        ]
    )
    assert [e.data["position"] for e in events if e.event == "ENTERQUEUE"] == ["1", "2", "3"]
    assert [(e.number("position"), e.number("origposition")) for e in events[3:]] == [
        (1, 1),
        (2, 3),
    ]


def test_a_caller_moved_on_exits_one_queue_and_enters_the_other() -> None:
    events = run(
        [(100, waiting("c1")), (160, waiting("c1", "r")), (170, connected("c1", "a1", "r"))]
    )
    assert [(e.event, e.queue) for e in events] == [
        ("ENTERQUEUE", "q"),
        ("EXITWITHTIMEOUT", "q"),
        ("ENTERQUEUE", "r"),
    ]  # (a connect without a ring seen is not invented)


@pytest.mark.parametrize("outcome", [Outcome.REFUSED, Outcome.CLOSED, Outcome.REJECTED])
def test_a_caller_turned_away_on_arrival_leaves_no_line(outcome: Outcome) -> None:
    assert run([(100, waiting("c1")), (100, ended("c1", outcome))]) == []


def test_a_new_pause_reason_is_a_new_pause_and_a_member_of_no_queue_is_silent() -> None:
    found = directory()
    found.put_queue(Queue("vip", "VIP", "400", requires={"gold": 5}))  # a1 lacks the skill
    events = run(
        [
            (100, agent("a1", "available")),
            (110, agent("a1", "paused", "lunch")),
            (120, agent("a1", "paused", "meeting")),
            (130, agent("a1", "logged_out")),
            (140, agent("ghost", "paused", "lunch")),
        ],
        QueueLog(found),
    )
    assert [(e.event, e.queue, *e.data.values()) for e in events] == [
        ("ADDMEMBER", "q", ""),
        ("ADDMEMBER", "r", ""),
        ("PAUSEALL", "NONE", "lunch"),
        ("PAUSE", "q", "lunch"),
        ("PAUSE", "r", "lunch"),
        ("PAUSEALL", "NONE", "meeting"),
        ("PAUSE", "q", "meeting"),
        ("PAUSE", "r", "meeting"),
        ("REMOVEMEMBER", "q", ""),
        ("REMOVEMEMBER", "r", ""),
    ]


def test_a_queue_made_while_an_agent_is_logged_in_is_joined_at_their_next_change() -> None:
    found = directory()
    translator = QueueLog(found)
    events = run([(100, agent("a1", "paused", "lunch"))], translator)
    assert [(e.event, e.queue) for e in events][:2] == [("ADDMEMBER", "q"), ("ADDMEMBER", "r")]
    found.put_queue(Queue("s", "S", "400"))  # a new queue a1 qualifies for
    found.drop_queue("r")
    events = run([(110, agent("a1", "available"))], translator)
    assert [(e.event, e.queue, *e.data.values()) for e in events] == [
        ("REMOVEMEMBER", "r", ""),
        ("ADDMEMBER", "s", ""),
        ("UNPAUSEALL", "NONE", ""),
        ("UNPAUSE", "q", "lunch"),
        ("UNPAUSE", "s", "lunch"),
    ]


def test_an_agent_known_at_the_start_is_not_added_again() -> None:
    translator = QueueLog(directory())
    translator.know_agent("a1", "paused", "lunch")
    events = run([(100, agent("a1", "available"))], translator)
    assert [(e.event, e.data["reason"]) for e in events] == [
        ("UNPAUSEALL", ""),
        ("UNPAUSE", "lunch"),
        ("UNPAUSE", "lunch"),
    ]


def test_strangers_text_cannot_add_fields_or_lines() -> None:
    assert clean("Ann|x\r\nEVIL\x00") == "Ann_x__EVIL_"
    assert len(clean("9" * 500)) == 100
