"""The routing engine through the centre: strategies, relaxation, overflow, priority, weights,
devices, and the explanation of every decision."""

from __future__ import annotations

import pytest

from ccgateway.domain.agents import AgentState, AgentStatus, Trigger
from ccgateway.domain.center import CallState, Center
from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    DeviceState,
    DeviceStateChanged,
)
from ccgateway.domain.model import Queue, RelaxationStep, Strategy
from tests.domain.builders import agent, centre, login, offered, talk_and_end

# --- strategies -----------------------------------------------------------------------------


def test_longest_idle_picks_the_agent_free_the_longest() -> None:
    c = centre(agent("a", {"de": 5}), agent("b", {"de": 5}), queues=(Queue("q", "q", "200"),))
    login(c, "b", "a")  # b from 1.0, a from 2.0
    assert offered(c.handle(CallWaiting("c1", "200"), 10.0)) == [("c1", "b")]
    [decision] = c.decisions
    assert decision.kind == "offer" and decision.agent_id == "b" and decision.rule == "queue q"
    assert "b has been idle longest (9.0 s)" in decision.explanation
    assert "among 2 free agent(s) meeting `true`" in decision.explanation


def test_most_skilled_picks_the_highest_levels_in_the_skills_asked_for() -> None:
    q = Queue("q", "q", "200", requirement="de >= 3 or en >= 3", strategy=Strategy.MOST_SKILLED)
    c = centre(
        agent("a", {"de": 9}),
        agent("b", {"de": 5, "en": 6, "billing": 10}),
        agent("x", {"billing": 10}),
        queues=(q,),
    )
    login(c, "a", "b", "x")
    assert offered(c.handle(CallWaiting("c1", "200"), 10.0)) == [("c1", "b")]  # 11 > 9
    assert "highest proficiency (11)" in c.decisions[-1].explanation
    assert offered(c.handle(CallWaiting("c2", "200"), 11.0)) == [("c2", "a")]
    assert offered(c.handle(CallWaiting("c3", "200"), 12.0)) == []  # x does not qualify


def test_least_occupied_picks_the_agent_who_handled_least_of_their_time() -> None:
    q = Queue("q", "q", "200", wrapup_s=0, strategy=Strategy.LEAST_OCCUPIED)
    c = centre(agent("a", {}), agent("b", {}), queues=(q,))
    login(c, "a", "b", at=0.0)
    assert offered(c.handle(CallWaiting("c1", "200"), 10.0)) == [("c1", "a")]  # both 0 %
    talk_and_end(c, "c1", 11.0, 100.0)  # a: 90 s busy of 100 s
    out = c.handle(CallWaiting("c2", "200"), 110.0)
    assert offered(out) == [("c2", "b")]  # b has never been busy, though a is idle longer
    assert "b is the least occupied (0% today)" in c.decisions[-1].explanation
    assert c.status["a"].occupancy(110.0) == pytest.approx(90 / 110)


def test_round_robin_takes_turns_in_agent_id_order() -> None:
    q = Queue("q", "q", "200", wrapup_s=0, strategy=Strategy.ROUND_ROBIN)
    c = centre(agent("a", {}), agent("b", {}), agent("c", {}), queues=(q,))
    login(c, "c", "b", "a")
    chosen = []
    for i in range(4):
        [(call, who)] = offered(c.handle(CallWaiting(f"c{i}", "200"), 10.0 + 10 * i))
        chosen.append(who)
        talk_and_end(c, call, 11.0 + 10 * i, 12.0 + 10 * i)
    assert chosen == ["a", "b", "c", "a"]


# --- requirements, relaxation, overflow -------------------------------------------------------


def test_requirement_expressions_use_attributes() -> None:
    q = Queue("vip", "vip", "200", {"de": 3}, requirement='team == "vip" or billing >= 8')
    c = centre(
        agent("plain", {"de": 9}),
        agent("vip", {"de": 3}, team="vip"),
        agent("biller", {"de": 3, "billing": 8}),
        queues=(q,),
    )
    login(c, "plain", "vip", "biller")
    picks = [offered(c.handle(CallWaiting(f"c{i}", "200"), 10.0 + i)) for i in range(3)]
    assert picks == [[("c0", "vip")], [("c1", "biller")], []]
    assert c.calls["c2"].state is CallState.WAITING


def test_relaxation_widens_the_pool_for_callers_already_waiting() -> None:
    q = Queue(
        "sales",
        "sales",
        "200",
        {"de": 8},
        relaxation=(RelaxationStep(30, requirement="de >= 1"),),
    )
    c = centre(agent("junior", {"de": 2}), queues=(q,))
    login(c, "junior")
    assert offered(c.handle(CallWaiting("c1", "200"), 10.0)) == []
    assert c.next_deadline() == 40.0
    assert offered(c.tick(39.9)) == []
    assert offered(c.tick(40.0)) == [("c1", "junior")]
    relax, offer = list(c.decisions)
    assert (relax.kind, relax.rule, relax.explanation) == (
        "relax",
        "queue sales step 1: after 30 s",
        "now needs de >= 1",
    )
    assert offer.rule == "queue sales step 1" and "meeting `de >= 1`" in offer.explanation


