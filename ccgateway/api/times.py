"""Moments on the API: the core counts epoch seconds, the API speaks ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def utc_or_none(epoch: float | None) -> datetime | None:
    return None if epoch is None else utc(epoch)


def epoch_or_none(moment: datetime | None) -> float | None:
    """A moment given without a time zone is read as UTC, as every time the API returns."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _readable(moment: datetime) -> datetime:
    # 9999-12-31T23:00-05:00 is a valid datetime whose UTC is in the year 10000: stored as
    # epoch seconds, it could never be shown again.
    try:
        utc(moment.timestamp())
    except (OverflowError, ValueError, OSError):
        raise ValueError("must be in the years 1 to 9999 once in UTC") from None
    return moment


# A moment a client gives that is stored: ISO 8601 with a time zone, within what UTC can show.
Moment = Annotated[AwareDatetime, AfterValidator(_readable)]
