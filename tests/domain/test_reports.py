"""Interval reports' pure core: buckets grouped into the centre's wall-clock intervals
(across clock changes), and the fold of records and agents' states into tallies."""

from __future__ import annotations

from datetime import datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from ccgateway.api.routes.reports import IntervalName
from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.figures import FigureRules, Figures, QueueTally, queue_figures
from ccgateway.domain.outbound.campaigns import DialMode, DialOutcome
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.outbound.scripts import Question, QuestionKind, Script
from ccgateway.domain.reports import (
    BUCKET_S,
    AbandonDefinition,
    Interval,
    ReportFold,
    activity_figures,
    campaign_figures,
    interval,
    label_of,
    merge,
    segment_label,
    segments,
    span,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp())


def grouped(kind: Interval, start: int, end: int, tz: ZoneInfo) -> dict[int, int]:
    """Buckets per interval start, as the store groups them: by segment and key."""
    out: dict[int, int] = {}
    for segment in segments(kind, start, end, tz):
        for bucket in range(segment.start, segment.end, BUCKET_S):
            label = segment_label(kind, segment, segment.key(bucket), tz)
            out[label] = out.get(label, 0) + 1
    return out


@pytest.mark.parametrize("kind", list(Interval))
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"])
def test_the_stores_grouping_agrees_with_the_definition_through_a_year(
    kind: Interval, zone: str
) -> None:
    tz = ZoneInfo(zone)
    start, end = at("2026-01-01T00:00", tz), at("2027-01-01T00:00", tz)
    by_segment = grouped(kind, start, end, tz)
    by_definition: dict[int, int] = {}
    for bucket in range(start, end, BUCKET_S):
        label = label_of(kind, bucket, tz)
        by_definition[label] = by_definition.get(label, 0) + 1
    assert by_segment == by_definition


def test_days_of_23_and_25_hours_in_berlin() -> None:
    march = grouped(Interval.DAY, at("2026-03-28T00:00"), at("2026-03-31T00:00"), BERLIN)
    assert march == {
        at("2026-03-28T00:00"): 96,
        at("2026-03-29T00:00"): 92,  # 02:00 became 03:00
        at("2026-03-30T00:00"): 96,
    }
    october = grouped(Interval.DAY, at("2026-10-25T00:00"), at("2026-10-26T00:00"), BERLIN)
    assert october == {at("2026-10-25T00:00"): 100}


def test_the_hour_that_happens_twice_is_two_intervals() -> None:
    start = at("2026-10-25T01:00")
    hours = grouped(Interval.HOUR, start, start + 4 * 3600, BERLIN)
    assert sorted(hours) == [start, start + 3600, start + 7200, start + 10800]
    assert all(count == 4 for count in hours.values())
    local = [datetime.fromtimestamp(h, BERLIN).strftime("%H:%M%z") for h in sorted(hours)]
    assert local == ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100"]


def test_iso_weeks_start_on_monday_and_months_on_the_first() -> None:
    start, end = at("2026-03-01T00:00"), at("2026-05-01T00:00")
    weeks = grouped(Interval.WEEK, start, end, BERLIN)
    assert all(datetime.fromtimestamp(w, BERLIN).weekday() == 0 for w in list(weeks)[1:])
    assert weeks[at("2026-03-23T00:00")] == 7 * 96 - 4  # the week of the clock change
    months = grouped(Interval.MONTH, start, end, BERLIN)
    assert months == {at("2026-03-01T00:00"): 31 * 96 - 4, at("2026-04-01T00:00"): 30 * 96}


def test_a_range_is_checked() -> None:
    with pytest.raises(InvalidValue, match="after 'from'"):
        span(Interval.DAY, 2e9, 2e9, BERLIN)
    with pytest.raises(InvalidValue, match="at most 10000"):
        span(Interval.MIN15, 2e9, 2e9 + 200 * 86400, BERLIN)
    with pytest.raises(InvalidValue, match="3 years"):
        span(Interval.MONTH, 2e9, 2e9 + 4 * 366 * 86400, BERLIN)
    found = span(Interval.DAY, 2e9 + 1, 2e9 + 86400, BERLIN)
    assert found.start % BUCKET_S == 0 and found.end % BUCKET_S == 0


def call(ended: float, outcome: Outcome, wait: float, talk: float = 0.0) -> Interaction:
    answered = ended - talk if outcome in (Outcome.ANSWERED, Outcome.TRANSFERRED) else None
    return Interaction(
        "c", "q", "a1" if answered else None, "+1", outcome, ended - talk - wait, answered,
        ended, wait, talk, 1,
    )  # fmt: skip


def test_summed_buckets_give_the_figures_of_the_whole() -> None:
    rules = FigureRules(service_level_s=20, short_abandon_s=5)
    records = [
        call(1_800_000_000 + i * 300, outcome, wait, talk)
        for i, (outcome, wait, talk) in enumerate(
            [
                (Outcome.ANSWERED, 10, 100),
                (Outcome.ANSWERED, 40, 200),
                (Outcome.ABANDONED, 3, 0),
                (Outcome.ABANDONED, 30, 0),
                (Outcome.TRANSFERRED, 5, 50),
                (Outcome.TIMED_OUT, 120, 0),
                (Outcome.REDIRECTED, 15, 0),
                (Outcome.CUT_OFF, 25, 0),
            ]
        )
    ]
    fold, live = ReportFold(rules), Figures(rules)
    for record in records:
        fold.add_interaction(record)
        live.add(record)
    deltas = fold.take(1_800_010_000)
    assert len({bucket for _, bucket in deltas.queues}) > 1
    total = QueueTally()
    for tally in deltas.queues.values():
        merge(total, tally)
    assert queue_figures("q", total) == live.queue("q")
    assert total.transferred == 1 and total.longest_wait_answered_s == 40
    assert (total.redirected, total.cut_off, total.offered) == (1, 1, 5)