def test_overflow_moves_the_caller_and_keeps_their_place() -> None:
    main = Queue(
        "main", "main", "200", {"de": 9}, relaxation=(RelaxationStep(60, overflow_to="backup"),)
    )
    backup = Queue("backup", "backup", "300", {"en": 1})
    c = centre(agent("e", {"en": 5}), queues=(main, backup))
    c.handle(CallWaiting("early", "200"), 0.0)
    c.handle(CallWaiting("backup-own", "300"), 30.0)
    out = c.tick(60.0)
    assert offered(out) == [] and c.calls["early"].queue_id == "backup"
    assert c.decisions[-1].kind == "overflow" and c.decisions[-1].queue_id == "backup"
    # e logs in: the overflowed caller arrived first, so is served first.
    assert offered(login(c, "e", at=70.0)) == [("early", "e")]


def test_overflow_carries_earned_priority_and_boosts_rank_callers() -> None:
    q = Queue(
        "q",
        "q",
        "200",
        {"de": 9},
        relaxation=(RelaxationStep(10, priority_boost=5), RelaxationStep(20, overflow_to="o")),
    )
    o = Queue("o", "o", "300", priority=1)
    c = centre(queues=(q, o))
    c.handle(CallWaiting("c1", "200"), 0.0)
    c.tick(25.0)
    assert c.calls["c1"].queue_id == "o" and c.engine.waiting("c1").priority == 5  # type: ignore[union-attr]


# --- priority and cross-queue fairness ------------------------------------------------------


def test_higher_priority_goes_first_and_can_be_raised_while_waiting() -> None:
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200", wrapup_s=0),))
    c.handle(CallWaiting("old", "200"), 0.0)
    c.handle(CallWaiting("vip", "200", priority=10), 5.0)
    c.handle(CallWaiting("later", "200"), 6.0)
    assert c.waiting == ["vip", "old", "later"]
    c.set_call_priority("later", 20, 7.0)
    assert offered(login(c, "a", at=8.0)) == [("later", "a")]
    assert "priority 20" in c.decisions[-1].explanation
    with pytest.raises(InvalidValue, match="0-100"):
        c.set_call_priority("old", 101, 9.0)


def test_an_agent_in_two_queues_takes_the_longest_weighted_wait() -> None:
    heavy = Queue("heavy", "heavy", "200", weight=3.0, wrapup_s=0)
    light = Queue("light", "light", "300", wrapup_s=0)
    c = centre(agent("a", {}), queues=(heavy, light))
    c.handle(CallWaiting("light-1", "300"), 0.0)  # at 40 s: waited 40 s x 1
    c.handle(CallWaiting("heavy-1", "200"), 20.0)  # at 40 s: waited 20 s x 3 = 60
    assert offered(login(c, "a", at=40.0)) == [("heavy-1", "a")]
    assert "ranked first of 2 waiting class(es)" in c.decisions[-1].explanation
    talk_and_end(c, "heavy-1", 41.0, 42.0)  # at 42: light 42 x 1 beats nothing else
    assert c.calls["light-1"].agent_id == "a"


# --- availability follows the phone --------------------------------------------------------


@pytest.mark.parametrize(
    "state", [DeviceState.UNAVAILABLE, DeviceState.IN_USE, DeviceState.RINGING]
)
def test_an_unregistered_or_busy_phone_is_never_offered_a_call(state: DeviceState) -> None:
    c = centre(agent("a", {}), queues=(Queue("q", "q", "200"),))
    login(c, "a")
    c.handle(DeviceStateChanged("PJSIP/a", state), 2.0)
    assert offered(c.handle(CallWaiting("c1", "200"), 3.0)) == []
    out = c.handle(DeviceStateChanged("PJSIP/a", DeviceState.AVAILABLE), 4.0)
    assert offered(out) == [("c1", "a")]


# --- configuration checks ------------------------------------------------------------------


def test_overflow_targets_must_exist_and_not_loop() -> None:
    c = centre(queues=(Queue("a", "a", "200"),))
    with pytest.raises(InvalidValue, match="unknown queue 'nowhere'"):
        c.put_queue(
            Queue("b", "b", "300", relaxation=(RelaxationStep(5, overflow_to="nowhere"),)), 0.0
        )
    c.put_queue(Queue("b", "b", "300", relaxation=(RelaxationStep(5, overflow_to="a"),)), 0.0)
    loop = Queue("a", "a", "200", relaxation=(RelaxationStep(5, overflow_to="b"),))
    with pytest.raises(InvalidValue, match="leads back to itself"):
        c.put_queue(loop, 0.0)
    with pytest.raises(Conflict, match="overflow target of: b"):
        c.remove_queue("a")
    with pytest.raises(InvalidValue, match="overflow to itself"):
        Queue("s", "s", "1", relaxation=(RelaxationStep(5, overflow_to="s"),))


