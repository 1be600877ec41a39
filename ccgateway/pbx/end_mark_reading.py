"""What both adapters do with their PBX's end marks (domain/gap.py), whatever the PBX keeps
them in (Asterisk's AstDB, FreeSWITCH's mod_hash): sort the entries into callers' and agent
legs' marks, and read them again every minute while linked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from ccgateway.domain.events import EndMark, EndMarksRead, LegEndMark, PbxEvent
from ccgateway.ports import PbxError

log = logging.getLogger(__name__)
SWEEP_S = 60.0  # how often the end marks of recorded calls are looked for while linked
CALLER = "caller"  # the key of a caller's own mark; any other key is an agent leg's id

Marks = tuple[list[EndMark], list[LegEndMark]]


def sort_marks(
    entries: Iterable[tuple[str, str, list[str]]],
    caller_mark: Callable[[str, list[str]], EndMark],
    leg_mark: Callable[[str, str, list[str]], LegEndMark],
) -> Marks:
    """(caller id, `caller` or a leg id, fields) as callers' and agent legs' marks. An entry
    its reader refuses (ValueError: another writer, a half-written value) is skipped: it
    must never become a record."""
    callers: list[EndMark] = []
    legs: list[LegEndMark] = []
    for call_id, which, fields in entries:
        try:
            if which == CALLER:
                callers.append(caller_mark(call_id, fields))
            else:
                legs.append(leg_mark(call_id, which, fields))
        except ValueError:
            continue
    return callers, legs


class Linked(Protocol):
    connected: asyncio.Event


class Commanding(Protocol):
    @property
    def commanding(self) -> bool: ...


async def sweep_end_marks(
    link: Linked,
    keeper: Commanding,
    read: Callable[[], Awaitable[Marks]],
    deliver: Callable[[PbxEvent], None],
    every_s: float = SWEEP_S,
) -> None:
    """Every `every_s` while `link` is up, the PBX's end marks again, so the marks of calls
    the controller recorded itself are dropped (domain/gap.py) rather than kept until the
    next resync."""
    while True:
        await asyncio.sleep(every_s)
        if not (link.connected.is_set() and keeper.commanding):
            continue  # a passive controller leaves them to the PBX's owner
        try:
            ended, legs = await read()
        except PbxError as exc:  # the link went meanwhile: the resync reads them
            log.debug("end marks not read: %s", exc)
            continue
        if ended or legs:
            deliver(EndMarksRead(tuple(ended), tuple(legs)))
