"""Opening hours in a time zone: intervals, holidays, daylight saving, and refusals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ccgateway.domain.calendar import Hours, local_time, zone
from ccgateway.domain.errors import InvalidValue

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz: ZoneInfo = BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


OFFICE = Hours(
    "Europe/Berlin",
    {
        "mon": ("08:00-12:00", "13:00-18:00"),
        "tue": ("08:00-18:00",),
        "sat": ("22:00-24:00",),
        "sun": ("00:00-02:00",),
    },
    holidays=("2026-12-29",),
)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-30 07:59", False),  # a Monday, before opening
        ("2026-11-30 08:00", True),
        ("2026-11-30 12:30", False),  # lunch
        ("2026-11-30 17:59", True),
        ("2026-11-30 18:00", False),  # the end is not included
        ("2026-12-01 09:00", True),  # Tuesday
        ("2026-12-02 09:00", False),  # Wednesday: not named, closed
        ("2026-12-05 23:30", True),  # Saturday night ...
        ("2026-12-06 01:30", True),  # ... into Sunday
        ("2026-12-29 09:00", False),  # a Tuesday, but a holiday
    ],
)
def test_open_by_the_local_wall_clock(moment: str, is_open: bool) -> None:
    assert OFFICE.is_open(at(moment)) is is_open


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    nine_in_berlin = at("2026-12-01 09:00")
    new_york = Hours("America/New_York", {"tue": ("08:00-18:00",)})
    assert OFFICE.is_open(nine_in_berlin) and not new_york.is_open(nine_in_berlin)  # 03:00 there


def test_daylight_saving_moves_the_utc_times_not_the_local_ones() -> None:
    mondays = Hours("Europe/Berlin", {"mon": ("08:00-09:00",)})
    summer, winter = at("2026-06-01 08:30"), at("2026-11-30 08:30")
    assert mondays.is_open(summer) and mondays.is_open(winter)
    assert local_time(summer, BERLIN).utc_offset_s == 7200
    assert local_time(winter, BERLIN).utc_offset_s == 3600


@pytest.mark.parametrize(
    ("weekly", "holidays", "message"),
    [
        ({"monday": ("08:00-18:00",)}, (), "not one of"),
        ({"mon": ("8-18",)}, (), "must look like"),
        ({"mon": ("18:00-08:00",)}, (), "end after it starts"),
        ({"mon": ("08:00-12:00", "11:00-13:00")}, (), "overlap"),
        ({"mon": ("24:00-24:00",)}, (), "must look like"),
        ({}, ("25.12.2026",), "must be a date"),
    ],
)
def test_bad_hours_are_refused_with_what_was_wrong(
    weekly: dict[str, tuple[str, ...]], holidays: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        Hours("Europe/Berlin", weekly, holidays)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "Europe/Berlin\n", ""])
def test_unknown_or_unsafe_time_zones_are_refused(name: str) -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        zone(name)
