"""Files sent as a request's whole body (a contact list's CSV, a register's numbers): read
with a bound on their size, checked for their media type, decoded as UTF-8 text.

No multipart forms: `curl --data-binary @list.csv -H 'Content-Type: text/csv'` is the
whole protocol, and the body is never held twice beyond the bound.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException

from ccgateway.api.intake import allow_body
from ccgateway.domain.errors import InvalidValue

# What clients send for a CSV or a text file (a browser on Windows says vnd.ms-excel).
CSV_TYPES = frozenset(
    {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"}
    | {"application/octet-stream"}
)
TEXT_TYPES = frozenset({"text/plain", "text/csv", "application/octet-stream"})


def body_of(media_type: str, description: str) -> dict[str, Any]:
    """The OpenAPI `requestBody` of a route that reads its body itself."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    }


async def read_text(request: Request, limit: int, accepted: frozenset[str], wanted: str) -> str:
    """The body as text: 415 for a media type not in `accepted` (none given: taken as
    text), 413 past `limit` bytes (BodyLimit counts), 422 if it is not UTF-8 (a
    spreadsheet's byte-order mark is dropped). `wanted` names the type in the 415's
    message."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in accepted:
        raise HTTPException(
            415, f"send the file itself as the body with Content-Type {wanted}, not {media_type}"
        )
    allow_body(request, limit)  # BodyLimit refuses past it, before or while reading
    chunks = [chunk async for chunk in request.stream()]
    data = b"".join(chunks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidValue(f"the body is not UTF-8 text (byte {exc.start})") from None


def lines_of(text: str) -> Iterable[str]:
    """Lines as the csv module wants them: split at CR, LF and CR LF only, endings kept
    (str.splitlines would also split at form feeds and U+2028 inside a quoted cell)."""
    return io.StringIO(text, newline="")