def test_agent_time_is_split_at_bucket_boundaries_with_logins_and_pauses() -> None:
    fold = ReportFold(FigureRules())
    t0 = 1_800_000_000 - 1_800_000_000 % BUCKET_S
    fold.agent_state("a1", AgentState.LOGGED_OUT, None, t0)
    fold.agent_state("a1", AgentState.AVAILABLE, None, t0 + 600)
    fold.agent_state("a1", AgentState.ON_CALL, None, t0 + 1200)
    fold.agent_state("a1", AgentState.WRAP_UP, None, t0 + 1500)
    fold.agent_state("a1", AgentState.PAUSED, "lunch", t0 + 1560)
    fold.agent_state("a1", AgentState.PAUSED, "lunch", t0 + 1600)  # the same: nothing
    fold.agent_state("a1", AgentState.PAUSED, "training", t0 + 1800)
    fold.agent_state("a1", AgentState.LOGGED_OUT, None, t0 + 2000)
    deltas = fold.take(t0 + 5000)
    first, second, third = (deltas.activity[("a1", t0 + i * BUCKET_S)] for i in range(3))
    assert (first.available_s, first.logins) == (300, 1)
    assert (second.available_s, second.on_call_s, second.wrap_up_s) == (300, 300, 60)
    assert second.paused_s == 240 and third.paused_s == 200 and third.logouts == 1
    assert deltas.pauses[("a1", t0 + BUCKET_S, "lunch")] == 240
    assert deltas.pauses[("a1", t0 + 2 * BUCKET_S, "training")] == 200
    figures = activity_figures(merge(merge(first, second), third), calls_answered=1)
    assert figures.occupancy == round(360 / 960, 4) and figures.acw_per_call_s == 60
    assert figures.logged_in_s == 600 + 300 + 60 + 440


def test_open_states_are_counted_up_to_each_take() -> None:
    fold = ReportFold(FigureRules())
    fold.agent_state("a1", AgentState.AVAILABLE, None, 1000.0)
    first = fold.take(1900.0).activity
    assert (first[("a1", 900)].available_s, first[("a1", 1800)].available_s) == (800, 100)
    second = fold.take(2000.0).activity
    assert list(second) == [("a1", 1800)] and second[("a1", 1800)].available_s == 100


def dial(outcome: DialOutcome, ended: float, **times: float) -> DialRecord:
    return DialRecord(
        "d", "camp", "k", "+1", "UK", DialMode.PREDICTIVE, "+2", ended - 60, ended, outcome,
        **times,  # type: ignore[arg-type]
    )  # fmt: skip


def test_campaign_results_with_the_rule_sets_abandon_definition() -> None:
    fold = ReportFold(FigureRules())
    end = 1_800_000_000.0
    fold.add_dial(dial(DialOutcome.CONNECTED, end, live_at=end - 50, connected_at=end - 49))
    fold.add_dial(dial(DialOutcome.ABANDONED, end, live_at=end - 50))
    fold.add_dial(dial(DialOutcome.MACHINE, end))
    fold.add_dial(dial(DialOutcome.SKIPPED, end))
    script = Script(
        "Ask them.",
        (
            Question("happy", "Happy?", QuestionKind.YES_NO),
            Question("score", "Score", QuestionKind.SCALE, minimum=1, maximum=5),
            Question("note", "Note", QuestionKind.TEXT),
        ),
    )
    answers = {"happy": True, "score": 4, "note": "call me at 5 +44..."}
    fold.add_disposition(DispositionRecord("d", "camp", "k", "a1", "sale", end, answers), script)
    deltas = fold.take(end)
    [tally] = deltas.campaigns.values()
    uk = campaign_figures(tally, AbandonDefinition(count_machines=True, share=0.5))
    assert (uk.dials, uk.live, uk.connect_rate, uk.dispositions) == (3, 2, round(1 / 3, 4), 1)
    assert uk.abandon_rate == round(1.5 / 2.5, 4)
    assert campaign_figures(tally, AbandonDefinition()).abandon_rate == 0.5
    assert uk.talk_s == 49 and uk.wait_mean_s == 1 and uk.outcomes["skipped"] == 1
    counts = {what: (c.count, c.total) for (_, _, what), c in deltas.counts.items()}
    assert counts == {
        "disposition:sale": (1, 0),
        "answer:happy": (1, 0),
        "answer:happy=yes": (1, 0),
        "answer:score": (1, 4),
        "answer:score=4": (1, 0),
        "answer:note": (1, 0),  # free text counted, never kept
    }


def test_the_apis_interval_names_are_the_domains() -> None:
    assert set(get_args(IntervalName)) == {i.value for i in Interval}
    with pytest.raises(InvalidValue, match="unknown interval 'fortnight'"):
        interval("fortnight")
