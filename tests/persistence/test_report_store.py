"""The interval reports' store on SQLite and PostgreSQL: flushes add up, and a report sums
buckets into the centre's intervals across a clock change, as the pure definition says."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.figures import FigureRules, QueueTally
from ccgateway.domain.outbound.campaigns import DialMode, DialOutcome
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.reports import (
    BUCKET_S,
    Interval,
    ReportFold,
    label_of,
    merge,
    span,
)
from ccgateway.persistence.report_store import SqlReportStore
from tests.persistence.test_stores import engine, url  # noqa: F401 (fixtures)

BERLIN = ZoneInfo("Europe/Berlin")
# The last Sunday of October 2026 in Berlin: 25 hours, 02:00-03:00 twice.
DAY = int(datetime(2026, 10, 25, tzinfo=BERLIN).timestamp())


def answered(queue: str, ended: float, wait: float, agent: str = "a1") -> Interaction:
    return Interaction(
        f"c{ended}", queue, agent, "+1", Outcome.ANSWERED, ended - 100 - wait, ended - 100,
        ended, wait, 100.0, 1,
    )  # fmt: skip


def test_flushes_add_up_and_sum_into_days_and_hours_across_the_clock_change(
    engine: Engine,  # noqa: F811
) -> None:
    store = SqlReportStore(engine)
    fold = ReportFold(FigureRules())
    moments = [DAY + i * 1800 + 60 for i in range(50)]  # every half hour of the long day
    for n, moment in enumerate(moments):
        fold.add_interaction(answered("q1" if n % 2 else "q2", moment, wait=n))
        if n == 25:
            store.add(fold.take(moment))  # two flushes of the same buckets add up
    store.add(fold.take(moments[-1]))
    store.add(fold.take(moments[-1]))  # nothing more: changes nothing

    days = store.queues(span(Interval.DAY, DAY - 86400, DAY + 2 * 86400, BERLIN), None)
    assert set(days) == {("q1", DAY), ("q2", DAY)}
    assert days[("q1", DAY)].answered == 25 and days[("q2", DAY)].answered == 25
    assert days[("q1", DAY)].longest_wait_answered_s == 49
    assert days[("q2", DAY)].wait_answered_s == sum(range(0, 50, 2))

    hours = store.queues(span(Interval.HOUR, DAY, DAY + 25 * 3600, BERLIN), ["q1"])
    assert len(hours) == 25 and all(t.answered == 1 for t in hours.values())
    q1 = moments[1::2]
    assert set(hours) == {
        ("q1", label_of(Interval.HOUR, m // BUCKET_S * BUCKET_S, BERLIN)) for m in q1
    }
    total = QueueTally()
    for tally in hours.values():
        merge(total, tally)
    assert total == days[("q1", DAY)]


def test_agents_activity_pauses_and_campaign_counts(engine: Engine) -> None:  # noqa: F811
    store = SqlReportStore(engine)
    fold = ReportFold(FigureRules())
    t0 = DAY + 9 * 3600
    fold.agent_state("a1", AgentState.LOGGED_OUT, None, t0)
    fold.agent_state("a1", AgentState.AVAILABLE, None, t0 + 60)
    fold.agent_state("a1", AgentState.PAUSED, "lunch", t0 + 1000)
    fold.add_interaction(answered("q1", t0 + 900, wait=5))
    store.add(fold.take(t0 + 2000))
    fold.agent_state("a1", AgentState.LOGGED_OUT, None, t0 + 4000)
    dial = DialRecord(
        "d1", "camp", "k1", "+1", "UK", DialMode.PROGRESSIVE, "+2", t0, t0 + 90,
        DialOutcome.CONNECTED, live_at=t0 + 20, connected_at=t0 + 21,
    )  # fmt: skip
    fold.add_dial(dial)
    fold.add_disposition(DispositionRecord("d1", "camp", "k1", "a1", "sale", t0 + 100), None)
    store.add(fold.take(t0 + 5000))

    hour = span(Interval.DAY, DAY, DAY + 25 * 3600, BERLIN)
    [(tally, activity, pauses)] = store.agents(hour, ["a1"]).values()
    assert tally.calls_answered == 1 and tally.talk_s == 100
    assert (activity.available_s, activity.paused_s) == (940, 3000)
    assert (activity.logins, activity.logouts) == (1, 1)
    assert pauses == {"lunch": 3000}
    [(campaign, counts)] = store.campaigns(hour, None).values()
    assert (campaign.dials, campaign.connected, campaign.talk_s, campaign.waited) == (1, 1, 69, 1)
    assert counts["disposition:sale"].count == 1
    assert isinstance(campaign.dials, int) and isinstance(activity.logins, int)
    assert store.agents(hour, ["nobody"]) == {}


def test_callers_out_of_the_centres_hands_are_kept_and_add_up(engine: Engine) -> None:  # noqa: F811
    store = SqlReportStore(engine)
    fold = ReportFold(FigureRules())
    t0 = DAY + 10 * 3600
    gone = [(Outcome.REDIRECTED, 0), (Outcome.CUT_OFF, 60), (Outcome.CUT_OFF, 1000)]
    for n, (outcome, after) in enumerate(gone):
        ended = t0 + after
        fold.add_interaction(
            Interaction(f"g{n}", "q1", None, "+1", outcome, ended - 30, None, ended, 30.0, 0.0, 1)
        )
        store.add(fold.take(ended))  # each its own flush: the counts add up in the row
    fold.add_interaction(answered("q1", t0 + 120, wait=5))
    store.add(fold.take(t0 + 120))

    [tally] = store.queues(span(Interval.DAY, DAY, DAY + 25 * 3600, BERLIN), ["q1"]).values()
    assert (tally.redirected, tally.cut_off, tally.offered, tally.answered) == (1, 2, 1, 1)
    assert isinstance(tally.redirected, int) and isinstance(tally.cut_off, int)
    quarters = store.queues(span(Interval.MIN15, t0, t0 + 3600, BERLIN), ["q1"])
    assert sorted((t.redirected, t.cut_off) for t in quarters.values()) == [(0, 1), (1, 1)]
