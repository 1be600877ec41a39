"""Asterisk Manager Interface framing, sans I/O: bytes in, messages out; actions out.

The server first sends one banner line (`Asterisk Call Manager/x.y`), then messages: header
lines `Name: value` ending in CR LF, each message ended by an empty line. Framing is done on
bytes and a message is decoded (UTF-8, undecodable bytes replaced) only once it is whole, so
a caller's name whose characters straddle two reads arrives intact.

Framing is ours; each whole message becomes the plain dict `translate.py` takes, read as
panoramisk 1.4's parser (`Message.from_line`) reads it: events by a plain split of their
lines (the hot path), anything else by panoramisk itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from panoramisk.message import Message

from ccgateway.pbx.wire import check_wire_value
from ccgateway.ports import InvalidWireValue, PbxRejected

AmiMessage = dict[str, str]
HeaderValue = str | Sequence[str]
MAX_LINE = 1024  # AMI's limit for one header line, CR LF included
EOL = "\r\n"
END = b"\r\n\r\n"
BANNER = b"Asterisk Call Manager"
EVENT = "Event: "


class AmiProtocolError(PbxRejected):
    """The peer is not an AMI server; the connection must be dropped."""


@dataclass
class AmiParser:
    """Feed it bytes as they arrive, in any split; it returns the messages completed so far.

    `banner` is the server's first line once it has come (`Asterisk Call Manager/9.0.0`).
    """

    banner: str | None = None
    # Whole messages (their bytes, without the blank line) to drop unread: the parse is the
    # costly part, and some classes carry many events nobody reads (translate.unwanted).
    drop: Callable[[bytes], bool] | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _searched: int = 0  # bytes of the buffer known to hold no message end

    def feed(self, data: bytes) -> list[AmiMessage]:
        self._buffer.extend(data)
        if self.banner is None and not self._take_banner():
            return []
        messages: list[AmiMessage] = []
        while (end := self._buffer.find(END, self._searched)) >= 0:
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + len(END)]
            self._searched = 0
            if self.drop is not None and self.drop(raw):
                continue
            block = raw.decode("utf-8", errors="replace")
            message = parse_message(block)
            if message is not None:
                messages.append(message)
        # an END may straddle this read and the next: look again at its first bytes
        self._searched = max(0, len(self._buffer) - len(END) + 1)
        return messages

    def _take_banner(self) -> bool:
        newline = self._buffer.find(b"\n")
        if newline < 0:
            if len(self._buffer) > MAX_LINE:
                raise AmiProtocolError(f"not an AMI server: {bytes(self._buffer[:60])!r}")
            return False
        line = bytes(self._buffer[: newline + 1])
        if not line.startswith(BANNER):
            raise AmiProtocolError(f"not an AMI server: {line[:60]!r}")
        del self._buffer[: newline + 1]
        self.banner = line.decode("utf-8", errors="replace").strip()
        return True


def parse_message(block: str) -> AmiMessage | None:
    """One AMI message block (without the blank line) as a plain dict; None if not one.

    A message is read as panoramisk's parser reads it: `Name: value` lines, a repeated
    header's first value, a `Follows`/`Fail` response's body as `Output`, `Result` unquoted.
    Events, nearly all the traffic, are flat header lines and are split here (three times
    cheaper than building panoramisk's case-insensitive message and flattening it back);
    anything else, and an event whose names differ only in case (which panoramisk folds
    into one), goes through panoramisk's parser. tests/pbx/asterisk/test_ami.py checks both
    give the same dict for every message of the recorded traffic."""
    block = block.strip()
    if block.startswith(EVENT):
        flat = _event(block)
        if flat is not None:
            return flat
    return by_panoramisk(block)


def _event(block: str) -> AmiMessage | None:
    flat: AmiMessage = {}
    for line in block.split(EOL):
        name, colon, value = line.partition(": ")
        if colon and name not in flat:
            flat[name] = value
    folded = {name.lower() for name in flat}
    if len(folded) != len(flat) or "result" in folded:
        return None  # panoramisk's own rules apply: let it read the message
    return flat


def by_panoramisk(block: str) -> AmiMessage | None:
    """panoramisk's reading of a (stripped) block, flattened: the reference for `_event`."""
    message = Message.from_line(block)
    if message is None:
        return None
    flat: AmiMessage = {}
    for key, value in message.items():
        if key != "content":  # panoramisk's own body key; the body is `Output`
            flat[key] = value[0] if isinstance(value, list) else str(value)
    if message.content:
        flat["Output"] = message.content
    return flat


def encode_action(action: Mapping[str, HeaderValue]) -> bytes:
    """One AMI action as bytes, after checking every header (pure, for tests too)."""
    lines = []
    for name, value in action.items():
        check_wire_value("header name", name)
        if ":" in name or not name:
            raise InvalidWireValue(f"header name {name!r} is not a valid AMI header name")
        for item in [value] if isinstance(value, str) else value:
            check_wire_value(name, item)
            line = f"{name}: {item}"
            if len(line.encode()) + 2 > MAX_LINE:
                raise InvalidWireValue(f"{name}: the line is longer than AMI's {MAX_LINE} bytes")
            lines.append(line)
    return (EOL.join(lines) + EOL + EOL).encode()
