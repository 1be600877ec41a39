"""`MarkKeeper`: holds (or waits for) the owner's mark on one PBX over a live link.

Each adapter gives it three things of its protocol: read the mark and the PBX's time, write
the mark, and take over (its resync). The rules are `ownership.judge`; this class only runs
them once at each connect and then every `every_s` seconds, and keeps the one flag the
adapter asks before sending anything: `commanding`.

The flag is set before the resync (the centre may command as soon as the snapshot is
emitted) and cleared when the link drops, when the resync fails (no `PbxResynced` was
emitted, so the centre's picture was never half-replaced: the next round takes it again),
and when another owner's live mark is found (fenced: the adapter emits a lost link so the
centre stops offering at once).

`confirmed_at` is when a round last found the mark this controller's own and rewrote it (the
monotonic moment before its read): a pair's holder past its lease's deadline, the database
away, may write to this PBX only within its `ride_s` of that (services/lease.py). So a
controller that takes the PBX from another node's live mark of a lower epoch (a pair's new
lease holder) waits `hold_s` from that mark's stamp, in the PBX's time, before it commands:
the old holder cannot have confirmed its mark later than its stamp.

Built with no owner (`Unmarked`), it marks nothing and always commands: the FreeSWITCH
adapter in tests that replay recorded transcripts, which hold no mark commands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ccgateway.pbx.ownership import Mark, check_node, judge, parse_mark
from ccgateway.ports import Owner, PbxError, PbxUnavailable

log = logging.getLogger(__name__)
# A taken mark is read back this long after it is written (`MarkKeeper._still_mine`).
SETTLE_S = 0.25

ReadMark = Callable[[], Awaitable[tuple[str | None, float]]]


class MarkKeeper:
    def __init__(
        self,
        label: str,
        owner: Owner,
        read: ReadMark,
        write: Callable[[str], Awaitable[None]],
        take_over: Callable[[], Awaitable[None]],
        on_fenced: Callable[[str], None],
        *,
        dead_after_s: float,
        every_s: float,
        settle_s: float | None = SETTLE_S,
        hold_s: float = 0.0,
        tick_s: float = 0.0,
    ) -> None:
        """`read`: the mark's text (None when absent) and the PBX's time in seconds;
        `settle_s`: how long after writing its mark a controller reads it back before it
        starts commanding (None: no read-back); `hold_s`: how long after another node's
        mark of a lower epoch was stamped this one waits before commanding (module doc);
        `tick_s`: the step of the PBX's time as `read` gives it (FreeSWITCH's whole
        seconds), by which a mark's age read off it may exceed its true age."""
        self.label, self.owner = label, Owner(check_node(owner.node), owner.epoch)
        # Whether the lease is held: a holder riding on the marks past its deadline may keep
        # its own mark, never take one (an absent one included: a PBX restart clears it).
        self._may_take = owner.may_command
        self._commanded = False  # this process has commanded the PBX before
        self._read, self._write, self._take_over = read, write, take_over
        self._on_fenced = on_fenced
        self.dead_after_s, self.every_s, self.settle_s = dead_after_s, every_s, settle_s
        self.hold_s, self.tick_s = hold_s, tick_s
        self.commanding = False
        self.confirmed_at = float("-inf")  # monotonic (module doc)
        self.holder: Mark | None = None  # the other live owner while passive
        # Why the adapter may not take the PBX at all (its uniqueids would clash with another
        # PBX's: pbx/uniqueids.py); None when it may. While set, no round takes the PBX.
        self.barred: str | None = None
        self._last_live_other: float | None = None
        self._lock = asyncio.Lock()

    @property
    def passive_to(self) -> str | None:
        """Who owns the PBX while this controller leaves it alone, for health and metrics."""
        if self.commanding or self.holder is None:
            return None
        return self.holder.describe()

    def check_commanding(self, what: str) -> None:
        """Raise PbxUnavailable naming the owner unless this controller holds the PBX."""
        if self.commanding:
            return
        owner = self.passive_to
        if owner is not None:
            raise PbxUnavailable(f"{self.label} is owned by {owner}; {what} not sent")
        raise PbxUnavailable(f"{self.label} is not held by this controller; {what} not sent")

    async def claim(self) -> None:
        """One round at connect: take the PBX (and resync) or stay passive."""
        await self._round()

    async def keep_forever(self, connected: asyncio.Event) -> None:
        """A round every `every_s` while the link is up: refresh the mark, notice a stale
        owner (take over) or a newer one (fenced). Link errors are the link's own business."""
        while True:
            await asyncio.sleep(self.every_s)
            if not connected.is_set():
                continue
            try:
                await self._round()
            except PbxError as exc:
                log.warning("%s: owner mark not checked: %s", self.label, exc)

    def lost(self) -> None:
        """The link dropped: nothing is commanded until the next connect's claim."""
        self.commanding = False

    async def release(self) -> None:
        """A clean stop: stop commanding, then leave a stale mark (stamp 0) so a successor
        takes the PBX at its next round instead of waiting out the dead-after time."""
        async with self._lock:
            if not self.commanding:
                return
            self.commanding = False
            try:
                await self._write(Mark(self.owner.node, self.owner.epoch, 0.0).encode())
            except PbxError as exc:
                log.warning("%s: owner mark not released (it goes stale): %s", self.label, exc)
                return
            log.info("%s: owner mark released", self.label)

    async def _round(self) -> None:
        async with self._lock:
            if self.barred is not None:
                self.commanding = False
                return
            asked = time.monotonic()
            text, pbx_now = await self._read()
            found = parse_mark(text)
            others_live = (
                found is not None
                and found.node != self.owner.node
                and pbx_now - found.stamp <= self.dead_after_s
            )
            if others_live:
                self._last_live_other = pbx_now
            verdict = judge(found, self.owner, pbx_now, self.dead_after_s, self._last_live_other)
            own = found is not None and (found.node, found.epoch) == (
                self.owner.node,
                self.owner.epoch,
            )
            if verdict.take and not own and not self._may_take():
                self._stay_passive(found if others_live else None)
            elif verdict.take:
                mine = Mark(self.owner.node, self.owner.epoch, pbx_now)
                await self._write(mine.encode())
                if self.commanding:
                    self.confirmed_at = asked
                    return
                await self._hold(found, pbx_now)
                if await self._still_mine():
                    self.confirmed_at = asked
                    await self._start_commanding(found)
            else:
                self._stay_passive(verdict.holder)

    async def _hold(self, found: Mark | None, pbx_now: float) -> None:
        """Taking the PBX from a pair's older holder: wait until it can no longer be
        commanding on its mark (`hold_s` from the mark's stamp); a holder of a later epoch
        that finds no mark at all, before it ever commanded the PBX (cleared by a restart
        of the PBX), waits all of `hold_s`, since it cannot know when an older one last
        confirmed its mark there."""
        if self.hold_s <= 0:
            return
        if found is None:
            if self._commanded or self.owner.epoch <= 1:
                return
            wait, who = self.hold_s, "an older lease holder"
        elif found.node == self.owner.node or found.epoch >= self.owner.epoch:
            return
        else:  # the stamp and now each cut down to a tick: the age may be a tick too old
            wait, who = self.hold_s - (pbx_now - found.stamp) + self.tick_s, found.describe()
        if wait > 0:
            log.warning(
                "%s: waiting %.2f s before commanding: %s may still command on its mark "
                "while the database is away from it",
                self.label,
                wait,
                who,
            )
            await asyncio.sleep(wait)

    async def _still_mine(self) -> bool:
        """Two controllers that read a free PBX in the same moment both write their mark;
        the PBX keeps the last. Each reads it back `settle_s` later (far longer than the
        other's one round trip from its read to its write) and only the one whose mark
        stayed starts commanding; the other finds the winner's live mark at its next round."""
        if self.settle_s is None:
            return True
        await asyncio.sleep(self.settle_s)
        text, _ = await self._read()
        kept = parse_mark(text)
        if kept is not None and (kept.node, kept.epoch) == (self.owner.node, self.owner.epoch):
            return True
        log.warning(
            "%s: another controller wrote its mark in the same moment (%s): not taking the PBX",
            self.label,
            kept.describe() if kept else "no mark",
        )
        return False

    async def _start_commanding(self, found: Mark | None) -> None:
        was = f" after {found.describe()}" if found and found.node != self.owner.node else ""
        log.info("%s: this controller owns the PBX now%s; resyncing", self.label, was)
        self.commanding = True
        self._commanded = True
        self.holder = None
        try:
            await self._take_over()
        except BaseException:
            self.commanding = False
            raise

    def _stay_passive(self, holder: Mark | None) -> None:
        if self.commanding:
            self.commanding = False
            who = holder.describe() if holder else "another controller"
            log.error("%s: fenced: %s owns the PBX now; stopped commanding", self.label, who)
            self._on_fenced(f"fenced: {who} owns the PBX")
        if holder is None:
            return  # a vanished mark: keep naming the last owner until it would be stale
        if self.holder is None or (holder.node, holder.epoch) != (
            self.holder.node,
            self.holder.epoch,
        ):
            log.warning(
                "%s: owned by %s: this controller stays passive (sends nothing, offers "
                "nothing) until that mark goes stale",
                self.label,
                holder.describe(),
            )
        self.holder = holder


class Unmarked:
    """A PBX driven without an owner mark: commands always, resyncs at every connect."""

    commanding = True
    passive_to: str | None = None
    confirmed_at = float("-inf")

    def __init__(self, take_over: Callable[[], Awaitable[None]]) -> None:
        self._take_over = take_over

    def check_commanding(self, what: str) -> None:
        return None

    async def claim(self) -> None:
        await self._take_over()

    async def keep_forever(self, connected: asyncio.Event) -> None:
        return None

    def lost(self) -> None:
        return None

    async def release(self) -> None:
        return None
