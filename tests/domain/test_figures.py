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
