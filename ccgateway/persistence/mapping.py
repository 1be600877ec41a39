"""Rows and frozen domain values, field for field: a row's columns are named as the value's
fields, so only the columns whose type differs (an enum's text, a JSON document) are
written out by hand. A stored enum text that is no member raises the domain's InvalidValue.
"""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from ccgateway.domain.errors import InvalidValue

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

E = TypeVar("E", bound=Enum)
D = TypeVar("D", bound="DataclassInstance")


def stored(kind: type[E], text: str, what: str) -> E:
    """A stored enum value, or the domain's InvalidValue if the database holds another."""
    try:
        return kind(text)
    except ValueError:
        raise InvalidValue(f"stored {what} {text!r} is not a {kind.__name__}") from None


def columns_of(value: DataclassInstance, **converted: Any) -> dict[str, Any]:
    """A domain value's fields as the columns of the same names, `converted` where the
    column's type differs."""
    return {f.name: getattr(value, f.name) for f in fields(value)} | converted


def from_row(kind: type[D], row: object, **converted: Any) -> D:
    """A domain value from the row's columns named as its fields, `converted` where the
    types differ."""
    names = [f.name for f in fields(kind) if f.name not in converted]
    return kind(**{name: getattr(row, name) for name in names}, **converted)