def test_skills_named_in_expressions_must_exist_and_stay() -> None:
    c = centre(queues=())
    with pytest.raises(InvalidValue, match="unknown skill"):
        c.put_queue(Queue("q", "q", "200", requirement="fr >= 2"), 0.0)
    c.put_queue(Queue("q", "q", "200", relaxation=(RelaxationStep(9, requirement="en"),)), 0.0)
    with pytest.raises(Conflict, match="still used by: q"):
        c.remove_skill("en")


def test_relaxation_steps_must_be_ordered_and_change_something() -> None:
    with pytest.raises(InvalidValue, match="strictly increasing"):
        Queue("q", "q", "1", relaxation=(RelaxationStep(30, "de"), RelaxationStep(10, "en")))
    with pytest.raises(InvalidValue, match="must change something"):
        RelaxationStep(30)
    with pytest.raises(InvalidValue, match="at column"):
        Queue("q", "q", "1", requirement="de >=")


def test_changing_a_queue_refiles_its_waiting_callers() -> None:
    c = centre(agent("a", {"de": 2}), queues=(Queue("q", "q", "200", {"de": 5}),))
    login(c, "a")
    c.handle(CallWaiting("c1", "200"), 10.0)
    out = c.put_queue(Queue("q", "q", "200", {"de": 2}), 20.0)
    assert offered(out) == [("c1", "a")]


def test_an_agent_whose_skills_change_joins_the_right_pools() -> None:
    c = centre(agent("a", {"de": 2}), queues=(Queue("q", "q", "200", {"de": 5}),))
    login(c, "a")
    c.handle(CallWaiting("c1", "200"), 10.0)
    out = c.put_agent(agent("a", {"de": 6}), 20.0)
    assert offered(out) == [("c1", "a")]


# --- occupancy -----------------------------------------------------------------------------


def test_occupancy_counts_busy_over_busy_plus_available_and_ignores_pauses() -> None:
    s = AgentStatus(since=0.0, idle_since=0.0, counted_at=0.0)
    s.apply(Trigger.MAKE_AVAILABLE, 0.0)  # available 0-10
    s.apply(Trigger.OFFER, 10.0)  # reserved 10-12
    s.apply(Trigger.ANSWER, 12.0)  # talking 12-40
    s.apply(Trigger.HANG_UP, 40.0)  # wrap-up 40-50
    s.apply(Trigger.PAUSE, 50.0)  # paused 50-1000: counts neither way
    assert s.occupancy(1000.0) == pytest.approx(40 / 50)
    s.reset_counters(1000.0)
    assert s.occupancy(2000.0) == 0.0


# --- last-agent routing ----------------------------------------------------------------------


def returning_caller_centre(wait_s: float = 20.0) -> Center:
    q = Queue("q", "q", "200", wrapup_s=0, last_agent_wait_s=wait_s, last_agent_within_s=3600)
    c = centre(agent("a", {}), agent("b", {}), queues=(q,))
    login(c, "a", "b")
    c.handle(CallWaiting("first", "200", "+4930777"), 10.0)  # to a: idle longest
    talk_and_end(c, "first", 11.0, 60.0)
    assert c.last_agent["+4930777"] == ("a", 60.0)
    return c


def test_a_returning_caller_is_offered_to_their_last_agent_even_if_others_idle_longer() -> None:
    c = returning_caller_centre()
    out = c.handle(CallWaiting("again", "200", "+4930777"), 100.0)
    assert offered(out) == [("again", "a")]  # b has been idle longer
    assert c.decisions[-1].rule == "queue q: last agent"


def test_a_returning_caller_waits_for_a_busy_last_agent_then_anyone_takes_them() -> None:
    c = returning_caller_centre(wait_s=20.0)
    c.handle(CallWaiting("other", "200", "+4930111"), 70.0)
    assert c.calls["other"].agent_id == "b"  # b has idled longest
    c.handle(CallWaiting("x", "200", "+4930222"), 71.0)
    c.handle(AgentLegAnswered(c.calls["x"].leg_id or ""), 71.5)  # a talks to x
    talk_and_end(c, "other", 72.0, 75.0)  # b is free again, a is still talking
    out = c.handle(CallWaiting("again", "200", "+4930777"), 80.0)
    assert offered(out) == [] and c.next_deadline() == 100.0  # kept for a, b stays idle
    out = c.tick(100.0)
    assert offered(out) == [("again", "b")]
    assert [d.kind for d in c.decisions][-2:] == ["release", "offer"]


def test_no_last_agent_routing_when_off_too_old_or_the_agent_is_paused() -> None:
    c = returning_caller_centre()
    c.set_agent_state("a", AgentState.PAUSED, "lunch", 61.0)
    assert c.calls == {} and offered(c.handle(CallWaiting("p", "200", "+4930777"), 62.0)) == [
        ("p", "b")
    ]
    old = returning_caller_centre()
    assert offered(old.handle(CallWaiting("late", "200", "+4930777"), 60.0 + 3601)) == [
        ("late", "b")
    ]
    off = returning_caller_centre(wait_s=0.0)
    assert offered(off.handle(CallWaiting("o", "200", "+4930777"), 100.0)) == [("o", "b")]
