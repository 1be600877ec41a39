"""Abandon ledgers: the UK calendar day in London with the AMD estimate, the US rolling 30
days to the minute, when predictive dialing stops and how the throttle eases off."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.outbound.ledger import EASE_FROM, AbandonLedger, LedgerView, Tally
from ccgateway.domain.outbound.rules import DE, UK, US, AbandonWindow, RuleSet

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
LONDON = ZoneInfo("Europe/London")


def at(text: str, tz: ZoneInfo = LONDON) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


NOON = at("2026-12-01 12:00")  # a Tuesday; London is on UTC


def ledger(rules: RuleSet = UK, share: float = 0.0, target: float = 0.03) -> AbandonLedger:
    return AbandonLedger(rules, share, target)


def record(
    book: AbandonLedger, moment: float, live: int = 0, abandoned: int = 0, machines: int = 0
) -> None:
    """`live` connected calls, `abandoned` abandoned ones and `machines` AMD verdicts."""
    for _ in range(live):
        book.live(moment)
    for _ in range(abandoned):
        book.live(moment, abandoned=True)
    for _ in range(machines):
        book.machine(moment)


def as_tuple(tally: Tally) -> tuple[int, int, int]:
    return tally.live, tally.abandoned, tally.machines


# --- the UK calendar day ----------------------------------------------------------------


def test_a_new_ledger_has_no_rate_and_is_stopped() -> None:
    book = ledger()
    assert book.rate(NOON) is None and book.counts(NOON) == (0.0, 0.0)
    assert book.stopped(NOON)  # one abandon out of one call would be 100 %
    assert book.throttle(NOON) == 0.0


def test_the_uk_rate_is_abandoned_over_live_calls_today() -> None:
    book = ledger()
    record(book, NOON - HOUR, live=97, abandoned=3)
    assert as_tuple(book.tally(NOON)) == (100, 3, 0)
    assert book.rate(NOON) == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("2026-12-01 23:59", "2026-12-02 00:01"),  # London on GMT
        ("2026-07-01 23:59", "2026-07-02 00:01"),  # on BST: midnight is 23:00 UTC
        ("2026-03-28 23:59", "2026-03-29 00:01"),  # the night the clocks go forward
        ("2026-10-24 23:59", "2026-10-25 00:01"),  # and back: both the same UTC day
    ],
)
def test_a_dial_at_23_59_and_one_at_00_01_fall_in_different_uk_days(
    before: str, after: str
) -> None:
    book = ledger()
    first, second = at(before), at(after)
    book.live(first, abandoned=True)
    book.live(second)
    assert as_tuple(book.tally(first)) == (1, 1, 0)
    assert as_tuple(book.tally(second)) == (1, 0, 0)
    assert book.rate(second) == 0.0


def test_the_day_the_clocks_go_back_has_25_hours_in_one_ledger_day() -> None:
    book = ledger()
    early = at("2026-10-25 00:30")  # BST, 23:30 UTC the day before
    repeated_bst = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON).timestamp()
    repeated_gmt = datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON).timestamp()
    late = at("2026-10-25 23:30")  # GMT
    assert repeated_gmt - repeated_bst == HOUR and late - early == 24 * HOUR
    for moment in (early, repeated_bst, repeated_gmt, late):
        book.live(moment)
    assert book.tally(late).live == 4


def test_the_day_the_clocks_go_forward_has_23_hours_in_one_ledger_day() -> None:
    book = ledger()
    book.live(at("2026-03-29 00:00"))  # GMT
    book.live(at("2026-03-29 23:59"))  # BST, 22:59 UTC
    book.live(at("2026-03-30 00:00"))  # 23:00 UTC: the next day
    assert book.tally(at("2026-03-29 12:00")).live == 2
    assert book.tally(at("2026-03-30 00:00")).live == 1


def test_the_german_day_is_berlins() -> None:
    book = ledger(DE)
    berlin = ZoneInfo("Europe/Berlin")
    book.live(at("2026-12-01 23:30", berlin), abandoned=True)  # 22:30 UTC
    assert book.tally(at("2026-12-02 00:10", berlin)).live == 0  # 23:10 UTC, a new day
    assert book.tally(at("2026-12-01 23:50", berlin)).abandoned == 1


def test_the_uk_estimate_of_people_amd_hung_up_on_counts_on_both_sides() -> None:
    book = ledger(share=0.05)
    record(book, NOON, live=90, abandoned=2, machines=40)
    estimate = 40 * 0.05
    assert book.counts(NOON) == pytest.approx((2 + estimate, 92 + estimate))
    assert book.rate(NOON) == pytest.approx(4 / 94)
    view = book.view(NOON)
    assert view.amd_estimate == 2.0 and view.machines == 40


def test_machine_verdicts_alone_give_the_uk_a_rate() -> None:
    book = ledger(share=0.03)
    record(book, NOON, machines=100)  # 3 people estimated, none of them reached an agent
    assert book.rate(NOON) == pytest.approx(1.0)


def test_the_us_counts_no_amd_estimate() -> None:
    book = ledger(US, share=0.05)
    record(book, NOON, live=90, abandoned=2, machines=40)
    assert book.counts(NOON) == (2.0, 92.0)
    assert book.view(NOON).amd_estimate == 0.0


def test_yesterday_is_forgotten_in_todays_uk_rate() -> None:
    book = ledger()
    record(book, NOON - DAY, live=10, abandoned=10)
    record(book, NOON, live=100)
    assert book.rate(NOON) == 0.0
    assert book.rate(NOON - DAY) == 0.5  # still kept for the view of yesterday


def test_the_uk_ledger_keeps_a_few_days_only() -> None:
    book = ledger()
    for day in range(10):
        book.live(NOON + day * DAY)
    assert book.tally(NOON).live == 0
    assert book.tally(NOON + 8 * DAY).live == 1 and book.tally(NOON + 9 * DAY).live == 1


# --- the US rolling 30 days -------------------------------------------------------------


def test_an_abandon_30_days_and_a_minute_ago_no_longer_counts() -> None:
    now = NOON
    book = ledger(US)
    book.live(now - 30 * DAY - MINUTE, abandoned=True)
    book.live(now - 29 * DAY, abandoned=False)
    assert as_tuple(book.tally(now)) == (1, 0, 0)


def test_an_abandon_29_days_23_hours_59_minutes_ago_still_counts() -> None:
    now = NOON
    book = ledger(US)
    book.live(now - (30 * DAY - MINUTE), abandoned=True)
    assert as_tuple(book.tally(now)) == (1, 1, 0)
    assert as_tuple(book.tally(now + MINUTE)) == (0, 0, 0)


def test_the_rolling_window_moves_minute_by_minute() -> None:
    book = ledger(US)
    for minute in range(5):
        book.live(NOON + minute * MINUTE, abandoned=minute % 2 == 0)  # minutes 0, 2, 4
    start = NOON + 30 * DAY
    assert [as_tuple(book.tally(start + m * MINUTE)) for m in range(6)] == [
        (4, 2, 0),  # 30 days after the first: it is out
        (3, 2, 0),
        (2, 1, 0),
        (1, 1, 0),
        (0, 0, 0),
        (0, 0, 0),
    ]


def test_the_us_ledger_is_not_cut_at_midnight() -> None:
    book = ledger(US)
    new_york = ZoneInfo("America/New_York")
    book.live(at("2026-12-01 23:59", new_york), abandoned=True)
    assert book.tally(at("2026-12-02 00:01", new_york)).abandoned == 1


# --- stopped and the throttle -----------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "abandoned", "stopped"),
    [
        (32, 0, True),  # one abandon: 1 in 33 = 3.03 %
        (33, 0, False),  # 1 in 34 = 2.94 %
        (65, 1, True),  # 2 in 66 = 3.03 %
        (66, 1, False),  # 2 in 67 = 2.99 %
        (99, 2, False),  # 3 in 100 = 3 % exactly: within the limit
        (98, 2, True),  # 3 in 99 = 3.03 %
        (1032, 30, True),  # 31 in 1033 = 3.001 %
        (1033, 30, False),  # 31 in 1034 = 2.998 %
    ],
)
def test_predictive_dialing_stops_exactly_when_one_more_abandon_would_exceed_the_limit(
    live: int, abandoned: int, stopped: bool
) -> None:
    book = ledger()
    record(book, NOON, live=live - abandoned, abandoned=abandoned)
    assert book.stopped(NOON) is stopped


def test_the_estimate_counts_in_the_stop_rule() -> None:
    book = ledger(share=0.05)
    record(book, NOON, live=100)
    assert not book.stopped(NOON)
    record(book, NOON, machines=20)  # one person estimated: (1 + 1) / (101 + 1) < 3 %
    assert not book.stopped(NOON)
    record(book, NOON, machines=20)  # two: (2 + 1) / (102 + 1) = 2.9 %
    assert not book.stopped(NOON)
    record(book, NOON, machines=20)  # three: (3 + 1) / (103 + 1) = 3.8 %
    assert book.stopped(NOON)


def test_a_campaign_target_below_the_law_is_the_limit() -> None:
    book = ledger(target=0.01)
    assert book.limit == 0.01
    record(book, NOON, live=99)
    assert not book.stopped(NOON)  # 1 in 100
    book.live(NOON)
    record(book, NOON, live=0, abandoned=1)
    assert book.stopped(NOON)  # 2 in 102 is above 1 %
    assert ledger(target=0.05).limit == 0.03  # never above the law's


def test_without_a_statutory_limit_the_campaigns_target_is_the_limit() -> None:
    free = dataclasses.replace(US, id="lab", abandon_limit=None)
    assert ledger(free, target=0.05).limit == 0.05


def throttled(rate: float, lives: int = 20_000) -> float:
    """The throttle with `rate` abandoned of many live calls (far from the stop rule)."""
    book = ledger()
    abandoned = round(rate * lives)
    record(book, NOON, live=lives - abandoned, abandoned=abandoned)
    assert not book.stopped(NOON)
    return book.throttle(NOON)


@pytest.mark.parametrize(
    ("band", "throttle"),
    [
        (-40.0, 1.0),  # no abandons at all
        (-1.0, 1.0),  # well below the band
        (0.0, 1.0),  # where the easing starts (EASE_FROM of the limit)
        (0.5, 0.5),
        (0.8, 0.2),
        (14 / 15, 1 / 15),
    ],
)
def test_the_throttle_is_one_below_the_easing_band_then_falls_to_zero_at_the_limit(
    band: float, throttle: float
) -> None:
    """`band`: how far into the band from EASE_FROM x limit (0) to the limit (1)."""
    limit = 0.03
    rate = max(0.0, limit * (EASE_FROM + band * (1.0 - EASE_FROM)))
    assert throttled(rate, lives=1_000_000) == pytest.approx(throttle, abs=1e-3)


def test_the_throttle_is_zero_at_the_limit_and_when_stopped() -> None:
    book = ledger()
    record(book, NOON, live=97, abandoned=3)  # 3 % exactly: one more would be over
    assert book.stopped(NOON) and book.throttle(NOON) == 0.0
    book = ledger()
    record(book, NOON, live=10)  # 0 %, but too few calls for an abandon
    assert book.rate(NOON) == 0.0 and book.stopped(NOON) and book.throttle(NOON) == 0.0


def test_a_zero_target_never_dials_predictively() -> None:
    book = ledger(target=0.0)
    record(book, NOON, live=10_000)
    assert book.stopped(NOON) and book.throttle(NOON) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.integers(34, 3000), st.integers(0, 120))
def test_the_throttle_is_linear_in_the_easing_band_when_not_stopped(
    live: int, abandoned: int
) -> None:
    book = ledger()
    record(book, NOON, live=live, abandoned=min(abandoned, live))
    rate = book.rate(NOON)
    assert rate is not None
    expected = min(1.0, max(0.0, (0.03 - rate) / (0.03 * (1.0 - EASE_FROM))))
    if book.stopped(NOON):
        assert book.throttle(NOON) == 0.0
    else:
        assert book.throttle(NOON) == pytest.approx(expected)
        assert 0.0 <= book.throttle(NOON) <= 1.0


def test_the_view_says_all_of_it() -> None:
    book = ledger(share=0.1)
    record(book, NOON, live=990, abandoned=10, machines=50)
    assert book.view(NOON) == LedgerView(
        window="calendar_day",
        live=1000,
        abandoned=10,
        machines=50,
        amd_estimate=5.0,
        rate=pytest.approx(15 / 1005),  # type: ignore[arg-type]
        limit=0.03,
        stopped=False,
        throttle=book.throttle(NOON),
    )
    assert ledger(US).view(NOON).window == "rolling_30_days"


# --- adopt ------------------------------------------------------------------------------


@pytest.mark.parametrize("rules", [UK, US], ids=["uk", "us"])
def test_a_new_ledger_of_the_same_window_adopts_what_the_old_one_counted(
    rules: RuleSet,
) -> None:
    old = ledger(rules, share=0.05)
    record(old, NOON - HOUR, live=50, abandoned=1, machines=20)
    new = ledger(rules, share=0.1, target=0.02)
    new.adopt(old)
    assert as_tuple(new.tally(NOON)) == (51, 1, 20)
    assert new.limit == 0.02 and new.share == 0.1  # its own settings
    # A copy: what either counts afterwards stays its own.
    record(old, NOON, live=5)
    record(new, NOON, abandoned=1)
    assert as_tuple(old.tally(NOON)) == (56, 1, 20)
    assert as_tuple(new.tally(NOON)) == (52, 2, 20)


def test_a_ledger_counted_another_way_is_not_adopted() -> None:
    old = ledger(UK)
    record(old, NOON, live=50, abandoned=1)
    new = ledger(US)
    new.adopt(old)
    assert as_tuple(new.tally(NOON)) == (0, 0, 0)
    daily = ledger(UK)
    daily.adopt(ledger(US))
    assert daily.rate(NOON) is None


def test_an_adopted_rolling_ledger_keeps_ageing_out() -> None:
    old = ledger(US)
    old.live(NOON, abandoned=True)
    old.live(NOON + DAY)
    new = ledger(US)
    new.adopt(old)
    assert as_tuple(new.tally(NOON + 30 * DAY)) == (1, 0, 0)


# --- the rate against a recount of the raw events ---------------------------------------

EVENT_KINDS = ("live", "abandoned", "machine", "look")


def recount(
    rules: RuleSet, share: float, events: list[tuple[float, str]], now: float
) -> tuple[float, float]:
    """(abandoned, live) by the rule set's definition, from the raw events."""
    if rules.abandon_window is AbandonWindow.CALENDAR_DAY:
        tz = ZoneInfo(rules.ledger_timezone)
        today = datetime.fromtimestamp(now, tz).date()
        counted = [k for t, k in events if datetime.fromtimestamp(t, tz).date() == today]
    else:
        newest = int(now // MINUTE)
        counted = [k for t, k in events if int(t // MINUTE) > newest - 30 * 24 * 60]
    live = sum(k in ("live", "abandoned") for k in counted)
    abandoned = sum(k == "abandoned" for k in counted)
    machines = sum(k == "machine" for k in counted)
    estimate = machines * share if rules.count_amd_false_positives else 0.0
    return abandoned + estimate, live + estimate


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from([UK, US, DE]),
    st.floats(0.0, 0.5),
    st.lists(
        st.tuples(
            # gaps from seconds to days: minute, day and 30-day edges are all crossed
            st.one_of(st.floats(0.0, 120.0), st.floats(0.0, 3 * DAY), st.floats(0.0, 20 * DAY)),
            st.sampled_from(EVENT_KINDS),
        ),
        max_size=80,
    ),
)
def test_the_rate_is_a_recount_of_the_raw_events(
    rules: RuleSet, share: float, steps: list[tuple[float, str]]
) -> None:
    book = ledger(rules, share)
    moment = at("2026-10-20 12:00")  # the clocks change on the way
    events: list[tuple[float, str]] = []
    for gap, kind in steps:
        moment += gap
        if kind == "look":
            abandoned, live = recount(rules, share, events, moment)
            assert book.counts(moment) == pytest.approx((abandoned, live))
            rate = book.rate(moment)
            if live > 0:
                assert rate == pytest.approx(abandoned / live)
            else:
                assert rate is None
            assert book.stopped(moment) is (abandoned + 1 > book.limit * (live + 1))
            continue
        events.append((moment, kind))
        if kind == "machine":
            book.machine(moment)
        else:
            book.live(moment, abandoned=kind == "abandoned")
    abandoned, live = recount(rules, share, events, moment)
    assert book.counts(moment) == pytest.approx((abandoned, live))
