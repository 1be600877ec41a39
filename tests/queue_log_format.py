"""A reader of Asterisk's queue_log as app_queue writes it, written from Asterisk's sources
and documentation alone (not from ccgateway's writer): what a reporting tool expects of
each line, checked strictly, so a test can read the file our feed produces.

A line is `epoch|callid|queuename|agent|event|data...` (main/logger.c `ast_queue_log`: the
event is always followed by `|`, then the event's data fields). Data fields per event, from
apps/app_queue.c (Asterisk 20 and 22) and the Asterisk wiki's "Queue Logs" page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

INT = "int"  # a field that must be a whole number of seconds, milliseconds or a position
TEXT = "text"

# event -> the data fields' names and kinds, in order
EVENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "QUEUESTART": (("empty", TEXT),),
    "ENTERQUEUE": (("url", TEXT), ("callerid", TEXT), ("position", INT)),
    "CONNECT": (("holdtime", INT), ("bridgedchanneluniqueid", TEXT), ("ringtime", INT)),
    "RINGNOANSWER": (("ringtime_ms", INT),),
    "RINGCANCELED": (("ringtime_ms", INT),),
    "COMPLETECALLER": (("holdtime", INT), ("calltime", INT), ("origposition", INT)),
    "COMPLETEAGENT": (("holdtime", INT), ("calltime", INT), ("origposition", INT)),
    "ABANDON": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITWITHTIMEOUT": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITEMPTY": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITWITHKEY": (("key", TEXT), ("position", INT), ("origposition", INT), ("waittime", INT)),
    "BLINDTRANSFER": (
        ("extension", TEXT),
        ("context", TEXT),
        ("holdtime", INT),
        ("calltime", INT),
        ("origposition", INT),
    ),
    "ADDMEMBER": (("paused", TEXT),),
    "REMOVEMEMBER": (("empty", TEXT),),
    "PAUSE": (("reason", TEXT),),
    "UNPAUSE": (("reason", TEXT),),
    "PAUSEALL": (("reason", TEXT),),
    "UNPAUSEALL": (("reason", TEXT),),
}
# ATTENDEDTRANSFER: method|method data...|holdtime|calltime|origposition, by method
ATTENDED_METHODS = {"BRIDGE": ("bridge",), "APP": ("app",), "LINK": ("channel1", "channel2")}
TIMES = (("holdtime", INT), ("calltime", INT), ("origposition", INT))
# Events about a caller before any agent has them: the agent field is NONE.
NO_AGENT = {"ENTERQUEUE", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"}
NO_QUEUE = {"QUEUESTART", "PAUSEALL", "UNPAUSEALL"}


class BadLine(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    time: int
    callid: str
    queue: str
    agent: str
    event: str
    data: dict[str, str]

    def number(self, name: str) -> int:
        return int(self.data[name])


def parse_line(line: str) -> Event:
    if "\n" in line.rstrip("\n") or "\r" in line:
        raise BadLine(f"a line break inside {line!r}")
    parts = line.rstrip("\n").split("|")
    if len(parts) < 6:
        raise BadLine(f"fewer than 6 fields (the event is always followed by '|'): {line!r}")
    epoch, callid, queue, agent, event, *data = parts
    if not epoch.isdigit():
        raise BadLine(f"the time is not epoch seconds: {line!r}")
    if not all((callid, queue, agent)):
        raise BadLine(f"an empty callid, queue or agent (app_queue writes NONE): {line!r}")
    fields = _fields(event, data, line)
    if event in NO_AGENT and agent != "NONE":
        raise BadLine(f"{event} names no agent: {line!r}")
    if event in NO_QUEUE and queue != "NONE":
        raise BadLine(f"{event} names no queue: {line!r}")
    if event == "ENTERQUEUE" and int(fields["position"]) < 1:
        raise BadLine(f"positions count from 1: {line!r}")
    if event == "ADDMEMBER" and fields["paused"] not in ("", "PAUSED"):
        raise BadLine(f"ADDMEMBER's field is PAUSED or empty: {line!r}")
    return Event(int(epoch), callid, queue, agent, event, fields)


def _fields(event: str, data: list[str], line: str) -> dict[str, str]:
    if event == "ATTENDEDTRANSFER":
        method = data[0] if data else ""
        if method not in ATTENDED_METHODS:
            raise BadLine(f"ATTENDEDTRANSFER method {method!r} unknown: {line!r}")
        spec = (("method", TEXT), *((n, TEXT) for n in ATTENDED_METHODS[method]), *TIMES)
    elif event == "ENTERQUEUE" and len(data) == 4:  # with log-caller-id-name
        spec = (*EVENTS[event], ("callername", TEXT))
    elif event in EVENTS:
        spec = EVENTS[event]
    else:
        raise BadLine(f"unknown event {event!r}: {line!r}")
    if len(data) != len(spec):
        raise BadLine(f"{event} has {len(spec)} data fields, not {len(data)}: {line!r}")
    for (name, kind), value in zip(spec, data, strict=True):
        if kind == INT and not value.isdigit():
            raise BadLine(f"{event}'s {name} is not a whole number: {line!r}")
    return {name: value for (name, _), value in zip(spec, data, strict=True)}


def read_queue_log(path: Path) -> list[Event]:
    """Every line of the file, each checked; the file ends with a newline."""
    text = path.read_text()
    if text and not text.endswith("\n"):
        raise BadLine("the last line is not finished")
    return [parse_line(line) for line in text.splitlines()]
