"""Opening hours and holidays in a time zone, and a moment's local time.

The one domain module that uses `datetime` and `zoneinfo`: converting an epoch second to
the wall clock of a time zone is a pure function of the two (and the time-zone rules), so
the core stays free of clocks: `now` is always an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccgateway.domain.errors import InvalidValue

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
MAX_HOLIDAYS = 400
Day = date  # a calendar day, for the modules that may not import datetime


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A moment on the wall clock of a time zone."""

    day: date
    weekday: int  # 0 = Monday
    minute: int  # minutes since local midnight
    utc_offset_s: int


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` ("Europe/Berlin"), or InvalidValue."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_+/-]{1,64}", name):
        raise InvalidValue(f"time zone {name!r} is not an IANA name like 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"unknown time zone {name!r}") from None


def local_time(epoch: float, tz: ZoneInfo) -> LocalTime:
    moment = datetime.fromtimestamp(epoch, tz)
    offset = moment.utcoffset()
    return LocalTime(
        moment.date(),
        moment.weekday(),
        moment.hour * 60 + moment.minute,
        int(offset.total_seconds()) if offset is not None else 0,
    )


def parse_interval(text: str) -> tuple[int, int]:
    """`"08:30-17:00"` -> minutes (510, 1020); the end may be 24:00, and is after the start."""
    found = INTERVAL.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidValue(f"opening interval {text!r} must look like '08:00-18:00'")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end > 24 * 60 or end <= start:
        raise InvalidValue(f"opening interval {text!r} must end after it starts, by 24:00")
    return start, end


@dataclass(frozen=True, slots=True)
class Hours:
    """When a queue is open: intervals per weekday in `timezone`, closed on `holidays`.

    `weekly` maps "mon".."sun" to intervals like "08:00-12:00"; a day not named is closed.
    An interval that should cross midnight is given as two (22:00-24:00, 00:00-06:00).
    """

    timezone: str
    weekly: Mapping[str, tuple[str, ...]]
    holidays: tuple[str, ...] = ()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _minutes: Mapping[int, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False
    )
    _closed: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", zone(self.timezone))
        minutes: dict[int, tuple[tuple[int, int], ...]] = {}
        for day, intervals in self.weekly.items():
            if day not in DAYS:
                raise InvalidValue(f"opening hours: {day!r} is not one of {', '.join(DAYS)}")
            parsed = sorted(parse_interval(i) for i in intervals)
            for (_, end), (start, _) in pairwise(parsed):
                if start < end:
                    raise InvalidValue(f"opening hours on {day} overlap")
            minutes[DAYS.index(day)] = tuple(parsed)
        object.__setattr__(
            self, "weekly", MappingProxyType({d: tuple(i) for d, i in self.weekly.items()})
        )
        object.__setattr__(self, "_minutes", MappingProxyType(minutes))
        if len(self.holidays) > MAX_HOLIDAYS:
            raise InvalidValue(f"at most {MAX_HOLIDAYS} holidays")
        closed = set()
        for text in self.holidays:
            try:
                closed.add(date.fromisoformat(text))
            except (TypeError, ValueError):
                raise InvalidValue(f"holiday {text!r} must be a date like 2026-12-25") from None
        object.__setattr__(self, "holidays", tuple(sorted(self.holidays)))
        object.__setattr__(self, "_closed", frozenset(closed))

    def is_open(self, epoch: float) -> bool:
        return _open_at(self, local_time(epoch, self._tz))

    def is_open_in(self, epoch: float, timezone: str) -> bool:
        """Open at `epoch` by the wall clock of `timezone` instead of the hours' own zone
        (a calling window applies in each called person's local time)."""
        return _open_at(self, local_time(epoch, zone(timezone)))

    def next_open_in(self, epoch: float, timezone: str, within_days: int = 8) -> float | None:
        """The first moment at or after `epoch` when the hours are open in `timezone`, to
        the minute; None if they never open within the next `within_days` days.

        Intervals are wall-clock times: on a day the clocks change, an interval ends at its
        local end time (not after its length in seconds), and one that starts in the hour
        the clocks skip opens when the clock first shows a time inside it."""
        tz = zone(timezone)
        start = datetime.fromtimestamp(epoch, tz)
        for days in range(within_days + 1):
            day = start.date() + timedelta(days=days)
            if day in self._closed:
                continue
            for begin, end in self._minutes.get(day.weekday(), ()):
                opens = min(_wall(day, begin, tz, fold) for fold in (0, 1))
                closes = max(_wall(day, end, tz, fold) for fold in (0, 1))
                if closes <= epoch:
                    continue
                candidate = max(opens, epoch)
                while candidate < closes:  # a minute at a time through a skipped hour
                    if self.is_open_in(candidate, timezone):
                        return candidate
                    candidate = (candidate // 60 + 1) * 60
        return None

    def inside(self, other: Hours) -> bool:
        """Every open minute of these hours is open in `other` too (by the weekly table;
        intervals of `other` that touch count as one)."""
        for weekday, intervals in self._minutes.items():
            bounds = _merged(other._minutes.get(weekday, ()))
            for start, end in intervals:
                if not any(b <= start and end <= e for b, e in bounds):
                    return False
        return True


def _merged(intervals: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _wall(day: date, minute: int, tz: ZoneInfo, fold: int) -> float:
    """The epoch of a wall-clock minute of `day` (24:00 is the next midnight)."""
    if minute >= 24 * 60:
        day, minute = day + timedelta(days=1), minute - 24 * 60
    return datetime.combine(day, time(minute // 60, minute % 60, fold=fold), tz).timestamp()


def _open_at(hours: Hours, local: LocalTime) -> bool:
    if local.day in hours._closed:
        return False
    return any(start <= local.minute < end for start, end in hours._minutes.get(local.weekday, ()))


def day_start_in(epoch: float, timezone: str) -> float:
    """The epoch of the local midnight that starts `epoch`'s day in `timezone`."""
    tz = zone(timezone)
    day = datetime.fromtimestamp(epoch, tz).date()
    return datetime.combine(day, time(0, 0), tz).timestamp()


def next_day_start_in(epoch: float, timezone: str) -> float:
    tz = zone(timezone)
    day = datetime.fromtimestamp(epoch, tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tz).timestamp()


def utc_offset_s(epoch: float, tz: ZoneInfo) -> int:
    """The zone's offset from UTC at `epoch`, in seconds (east positive)."""
    return local_time(epoch, tz).utc_offset_s


def local_midnight(day: date, tz: ZoneInfo) -> float:
    """The epoch of `day`'s midnight in `tz` (the earlier one where a clock change makes
    midnight twice)."""
    return datetime.combine(day, time(0), tz).timestamp()


Zone = ZoneInfo  # for the modules that may not import zoneinfo (the interval reports)


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)


def first_of_month(day: date, months_on: int = 0) -> date:
    """The first day of `day`'s month, or of the month `months_on` later."""
    month = day.month - 1 + months_on
    return date(day.year + month // 12, month % 12 + 1, 1)
