"""The chaos benchmark's pure part: from the AMI event log, the faults' moments, the actions
each controller sent and the database's records, to the figures (benchmarks/chaos.py runs
it all; tests/benchmarks checks this on small hand-written logs).

Definitions, on top of benchmarks/load_log.py's (caller, agent leg, bridged, doubled, lost):
- Cut off: a caller still up when Asterisk was restarted. Its hang-up is the restart's, not
  the caller's patience running out: not counted as lost. Channels whose Hangup never
  reached the log (the AMI connection went with the old Asterisk) end at the restart.
- Routing resumed: the first agent leg Asterisk created after the fault (callers arrive
  five a second, so one is nearly always waiting for a free agent).
- Records: the database's interactions per caller's uniqueid; missing (a caller Asterisk
  saw with no record) and duplicated (more than one) must both be none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from benchmarks.load_log import Phase


@dataclass(frozen=True)
class Fault:
    """One fault done to the system under load, at `at` (the machine's wall clock)."""

    kind: str  # "kill -9", "SIGSTOP", "Asterisk restart", "PostgreSQL restart"
    at: float
    node: str | None = None  # the controller it was done to
    took_s: float | None = None  # until the other controller said it was active (kills)
    detail: str = ""


@dataclass(frozen=True)
class Action:
    """An AMI action a controller sent (the tap between it and Asterisk saw it)."""

    at: float
    node: str
    name: str


def action_names(data: bytes) -> tuple[list[str], bytes]:
    """The names of the whole AMI actions in `data` (a client's bytes), and the bytes of an
    action not yet whole."""
    names = []
    while (end := data.find(b"\r\n\r\n")) >= 0:
        block, data = data[:end], data[end + 4 :]
        headers = [line.split(b":", 1) for line in block.split(b"\r\n") if b":" in line]
        found = [v.strip() for k, v in headers if k.strip().lower() == b"action"]
        names.append(found[0].decode(errors="replace") if found else "?")
    return names, data


def close_at(phase: Phase, at: float) -> set[str]:
    """Asterisk restarted at `at`: every channel up then is over. Returns the callers cut
    off, and ends (at `at`) the channels whose Hangup the log never got."""
    cut = {
        caller
        for caller, started in phase.callers.items()
        if started < at and phase.caller_ended.get(caller, float("inf")) >= at
    }
    for caller in cut:
        phase.caller_ended.setdefault(caller, at)
    for leg, (_, started) in phase.legs.items():
        if started < at:
            phase.leg_ended.setdefault(leg, at)
    return cut


def first_leg_after(phase: Phase, at: float) -> float | None:
    """Seconds from `at` to the first agent leg Asterisk created after it (None: none)."""
    later = [started - at for _, started in phase.legs.values() if started >= at]
    return min(later) if later else None


def lost_between(phase: Phase, lost: Iterable[str], start: float, end: float) -> int:
    """How many of the lost callers hung up in [start, end)."""
    return sum(1 for c in lost if start <= phase.caller_ended.get(c, float("-inf")) < end)


def lost_after_any(
    phase: Phase, lost: Iterable[str], starts: Iterable[float], window: float
) -> int:
    """How many of the lost callers hung up within `window` after any of `starts` (each
    counted once, however close the faults came)."""
    moments = list(starts)
    return sum(
        1
        for c in lost
        if any(0 <= phase.caller_ended.get(c, float("-inf")) - at < window for at in moments)
    )


@dataclass(frozen=True)
class Records:
    missing: list[str]
    duplicated: dict[str, int]


def check_records(callers: Iterable[str], rows: Mapping[str, int]) -> Records:
    """`rows`: call id -> how many interactions the database holds for it."""
    seen = list(callers)
    return Records(
        missing=sorted(c for c in seen if rows.get(c, 0) == 0),
        duplicated={c: rows[c] for c in seen if rows.get(c, 0) > 1},
    )


def sent_between(actions: Sequence[Action], node: str, start: float, end: float) -> list[str]:
    """The names of the actions `node` sent in [start, end)."""
    return [a.name for a in actions if a.node == node and start <= a.at < end]
