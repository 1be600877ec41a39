"""A queue's rules for its callers: hours, length, staffing and max wait, each with its
action; announcements of position and expected wait."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.calendar import Hours
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.commands import (
    Announce,
    Command,
    Outcome,
    PlayMessage,
    RecordInteraction,
    SendToFallback,
    SendToVoicemail,
)
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    ChannelHungUp,
    PbxResynced,
    VoicemailEnded,
)
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.model import Queue
from ccgateway.domain.queue_policy import (
    ActionKind,
    Announcements,
    Limits,
    QueueAction,
)
from tests.domain.builders import agent, centre, login, offered, talk_and_end

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN).timestamp()
MONDAY_20 = datetime(2026, 11, 30, 20, 0, tzinfo=BERLIN).timestamp()


def records(out: list[Command]) -> list[tuple[str, Outcome, str]]:
    return [
        (r.interaction.call_id, r.interaction.outcome, r.interaction.detail)
        for r in out
        if isinstance(r, RecordInteraction)
    ]


def of(kind: type, out: list[Command]) -> list[Command]:
    return [c for c in out if isinstance(c, kind)]


VOICEMAIL = QueueAction(ActionKind.VOICEMAIL, "200@ccgw")


def test_outside_hours_a_caller_hears_the_closed_message_and_is_not_queued() -> None:
    hours = Hours("Europe/Berlin", {"mon": ("08:00-18:00",)})
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200", hours=hours),))
    login(c, "a", at=MONDAY_9 - 100)
    out = c.handle(CallWaiting("night", "200", "+4930111"), MONDAY_20)
    assert of(PlayMessage, out) == [PlayMessage("night", "im-sorry&please-try-call-later")]
    assert records(out) == [
        ("night", Outcome.CLOSED, "closed: message im-sorry&please-try-call-later")
    ]
    assert c.calls == {} and offered(out) == []
    # Within hours the same caller is offered to the agent.
    assert offered(c.handle(CallWaiting("day", "200"), MONDAY_9)) == [("day", "a")]


def test_a_full_queue_sends_new_callers_on_and_keeps_those_already_waiting() -> None:
    q = Queue("q", "q", "200", limits=Limits(max_waiting=2, on_full=VOICEMAIL))
    c = centre(queues=(q,))
    c.handle(CallWaiting("c1", "200"), 1.0)
    c.handle(CallWaiting("c2", "200"), 2.0)
    out = c.handle(CallWaiting("c3", "200"), 3.0)
    assert of(SendToVoicemail, out) == [SendToVoicemail("c3", "200@ccgw")]
    assert records(out) == []  # written when the PBX says how the voicemail went
    out = c.handle(VoicemailEnded("c3"), 40.0)
    assert records(out) == [("c3", Outcome.REFUSED, "full (2 waiting): voicemail 200@ccgw")]
    assert c.handle(ChannelHungUp("c3"), 41.0) == []  # written once
    assert sorted(c.calls) == ["c1", "c2"]
    assert c.decisions[-1].kind == "action" and c.decisions[-1].rule == "queue q: full (2 waiting)"


def test_a_voicemail_the_pbx_could_not_take_is_recorded_as_failed() -> None:
    q = Queue("q", "q", "200", {"de": 5}, limits=Limits(on_no_agents=VOICEMAIL))
    c = centre(queues=(q,))  # nobody logged in: callers go to voicemail
    c.handle(CallWaiting("c1", "200"), 1.0)
    out = c.handle(VoicemailEnded("c1", "no VoiceMail application on the PBX"), 1.2)
    assert records(out) == [
        (
            "c1",
            Outcome.REFUSED,
            "no qualified agent logged in: voicemail 200@ccgw: failed (no VoiceMail application"
            " on the PBX)",
        )
    ]
    assert c.decisions[-1].rule == "voicemail" and "could not take" in c.decisions[-1].explanation
    assert c.handle(ChannelHungUp("c1"), 1.3) == []


def test_a_resync_writes_the_records_of_callers_left_in_voicemail() -> None:
    q = Queue("q", "q", "200", {"de": 5}, limits=Limits(on_no_agents=VOICEMAIL))
    c = centre(queues=(q,))  # nobody logged in: callers go to voicemail
    c.handle(CallWaiting("c1", "200"), 1.0)
    out = c.handle(PbxResynced(), 30.0)  # the link was lost: how it went is unknown
    assert records(out) == [
        ("c1", Outcome.REFUSED, "no qualified agent logged in: voicemail 200@ccgw")
    ]


def test_with_nobody_logged_in_callers_go_to_another_queue_keeping_their_place() -> None:
    main = Queue(
        "main",
        "main",
        "200",
        {"de": 5},
        limits=Limits(on_no_agents=QueueAction(ActionKind.QUEUE, "backup")),
    )
    backup = Queue("backup", "backup", "300")
    c = centre(agent("de", {"de": 9}), agent("any", {}), queues=(main, backup))
    c.handle(CallWaiting("early", "300"), 1.0)  # waits in backup, nobody logged in
    out = c.handle(CallWaiting("moved", "200"), 0.5)  # arrived earlier, sent to backup
    assert c.calls["moved"].queue_id == "backup" and records(out) == []
    # The generalist logs in: the moved caller, who arrived first, goes first.
    assert offered(login(c, "any", at=5.0)) == [("moved", "any")]


def test_callers_waiting_when_the_last_qualified_agent_logs_out_are_sent_on() -> None:
    q = Queue("q", "q", "200", {"de": 5}, limits=Limits(on_no_agents=VOICEMAIL))
    c = centre(agent("a", {"de": 9}), agent("x", {}), queues=(q,))
    login(c, "a", "x")
    c.set_agent_state("a", AgentState.PAUSED, "lunch", 5.0)
    c.handle(CallWaiting("c1", "200"), 10.0)  # a is paused: logged in, so the caller waits
    assert c.calls["c1"].state is CallState.WAITING
    out = c.set_agent_state("a", AgentState.LOGGED_OUT, None, 20.0)
    assert of(SendToVoicemail, out) == [SendToVoicemail("c1", "200@ccgw")]
    out = c.handle(ChannelHungUp("c1"), 50.0)  # a PBX that says nothing: the hang-up
    assert records(out) == [
        ("c1", Outcome.UNSTAFFED, "no qualified agent logged in: voicemail 200@ccgw")
    ]
    # x logging out changes nothing for other queues' callers (and there are none).
    assert c.set_agent_state("x", AgentState.LOGGED_OUT, None, 21.0)[1:] == []


def test_max_wait_sends_a_caller_on_unless_an_agent_is_ringing_for_them() -> None:
    q = Queue("q", "q", "200", limits=Limits(max_wait_s=60))
    c = centre(agent("a", {}), queues=(q,))
    c.handle(CallWaiting("c1", "200"), 0.0)
    assert c.next_deadline() == 60.0
    login(c, "a", at=55.0)  # a's phone rings for c1 at 55 s ...
    assert c.calls["c1"].state is CallState.OFFERING
    assert records(c.tick(60.0)) == []  # ... so the max wait waits for the verdict
    c.handle(AgentLegAnswered(c.calls["c1"].leg_id or ""), 61.0)
    assert c.calls["c1"].state is CallState.CONNECTED

    c.handle(CallWaiting("c2", "200"), 100.0)
    out = c.tick(160.0)
    assert of(SendToFallback, out) == [SendToFallback("c2", "waited 60 s")]
    assert records(out) == [("c2", Outcome.TIMED_OUT, "waited 60 s: fallback")]


def test_queue_actions_that_go_round_end_in_the_fallback() -> None:
    a = Queue("a", "a", "200", limits=Limits(max_waiting=1, on_full=QueueAction("queue", "b")))
    b = Queue("b", "b", "201", limits=Limits(max_waiting=1, on_full=QueueAction("queue", "c")))
    cq = Queue("c", "c", "202", limits=Limits(max_waiting=1))
    c = centre(queues=(a, b, cq))
    for i, ext in enumerate(("200", "201", "202")):
        c.handle(CallWaiting(f"w{i}", ext), float(i))
    out = c.handle(CallWaiting("late", "200"), 10.0)  # a full -> b full -> c full -> fallback
    assert of(SendToFallback, out) == [SendToFallback("late", "full (1 waiting)")]
    assert [d.rule for d in c.decisions if d.call_id == "late"] == [
        "queue a: full (1 waiting)",
        "queue b: full (1 waiting)",
        "queue c: full (1 waiting)",
    ]


def test_limit_actions_are_checked_when_the_queue_is_saved() -> None:
    c = centre(queues=(Queue("a", "a", "200"),))
    to_b = Limits(on_full=QueueAction(ActionKind.QUEUE, "b"))
    with pytest.raises(InvalidValue, match="unknown queue 'b'"):
        c.put_queue(Queue("a", "a", "200", limits=to_b), 1.0)
    with pytest.raises(InvalidValue, match="the queue itself"):
        Queue("a", "a", "200", limits=Limits(on_full=QueueAction(ActionKind.QUEUE, "a")))
    c.put_queue(Queue("b", "b", "201", limits=Limits(on_full=QueueAction("queue", "a"))), 1.0)
    with pytest.raises(InvalidValue, match="leads back"):
        c.put_queue(Queue("a", "a", "200", limits=to_b), 1.0)
    for bad, message in [
        (("voicemail", None), "mailbox"),
        (("voicemail", "2,0"), "mailbox"),
        (("message", "../../etc/passwd"), "sound"),
        (("message", "hello\nAction: Originate"), "sound"),
        (("fallback", "x"), "takes no target"),
        (("elsewhere", None), "elsewhere"),
    ]:
        with pytest.raises(InvalidValue, match=message):
            QueueAction(*bad)  # type: ignore[arg-type]


# --- announcements --------------------------------------------------------------------------


def test_waiting_callers_hear_their_position_at_the_queue_s_times() -> None:
    announce = Announcements(position=True, wait_time=True, first_s=20, every_s=30)
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200", wrapup_s=0, announce=announce),))
    c.handle(CallWaiting("c1", "200", "+491"), 0.0)
    c.handle(CallWaiting("c2", "200", "+492"), 5.0)
    c.handle(CallWaiting("vip", "200", "+493", priority=9), 10.0)
    out = c.tick(20.0)
    assert of(Announce, out) == [Announce("c1", "200", 2, None, None, False)]  # vip goes first
    assert c.next_deadline() == 25.0
    assert of(Announce, c.tick(25.0)) == [Announce("c2", "200", 3, None, None, False)]
    assert of(Announce, c.tick(30.0)) == [Announce("vip", "200", 1, None, None, False)]
    assert of(Announce, c.tick(50.0)) == [Announce("c1", "200", 2, None, None, False)]  # every 30 s


def test_the_expected_wait_comes_from_how_fast_the_queue_moves() -> None:
    announce = Announcements(wait_time=True, first_s=5, every_s=600)
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200", wrapup_s=0, announce=announce),))
    login(c, "a", at=0.0)
    # A backlog served one caller every 100 s: the service rate is 1/100 s.
    now = 1.0
    for i in range(6):
        c.handle(CallWaiting(f"b{i}", "200"), now)
    for i in range(6):
        talk_and_end(c, f"b{i}", now + 1, now + 100)
        now += 100
    c.set_agent_state("a", AgentState.PAUSED, "break", now)
    c.handle(CallWaiting("x", "200"), now + 1)
    c.handle(CallWaiting("y", "200"), now + 2)
    [first] = of(Announce, c.tick(now + 6))
    [second] = of(Announce, c.tick(now + 7))
    assert isinstance(first, Announce) and isinstance(second, Announce)
    assert first.wait_s is not None and second.wait_s is not None
    assert 80 < first.wait_s < 130  # one move at ~1/100 s
    assert second.wait_s == pytest.approx(2 * first.wait_s, rel=0.05)  # two moves


def test_the_callback_offer_is_made_only_to_callers_whose_number_is_known() -> None:
    announce = Announcements(position=True, first_s=10, offer_callback=True)
    c: Center = centre(queues=(Queue("q", "q", "200", announce=announce),))
    c.handle(CallWaiting("known", "200", "+4930123"), 0.0)
    c.handle(CallWaiting("anonymous", "200", ""), 0.0)
    offers = {a.call_id: a.offer_callback for a in of(Announce, c.tick(10.0))}  # type: ignore[attr-defined]
    assert offers == {"known": True, "anonymous": False}


def test_no_callback_is_offered_on_a_pbx_that_cannot_call_back() -> None:
    """ "Press 1" would do nothing there: the centre ignores the key from such a PBX."""
    announce = Announcements(position=True, first_s=10, offer_callback=True)
    c: Center = centre(queues=(Queue("q", "q", "200", announce=announce),))
    c.drive_pbx("asterisk", FEATURES - {"callback"})
    c.handle(CallWaiting("known", "200", "+4930123"), 0.0)
    [said] = of(Announce, c.tick(10.0))
    assert said == Announce("known", "200", 1, None, None, False)


def test_an_answered_caller_hears_no_more_announcements() -> None:
    announce = Announcements(position=True, first_s=10, every_s=15)
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200", announce=announce),))
    c.handle(CallWaiting("c1", "200"), 0.0)
    assert of(Announce, c.tick(10.0))
    login(c, "a", at=12.0)
    c.handle(AgentLegAnswered(c.calls["c1"].leg_id or ""), 13.0)
    assert of(Announce, c.tick(100.0)) == []
    c.handle(ChannelHungUp("c1"), 120.0)
    assert c.next_deadline() == 130.0  # only the wrap-up is left
