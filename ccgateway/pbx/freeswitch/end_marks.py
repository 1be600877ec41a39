"""FreeSWITCH's own end marks (domain/gap.py), as Asterisk's AstDB ones: pure, no I/O.

FreeSWITCH writes them itself, with no controller listening, from each channel's
`api_hangup_hook` into mod_hash's realm `ccgw_end` (in memory: a FreeSWITCH restart loses
the marks of calls that ended before it; the restart itself is told apart, `restarted`):

- a caller, from dialplans/freeswitch `ccgw-inbound` (every entry: its queue is the last),
  key `<caller uuid>~caller`:
  `1|<created µs>|<hung up µs>|<queue extension>|<number>|<last bridged to>|<cause>|<fallback>`;
- an agent leg, from its answer (the originate's `execute_on_answer_ccgw_end` runs the
  dialplan's `leg` extension of `ccgw-end-mark`, `LEG_ANSWERED`), key
  `<caller uuid>~<leg id>`: `1|<answered µs>|<hung up µs>|<device>`. (An originate
  variable cannot carry the hook itself: FreeSWITCH refuses one whose value holds `${`.)

FreeSWITCH's times are microseconds since the epoch. The number is what `ccgw-inbound`
let through (`[0-9+*#]{1,32}`, else empty); names are left out. A caller whose hold
timeout (the dead-controller guard) ended it has the cause ALLOTTED_TIMEOUT: it left
through the PBX's fallback, as one sent to `ccgw-fallback` (`<fallback>` 1).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from ccgateway.domain.events import EndMark, LegEndMark
from ccgateway.pbx import trunks
from ccgateway.pbx.end_mark_reading import sort_marks
from ccgateway.ports import InvalidWireValue

REALM = "ccgw_end"
SEPARATOR = "~"
GUARD_CAUSE = "ALLOTTED_TIMEOUT"  # park_timeout's cause in ccgw-inbound
LEG_PREFIX = "ccgw-"
LEG_ANSWERED = "execute_extension:leg XML ccgw-end-mark"  # app:arg, on the leg's answer
Words = tuple[str, ...]

_ID = r"[0-9A-Za-z._-]{1,64}"
# hash_dump's line: D/<realm>_<key>/<value> (mod_hash keys are realm_key)
_LINE = re.compile(rf"^D/{REALM}_({_ID}){SEPARATOR}({_ID})/(.*)$")
_NUMBER = re.compile(r"^[0-9+*#]{0,32}$")
_DIGITS = re.compile(r"^[0-9]{0,20}$")
_MICROS = re.compile(r"^[0-9]{1,20}$")
_CAUSE = re.compile(r"^[A-Z_]{0,40}$")
# commands._device, or a leg rung over a trunk (pbx/trunks.py: `PJSIP/agent1@asterisk`)
_DEVICE = re.compile(r"^(user|PJSIP|sofia/[A-Za-z0-9_.-]+)/[A-Za-z0-9_.@:+-]{1,80}$")


def read() -> Words:
    """api words: every mark, one line each (mod_hash's dump of the realm's keys)."""
    return ("hash_dump", "db", REALM)


def to_end_marks(text: str) -> tuple[list[EndMark], list[LegEndMark]]:
    """`hash_dump db ccgw_end` as callers' and agent legs' end marks. A line that is not
    exactly what the dialplan writes (another writer, a half-written value) is skipped: it
    must never become a record."""
    entries = (
        (found.group(1), found.group(2), found.group(3).split("|"))
        for line in text.splitlines()
        if (found := _LINE.fullmatch(line.strip())) is not None
    )
    return sort_marks(entries, _caller_mark, _leg_mark)


def keys_of(text: str, call_ids: Collection[str]) -> list[str]:
    """The keys in `hash_dump db ccgw_end` of these callers' marks and their legs'."""
    keys = []
    for line in text.splitlines():
        matched = _LINE.fullmatch(line.strip())
        if matched is not None and matched.group(1) in call_ids:
            keys.append(f"{matched.group(1)}{SEPARATOR}{matched.group(2)}")
    return keys


def forget(keys: Iterable[str]) -> list[Words]:
    """api words, one per mark: drop it (its call is recorded)."""
    words: list[Words] = []
    for key in keys:
        if not re.fullmatch(rf"{_ID}{SEPARATOR}{_ID}", key):
            raise InvalidWireValue(f"end mark {key!r}: not one of ours")
        words.append(("hash", f"delete/{REALM}/{key}"))
    return words


def _caller_mark(call_id: str, fields: list[str]) -> EndMark:
    version, arrived, ended, extension, number, leg, cause, fallback = fields
    if version != "1" or not _DIGITS.fullmatch(extension) or not _NUMBER.fullmatch(number):
        raise ValueError("not a caller's end mark")
    if not _CAUSE.fullmatch(cause) or fallback not in ("", "1"):
        raise ValueError("not a caller's end mark")
    # last_bridge_to names whatever the caller was bridged to last: only our legs count
    leg = leg if leg.startswith(LEG_PREFIX) and re.fullmatch(_ID, leg) else ""
    left = fallback == "1" or cause == GUARD_CAUSE
    return EndMark(call_id, extension, number, _time(arrived), _time(ended), leg, left)


def _leg_mark(caller_id: str, leg_id: str, fields: list[str]) -> LegEndMark:
    version, answered, ended, device = fields
    if version != "1" or not leg_id.startswith(LEG_PREFIX) or not _DEVICE.fullmatch(device):
        raise ValueError("not an agent leg's end mark")
    device, device_pbx = trunks.agent_of(device) or (device, "")
    return LegEndMark(leg_id, caller_id, device, _time(answered), _time(ended), device_pbx)


def _time(text: str) -> float:
    if not _MICROS.fullmatch(text) or int(text) == 0:
        raise ValueError(f"not a FreeSWITCH time: {text!r}")
    return int(text) / 1e6
