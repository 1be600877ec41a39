"""Checks for every value that goes onto a PBX wire (AMI or ESL).

Both protocols are line based: a CR or LF in a value ends the header and lets the rest be
read as further headers or a second command, and a NUL truncates it in C code. So such values
are refused before anything is written, with an error that names the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccgateway.ports import InvalidWireValue

FORBIDDEN = {"\r": "CR", "\n": "LF", "\0": "NUL"}
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # Unicode's Cc but tab


def plain_text(value: str) -> str:
    """Text from the PBX (a caller's name or number) with its control characters but tab
    dropped: it is shown and logged, never obeyed, on either PBX."""
    return CONTROL.sub("", value)


def check_wire_value(field: str, value: str, max_length: int | None = None) -> str:
    """Return `value` unchanged, or raise InvalidWireValue naming the field and the problem."""
    if not isinstance(value, str):
        raise InvalidWireValue(f"{field}: expected text, got {type(value).__name__}")
    for char, name in FORBIDDEN.items():
        if char in value:
            raise InvalidWireValue(f"{field}: value contains {name}, which is not allowed")
    if max_length is not None and len(value.encode()) > max_length:
        raise InvalidWireValue(f"{field}: value longer than {max_length} bytes")
    return value


def check_wire_fields(fields: Mapping[str, str], max_length: int | None = None) -> None:
    """Check names and values of a whole message."""
    for name, value in fields.items():
        check_wire_value("header name", name, max_length)
        check_wire_value(name, value, max_length)
