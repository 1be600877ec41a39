"""Moments on the API: the core counts epoch seconds, the API speaks ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def utc_or_none(epoch: float | None) -> datetime | None:
    return None if epoch is None else utc(epoch)


def epoch_or_none(moment: datetime | None) -> float | None:
    """A moment given without a time zone is read as UTC, as every time the API returns."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
