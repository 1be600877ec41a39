"""Calling windows in another zone's wall clock: open or not, the next opening, one week's
hours inside another's, and where a local day starts and ends (daylight saving included)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.calendar import Hours, day_start_in, local_time, next_day_start_in

HOUR = 3600.0
DAY = 86400.0
LONDON = "Europe/London"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def at(text: str, tz: str = "UTC", fold: int = 0) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz), fold=fold).timestamp()


EIGHT_TO_NINE = Hours(LONDON, {d: ("08:00-21:00",) for d in ("mon", "tue", "wed", "thu", "fri")})
GERMAN = Hours(
    BERLIN,
    {**{d: ("08:00-20:00",) for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": ("09:00-18:00",)},
)


# --- is_open_in -------------------------------------------------------------------------


def test_the_hours_are_read_on_the_callees_clock_not_their_own() -> None:
    moment = at("2026-12-01 13:30")  # Tuesday: 13:30 London, 08:30 New York, 05:30 LA
    assert EIGHT_TO_NINE.is_open_in(moment, LONDON)
    assert EIGHT_TO_NINE.is_open_in(moment, NEW_YORK)
    assert not EIGHT_TO_NINE.is_open_in(moment, "America/Los_Angeles")
    assert EIGHT_TO_NINE.is_open(moment)  # its own zone: London


def test_a_weekday_is_the_callees_weekday() -> None:
    moment = at("2026-12-04 23:30")  # Friday night in London, Saturday 08:30 in Tokyo
    weekend = Hours(LONDON, {"sat": ("08:00-12:00",)})
    assert weekend.is_open_in(moment, "Asia/Tokyo") and not weekend.is_open_in(moment, LONDON)


def test_a_holiday_is_the_callees_date() -> None:
    christmas = Hours(LONDON, {"fri": ("00:00-24:00",)}, ("2026-12-25",))
    assert not christmas.is_open_in(at("2026-12-25 12:00"), LONDON)
    # 2026-12-25 23:30 UTC is already Saturday 26th in Tokyo, Friday 25th in Los Angeles.
    assert not christmas.is_open_in(at("2026-12-25 10:00", "America/Los_Angeles"), LONDON)
    assert christmas.is_open_in(at("2027-01-01 12:00"), LONDON)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-03-08 07:59", False),  # the first Sunday on summer time in New York
        ("2026-03-08 08:00", True),
        ("2026-11-01 01:30", False),  # the repeated hour, either time
        ("2026-11-01 20:59", True),
        ("2026-11-01 21:00", False),
    ],
)
def test_the_window_follows_new_yorks_clock_over_the_changes(moment: str, is_open: bool) -> None:
    every_day = Hours(NEW_YORK, {d: ("08:00-21:00",) for d in ("sun",)})
    assert every_day.is_open_in(at(moment, NEW_YORK), NEW_YORK) is is_open


def test_in_the_repeated_hour_both_instants_read_as_the_same_local_minute() -> None:
    small_hours = Hours(NEW_YORK, {"sun": ("01:00-02:00",)})
    first, second = at("2026-11-01 01:30", NEW_YORK), at("2026-11-01 01:30", NEW_YORK, fold=1)
    assert second - first == HOUR
    assert small_hours.is_open_in(first, NEW_YORK) and small_hours.is_open_in(second, NEW_YORK)


# --- next_open_in -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "zone", "moment", "opens"),
    [
        (GERMAN, BERLIN, "2026-12-01 10:00", "2026-12-01 10:00"),  # open now: now
        (GERMAN, BERLIN, "2026-12-01 07:59:30", "2026-12-01 08:00"),
        (GERMAN, BERLIN, "2026-12-01 20:00", "2026-12-02 08:00"),
        (GERMAN, BERLIN, "2026-12-05 18:00", "2026-12-07 08:00"),  # Saturday -> Monday
        (GERMAN, NEW_YORK, "2026-12-05 18:00", "2026-12-07 08:00"),  # on New York's clock
        (GERMAN, BERLIN, "2026-03-28 19:00", "2026-03-30 08:00"),  # over the spring change
        (GERMAN, BERLIN, "2026-10-24 19:00", "2026-10-26 08:00"),  # and the autumn one
        (EIGHT_TO_NINE, NEW_YORK, "2026-03-07 22:00", "2026-03-09 08:00"),
        (EIGHT_TO_NINE, NEW_YORK, "2026-10-31 22:00", "2026-11-02 08:00"),
    ],
)
def test_the_next_opening_on_the_zones_wall_clock(
    hours: Hours, zone: str, moment: str, opens: str
) -> None:
    assert hours.next_open_in(at(moment, zone), zone) == at(opens, zone)


def test_the_next_opening_skips_holidays() -> None:
    closed_tuesday = Hours(BERLIN, dict(GERMAN.weekly), ("2026-12-01",))
    assert closed_tuesday.next_open_in(at("2026-12-01 07:00", BERLIN), BERLIN) == at(
        "2026-12-02 08:00", BERLIN
    )


def test_hours_that_never_open_have_no_next_opening() -> None:
    assert Hours(BERLIN, {}).next_open_in(at("2026-12-01 12:00"), BERLIN) is None
    mondays = Hours(BERLIN, {"mon": ("09:00-10:00",)})
    tuesday = at("2026-12-01 12:00", BERLIN)
    assert mondays.next_open_in(tuesday, BERLIN, within_days=5) is None
    assert mondays.next_open_in(tuesday, BERLIN, within_days=6) == at("2026-12-07 09:00", BERLIN)


def test_every_holiday_in_a_row_leaves_no_opening_within_the_search() -> None:
    holidays = tuple(
        (datetime(2026, 12, 1) + timedelta(days=d)).date().isoformat() for d in range(9)
    )
    closed = Hours(
        BERLIN, {d: ("00:00-24:00",) for d in ("mon", "tue", "wed", "thu", "fri")}, holidays
    )
    assert closed.next_open_in(at("2026-12-01 00:00", BERLIN), BERLIN) is None


def test_the_second_interval_of_a_day_is_found() -> None:
    split = Hours(LONDON, {"tue": ("09:00-12:00", "14:00-18:00")})
    assert split.next_open_in(at("2026-12-01 12:00"), LONDON) == at("2026-12-01 14:00")


def test_late_on_the_long_autumn_day_an_all_day_window_is_open_now() -> None:
    sundays = Hours(BERLIN, {"sun": ("00:00-24:00",)})
    moment = at("2026-10-25 23:30", BERLIN)
    assert sundays.is_open_in(moment, BERLIN)
    assert sundays.next_open_in(moment, BERLIN) == moment


def test_in_an_interval_spanning_the_repeated_hour_now_is_open() -> None:
    nights = Hours(BERLIN, {"sun": ("01:00-04:00",)})
    moment = at("2026-10-25 03:30", BERLIN)
    assert nights.is_open_in(moment, BERLIN)
    assert nights.next_open_in(moment, BERLIN) == moment


def test_an_interval_starting_in_the_spring_gap_opens_when_the_gap_ends() -> None:
    nights = Hours(NEW_YORK, {"sun": ("02:30-05:00",)})
    assert nights.is_open_in(at("2026-03-08 03:00", NEW_YORK), NEW_YORK)
    midnight = at("2026-03-08 00:00", NEW_YORK)
    assert nights.next_open_in(midnight, NEW_YORK) == at("2026-03-08 03:00", NEW_YORK)


ZONES = (LONDON, BERLIN, NEW_YORK, "America/Chicago", "Asia/Kolkata", "Australia/Lord_Howe")
YEAR_2026 = (at("2026-01-01 00:00"), at("2026-12-31 00:00"))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([GERMAN, EIGHT_TO_NINE]), st.sampled_from(ZONES), st.floats(*YEAR_2026))
def test_the_next_opening_is_open_and_nothing_before_it_is(
    hours: Hours, zone: str, now: float
) -> None:
    found = hours.next_open_in(now, zone)
    assert found is not None and found >= now
    assert hours.is_open_in(found, zone)
    if found > now:
        # Every window here opens on a whole local hour or half hour (Kolkata, Lord Howe):
        # no quarter-hour before the opening is open.
        moment = found - 15 * 60
        while moment > now:
            assert not hours.is_open_in(moment, zone)
            moment -= 15 * 60
        assert not hours.is_open_in(now, zone)
        assert local_time(found, ZoneInfo(zone)).minute % 30 == 0


# --- inside -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "outer", "inside"),
    [
        ({"mon": ("09:00-17:00",)}, {"mon": ("08:00-21:00",)}, True),
        ({"mon": ("08:00-21:00",)}, {"mon": ("08:00-21:00",)}, True),  # equal
        ({}, {"mon": ("08:00-21:00",)}, True),  # never open: inside anything
        ({"mon": ("07:59-12:00",)}, {"mon": ("08:00-21:00",)}, False),
        ({"mon": ("12:00-21:01",)}, {"mon": ("08:00-21:00",)}, False),
        ({"sun": ("10:00-11:00",)}, {"mon": ("08:00-21:00",)}, False),  # a day the law closes
        (
            {"mon": ("09:00-10:00", "20:00-22:00")},
            {"mon": ("08:00-21:00",)},
            False,  # one interval of two sticks out
        ),
        (
            {"mon": ("09:00-10:00", "14:00-15:00")},
            {"mon": ("08:00-12:00", "13:00-18:00")},
            True,
        ),
        ({"mon": ("11:00-14:00",)}, {"mon": ("08:00-12:00", "13:00-18:00")}, False),  # lunch
    ],
)
def test_hours_inside_others_by_the_weekly_table(
    inner: dict[str, tuple[str, ...]], outer: dict[str, tuple[str, ...]], inside: bool
) -> None:
    assert Hours(LONDON, inner).inside(Hours(NEW_YORK, outer)) is inside


def test_holidays_only_close_more_so_they_do_not_matter_to_inside() -> None:
    outer = Hours(LONDON, {"mon": ("08:00-21:00",)}, ("2026-12-07",))
    assert Hours(LONDON, {"mon": ("09:00-10:00",)}).inside(outer)


def test_an_interval_across_two_touching_intervals_is_inside_them() -> None:
    outer = Hours(LONDON, {"mon": ("08:00-12:00", "12:00-18:00")})
    assert Hours(LONDON, {"mon": ("10:00-14:00",)}).inside(outer)


interval = st.tuples(st.integers(0, 47), st.integers(1, 48)).filter(lambda t: t[0] < t[1])


def text_of(half_hours: tuple[int, int]) -> str:
    start, end = half_hours
    return f"{start // 2:02d}:{start % 2 * 30:02d}-{end // 2:02d}:{end % 2 * 30:02d}"


weeks = st.dictionaries(
    st.sampled_from(["mon", "tue", "sat", "sun"]),
    interval.map(lambda i: (text_of(i),)),
    max_size=4,
)


@settings(max_examples=100, deadline=None)
@given(weeks, weeks)
def test_inside_agrees_with_a_minute_by_minute_comparison(
    inner: dict[str, tuple[str, ...]], outer: dict[str, tuple[str, ...]]
) -> None:
    a, b = Hours(LONDON, inner), Hours(LONDON, outer)
    monday = at("2026-11-30 00:00", LONDON)  # a week of half hours on a week without changes
    expected = all(
        b.is_open(monday + step * 1800) for step in range(7 * 48) if a.is_open(monday + step * 1800)
    )
    assert a.inside(b) is expected


# --- day_start_in and next_day_start_in -------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hours_long"),
    [
        (LONDON, "2026-03-29", 23),
        (LONDON, "2026-10-25", 25),
        (LONDON, "2026-07-01", 24),
        (BERLIN, "2026-03-29", 23),
        (BERLIN, "2026-10-25", 25),
        (NEW_YORK, "2026-03-08", 23),
        (NEW_YORK, "2026-11-01", 25),
        ("Australia/Lord_Howe", "2026-04-05", 24.5),  # half an hour back
        ("America/Havana", "2026-03-08", 23),  # Cuba changes at midnight
        ("America/Havana", "2026-11-01", 25),
        ("Asia/Kolkata", "2026-03-29", 24),
    ],
)
def test_a_local_day_starts_at_its_midnight_and_lasts_as_long_as_the_clocks_say(
    zone: str, day: str, hours_long: float
) -> None:
    noon = at(f"{day} 12:00", zone)
    start, end = day_start_in(noon, zone), next_day_start_in(noon, zone)
    assert (end - start) / HOUR == hours_long
    tz = ZoneInfo(zone)
    assert datetime.fromtimestamp(start, tz).date().isoformat() == day
    assert datetime.fromtimestamp(start - 1, tz).date().isoformat() < day
    assert datetime.fromtimestamp(end - 1, tz).date().isoformat() == day


def test_midnight_itself_starts_its_day() -> None:
    midnight = at("2026-12-01 00:00", BERLIN)
    assert day_start_in(midnight, BERLIN) == midnight
    assert day_start_in(midnight - 1, BERLIN) == midnight - DAY
    assert next_day_start_in(midnight, BERLIN) == midnight + DAY


def test_the_same_instant_is_in_different_days_in_different_zones() -> None:
    moment = at("2026-12-01 23:30")  # Tuesday in London, Wednesday in Berlin
    assert day_start_in(moment, LONDON) == at("2026-12-01 00:00")
    assert day_start_in(moment, BERLIN) == at("2026-12-02 00:00", BERLIN)
    assert next_day_start_in(moment, LONDON) == at("2026-12-02 00:00")


DAY_ZONES = (*ZONES, "America/Havana", "America/Santiago", "Pacific/Chatham", "Pacific/Apia")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DAY_ZONES), st.integers(int(YEAR_2026[0] * 1000), int(YEAR_2026[1] * 1000)))
def test_a_moment_lies_in_its_local_day(zone: str, milliseconds: int) -> None:
    # To the millisecond: within half a microsecond of midnight datetime rounds to the next day.
    moment = milliseconds / 1000
    start, end = day_start_in(moment, zone), next_day_start_in(moment, zone)
    assert start <= moment < end
    assert 22 * HOUR <= end - start <= 26 * HOUR
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(moment, tz).date()
    assert datetime.fromtimestamp(start, tz).date() == today
    assert datetime.fromtimestamp(start - 1, tz).date() < today
    assert datetime.fromtimestamp(end, tz).date() > today
    assert day_start_in(end, zone) == end
