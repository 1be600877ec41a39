"""FreeSWITCH Event Socket framing, sans I/O: bytes in, frames and events out; commands out.

A frame is headers, a blank line, and `Content-Length` bytes of body. An event of type
`text/event-plain` is itself headers (URL-encoded values), a blank line and maybe a body.
Its lines are split FIRST and each value is decoded after: decoding the whole text first (as
greenswitch 0.0.19 does) turns a caller's display name `Alice%0AUnique-ID: x` into a header
of its own, so anyone who can place a call could overwrite `Unique-ID` or `Event-Name`.

Everything sent is checked for CR, LF and NUL (`check_wire_value`): one stray newline in a
command ends it and starts another.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from ccgateway.pbx.wire import check_wire_value
from ccgateway.ports import InvalidWireValue

EventHeaders = dict[str, str]
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Frame:
    headers: Mapping[str, str]
    body: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        return self.headers.get("Reply-Text", "")


class EslProtocolError(ValueError):
    """The peer sent something that is not ESL; the connection must be dropped."""


@dataclass
class EslParser:
    """Feed it bytes as they arrive, in any split; it returns the frames completed so far."""

    _buffer: bytearray = field(default_factory=bytearray)
    _pending_headers: dict[str, str] | None = None
    _pending_length: int = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer.extend(data)
        frames: list[Frame] = []
        while True:
            if self._pending_headers is None:
                end = self._buffer.find(b"\n\n")
                if end < 0:
                    return frames
                head = self._buffer[:end].decode("utf-8", errors="replace")
                del self._buffer[: end + 2]
                headers = _parse_outer_headers(head)
                if not headers:
                    continue  # stray blank lines between frames
                length = _content_length(headers)
                self._pending_headers, self._pending_length = headers, length
            if len(self._buffer) < self._pending_length:
                return frames
            body = bytes(self._buffer[: self._pending_length]).decode("utf-8", errors="replace")
            del self._buffer[: self._pending_length]
            frames.append(Frame(self._pending_headers, body))
            self._pending_headers, self._pending_length = None, 0


def _parse_outer_headers(head: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.split("\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise EslProtocolError(f"not a header line: {line[:80]!r}")
        headers[name.strip()] = value.strip()
    return headers


def _content_length(headers: Mapping[str, str]) -> int:
    raw = headers.get("Content-Length", "0")
    if not raw.isdigit() or int(raw) > MAX_BODY:
        raise EslProtocolError(f"bad Content-Length {raw[:20]!r}")
    return int(raw)


def parse_event(frame: Frame) -> EventHeaders | None:
    """The event carried by a frame (plain or json), or None for any other frame.

    A plain event's own body (a BACKGROUND_JOB's result, say) is returned under `_body`, the
    key FreeSWITCH's json events use.
    """
    if frame.content_type == "text/event-plain":
        return parse_plain_event(frame.body)
    if frame.content_type == "text/event-json":
        try:
            data = json.loads(frame.body)
        except json.JSONDecodeError as exc:
            raise EslProtocolError(f"bad json event: {exc}") from exc
        if not isinstance(data, dict):
            raise EslProtocolError("a json event must be an object")
        return {str(k): str(v) for k, v in data.items()}
    return None


def parse_plain_event(text: str) -> EventHeaders:
    """Split lines first, then decode each value: an encoded CR/LF stays inside its value."""
    head, sep, body = text.partition("\n\n")
    event: EventHeaders = {}
    for line in head.split("\n"):
        if not line:
            continue
        name, colon, value = line.partition(": ")
        if not colon:
            name, _, value = line.partition(":")
        event[name] = unquote(value)
    if sep and "Content-Length" in event:
        length = int(event["Content-Length"]) if event["Content-Length"].isdigit() else 0
        event["_body"] = body.encode()[:length].decode("utf-8", errors="replace")
    return event


# --- commands ------------------------------------------------------------------------------

SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_.:@+/=*#-]+$")


def command(*words: str, headers: Mapping[str, str] | None = None) -> bytes:
    """One ESL command: words joined by spaces, optional headers, the blank line."""
    if not words:
        raise InvalidWireValue("an ESL command needs at least one word")
    for word in words:
        check_wire_value("command", word)
    lines = [" ".join(words)]
    for name, value in (headers or {}).items():
        check_wire_value("header name", name)
        check_wire_value(name, value)
        lines.append(f"{name}: {value}")
    return ("\n".join(lines) + "\n\n").encode()


def auth(password: str) -> bytes:
    return command("auth", _token("password", password))


def subscribe(events: Iterable[str], custom: Iterable[str] = (), fmt: str = "plain") -> bytes:
    """`event plain ...`; CUSTOM subclasses must be named: a bare CUSTOM delivers nothing."""
    names = [_token("event", e) for e in events]
    subclasses = [_token("subclass", s) for s in custom]
    if subclasses:
        names += ["CUSTOM", *subclasses]
    return command("event", fmt, *names)


def api(*args: str) -> bytes:
    return command("api", *args)


def bgapi(job_uuid: str, *args: str) -> bytes:
    """A background command whose BACKGROUND_JOB event carries our own Job-UUID."""
    return command("bgapi", *args, headers={"Job-UUID": _token("Job-UUID", job_uuid)})


def originate_variables(variables: Mapping[str, str]) -> str:
    """`{a=1,b=x\\,y}`: commas inside values escaped; spaces and quotes refused.

    An originate string is split on spaces and its variables on commas: a value with a space
    would cut the dial string, so such values are refused rather than guessed at.
    """
    parts = []
    for name, value in variables.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
            raise InvalidWireValue(f"originate variable name {name!r} is not allowed")
        check_wire_value(name, value)
        if re.search(r"[\s'\"{}\[\]^]", value):
            raise InvalidWireValue(f"{name}: spaces, quotes and brackets are not allowed")
        parts.append(f"{name}={value.replace(',', chr(92) + ',')}")
    return "{" + ",".join(parts) + "}"


def _token(what: str, value: str) -> str:
    check_wire_value(what, value)
    if not SAFE_TOKEN.fullmatch(value):
        raise InvalidWireValue(f"{what} {value!r}: only letters, digits and _.:@+/=*#- allowed")
    return value
