from dataclasses import replace

import pytest

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.figures import FigureRules, Figures


def call(queue: str | None, outcome: Outcome, wait: float, talk: float = 0.0) -> Interaction:
    return Interaction("c", queue, None, "", outcome, 0.0, None, wait + talk, wait, talk, 1)


def test_figures_follow_the_stated_definitions() -> None:
    figures = Figures(FigureRules(service_level_s=20, short_abandon_s=5))
    figures.add_all(
        [
            call("q", Outcome.ANSWERED, 10, 100),  # in time
            call("q", Outcome.ANSWERED, 30, 200),  # late
            call("q", Outcome.ABANDONED, 40),  # counts against service level
            call("q", Outcome.ABANDONED, 3),  # short: excluded
            call("q", Outcome.TIMED_OUT, 900),
            call(None, Outcome.REJECTED, 0),  # never reached a queue
            call("other", Outcome.ANSWERED, 1, 1),
        ]
    )
    f = figures.queue("q")
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned, f.timed_out) == (4, 2, 1, 1, 1)
    assert f.service_level == 0.25  # 1 of 4 offered answered within 20 s
    assert (f.asa_s, f.aht_s, f.abandonment_rate) == (20.0, 150.0, 0.25)
    assert f.longest_wait_answered_s == 30.0
    assert figures.queue_ids() == ["other", "q"]


def test_a_queue_without_calls_has_no_ratios_rather_than_zeros() -> None:
    f = Figures().queue("quiet")
    assert (f.offered, f.service_level, f.asa_s, f.abandonment_rate) == (0, None, None, None)


def record(
    outcome: Outcome,
    wait: float,
    talk: float = 0.0,
    agent: str | None = None,
    kind: str = "inbound",
    channel: str = "voice",
) -> Interaction:
    answered = wait if talk else None
    return Interaction(
        "c", "q", agent, "", outcome, 0.0, answered, wait + talk, wait, talk, 1,
        kind=kind, channel=channel,
    )  # fmt: skip


def test_what_counts_as_offered_answered_and_apart() -> None:
    figures = Figures(FigureRules(service_level_s=20, short_abandon_s=5))
    figures.add_all(
        [
            record(Outcome.TRANSFERRED, 8, 60, "a"),  # answered here, then sent on
            record(Outcome.UNSTAFFED, 50),  # offered, never answered
            record(Outcome.CLOSED, 0),  # deflected at arrival
            record(Outcome.REFUSED, 0),
            record(Outcome.CALLBACK, 30),  # left the line: counted when called back
            record(Outcome.ANSWERED, 300, 90, "b", kind="callback"),
            record(Outcome.NOT_REACHED, 600, kind="callback"),
            record(Outcome.COMPLETED, 12, 240, "a", kind="task", channel="chat"),
            record(Outcome.CANCELLED, 100, kind="task", channel="email"),
        ]
    )
    f = figures.queue("q")
    assert (f.offered, f.answered, f.unstaffed, f.deflected) == (2, 1, 1, 2)
    assert f.service_level == 0.5 and f.aht_s == 60.0
    assert (f.callbacks_requested, f.callbacks_completed, f.callbacks_not_reached) == (1, 1, 1)
    assert (f.tasks_completed, f.tasks_cancelled, f.task_asa_s, f.task_aht_s) == (1, 1, 12.0, 240.0)
    a, b = figures.agent("a"), figures.agent("b")
    assert (a.calls_answered, a.transfers, a.tasks_completed, a.task_aht_s) == (1, 1, 1, 240.0)
    assert (b.calls_answered, b.callbacks, b.aht_s) == (1, 1, 90.0)
    assert figures.agent("nobody").aht_s is None


@pytest.mark.parametrize(
    ("outcome", "counted"), [(Outcome.REDIRECTED, (2, 0)), (Outcome.CUT_OFF, (0, 2))]
)
def test_a_caller_taken_out_of_the_centres_hands_counts_there_and_nowhere_else(
    outcome: Outcome, counted: tuple[int, int]
) -> None:
    day = [
        record(Outcome.ANSWERED, 10, 100, "a"),
        record(Outcome.ABANDONED, 40),
        record(Outcome.CLOSED, 0),
        record(Outcome.CALLBACK, 30),
    ]
    before, after = Figures(), Figures()
    before.add_all(day)
    after.add_all([*day, record(outcome, 45), record(outcome, 2)])  # a short wait too
    found = after.queue("q")
    assert (found.redirected, found.cut_off) == counted
    assert replace(found, redirected=0, cut_off=0) == before.queue("q")  # nothing else moved
    assert after.agent("a") == before.agent("a")
