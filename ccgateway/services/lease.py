"""The lease of a pair's active controller, as one controller keeps it (`ha.mode = "pair"`).

A standby `acquire`s: it asks the store every `poll_s` until the lease has expired and it
takes it (with the next fencing epoch). The holder then `keep`s it: a renewal every
`renew_s`, one at a time. Its own deadline is counted on its MONOTONIC clock from the moment
a renewal was SENT: `sent + lease_s - margin`. The database set the expiry from its own clock
when it ran the statement, which is after it was sent, to `lease_s` later: so, whatever the
two wall clocks say, the holder's deadline comes `margin` before the database's expiry (the
margin covers the two clocks' rates, a fraction of a per cent, and a step of the dispatcher).
`may_command` is false from the deadline on: the dispatcher asks it before every command to
a PBX. At the deadline the keeper gives up: `on_lost` (in production the process exits, and
its service manager starts it again, as a standby). A standby can only take the lease after
the database's expiry, which is after the holder's deadline: two controllers never command
at once. Writes need no deadline: the database refuses a stale one (lease_store's Fence).

Riding on the PBXs' owner marks (`ride_s` > 0): a holder that cannot renew because the
database is away does not stop at its deadline. It goes on commanding each PBX whose owner
mark it has found its own within the last `ride_s` seconds (`may_ride`, asked by each PBX
link before every write; the marks are rewritten about every second), and renews as soon as
the database answers: the lease row still naming it at its epoch means nobody held it since.
While the database is away from every controller nobody can take the lease, so routing goes
on. If only this holder lost it (a partition), a standby takes the lease, then each PBX's
mark, and waits until `ride_s` has passed since the old holder last wrote its mark there
(pbx/mark_keeper.py) before it commands: by then the old holder has either read the new mark
(fenced) or gone `ride_s` without confirming its own (it may not write to that PBX). A
renewal answered "not yours" ends it (`on_lost`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ccgateway.ports import LeaseHolder, LeaseStore

log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """The holder could not renew its lease before its own deadline, or found it taken."""


class LeaseKeeper:
    """One controller's side of the lease: waiting for it, then keeping it (module doc)."""

    def __init__(
        self,
        store: LeaseStore,
        node: str,
        url: str | None,
        lease_s: float,
        renew_s: float,
        *,
        on_lost: Callable[[str], None],
        ride_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`on_lost` is called once, with the reason, when the lease is lost (after which
        nothing may be commanded); `ride_s`: how long a PBX's owner mark found its own lets
        it be commanded past the deadline (0: never, module doc); `monotonic` is the
        holder's own clock."""
        self.store = store
        self.node = node
        self.url = url
        self.lease_s = lease_s
        self.renew_s = renew_s
        self.margin_s = lease_s / 6  # 0.5 s of a 3 s lease (module doc)
        self.poll_s = min(renew_s, lease_s / 12)  # a standby asks often: a takeover is quick
        self.epoch: int | None = None
        self.deadline = float("-inf")  # on the monotonic clock: none held
        self.seen: LeaseHolder | None = None  # the holder as a standby last saw it
        self._on_lost = on_lost
        self._monotonic = monotonic
        self._lost = False
        self.ride_s = ride_s
        self.riding = False  # past the deadline, the database away: on the PBXs' marks
        # When this controller last found its mark on each PBX it drives (monotonic): set by
        # whoever builds the controller (pair.py); riding, it is active while one is recent.
        self.marks: Callable[[], list[float]] = list

    def may_ride(self, confirmed_at: float) -> bool:
        """Whether, past the deadline, a PBX whose owner mark this controller found its own
        at `confirmed_at` (monotonic) may still be written to (module doc); the lease itself
        is `may_command`, asked first (ports.Owner)."""
        return self.riding and not self._lost and self._monotonic() < confirmed_at + self.ride_s

    def may_try(self) -> bool:
        """Whether a command may be handed to the PBXs at all (each link asks `may_ride`):
        by the lease, or riding while some PBX's mark was found ours within `ride_s`."""
        if self.may_command():
            return True
        return self.riding and any(self.may_ride(at) for at in self.marks())

    def may_command(self) -> bool:
        """Whether this controller holds the lease by its own clock: it may command."""
        return not self._lost and self._monotonic() < self.deadline

    def commanded_until(self) -> float:
        """The last moment (monotonic) this controller could command: its deadline, or,
        riding, the last moment some PBX's owner mark let it (what it queued until then
        it did as the active: services/handover.py)."""
        rides = [at + self.ride_s for at in self.marks()] if self.riding else []
        return max([self.deadline, *rides])

    def role(self) -> dict[str, object]:
        """What the health says of this controller: its role, node and epoch."""
        return {"role": "active" if self.may_try() else "standby", "node": self.node,
                "epoch": self.epoch}  # fmt: skip

    async def acquire(self) -> int:
        """Wait until this controller takes the lease; its epoch. `seen` follows the holder.

        Once the database answers again after being away from this standby, it only looks
        for `renew_s` before it asks to take the lease: the holder may have ridden the
        outage out on the PBXs' marks, and renews first (a needless takeover would stop
        routing for seconds). A standby that could reach the database all along takes an
        expired lease at once (the holder is dead, or cut off from the database alone)."""
        away = False
        courtesy_until = float("-inf")
        while True:
            sent = self._monotonic()
            try:
                epoch = None
                if not away and sent >= courtesy_until:
                    epoch = await asyncio.to_thread(
                        self.store.claim, self.node, None, self.lease_s, self.url
                    )
                if epoch is None:
                    self.seen = await asyncio.to_thread(self.store.holder)
                if away:
                    away, courtesy_until = False, self._monotonic() + self.renew_s
            except Exception as exc:  # the database away: try again, as a standby
                log.warning("the lease could not be asked for: %s", exc)
                away, epoch = True, None
            if epoch is not None:
                self.epoch = epoch
                self.deadline = sent + self.lease_s - self.margin_s
                self.seen = LeaseHolder(self.node, epoch, self.url, live=True)
                log.info("%s took the lease at epoch %d", self.node, epoch)
                return epoch
            await asyncio.sleep(self.poll_s)

    async def keep(self) -> None:
        """Renew the lease held until it is lost (then `on_lost`, and LeaseLost raised) or
        this task is cancelled (a clean stop: then `release`)."""
        epoch = self.epoch
        assert epoch is not None, "acquire first"
        pending: asyncio.Task[int | None] | None = None
        sent = next_renewal = self._monotonic()
        try:
            while True:
                now = self._monotonic()
                if now >= self.deadline and not self.riding:
                    self._past_deadline()
                if pending is None and now >= next_renewal:
                    # riding, as often as a standby asks: the first to reach the database wins
                    every = self.poll_s if self.riding else self.renew_s
                    sent, next_renewal = now, now + every
                    pending = asyncio.create_task(
                        asyncio.to_thread(
                            self.store.claim, self.node, epoch, self.lease_s, self.url
                        )
                    )
                until = next_renewal if self.riding else min(self.deadline, next_renewal)
                wake = max(0.0, until - self._monotonic())
                if pending is None:
                    await asyncio.sleep(wake)
                    continue
                await asyncio.wait({pending}, timeout=wake)
                if not pending.done():
                    continue
                task, pending = pending, None
                try:
                    renewed = task.result()
                except Exception as exc:  # tried again until the deadline
                    log.warning("the lease could not be renewed: %s", exc)
                    continue
                if renewed != epoch:
                    self._lose("the lease is no longer ours")
                self.deadline = sent + self.lease_s - self.margin_s
                if self.riding:
                    self.riding = False
                    log.warning("%s renewed the lease at epoch %d: the database is back",
                                self.node, epoch)  # fmt: skip
        finally:
            if pending is not None:
                pending.cancel()

    def _past_deadline(self) -> None:
        late = f"not renewed within {self.lease_s - self.margin_s:.2f} s"
        if self.ride_s <= 0:
            self._lose(late)
        self.riding = True
        log.warning(
            "%s: lease %s: commanding each PBX only while its owner mark is found ours "
            "(within %.1f s), until the database answers",
            self.node,
            late,
            self.ride_s,
        )

    def _lose(self, reason: str) -> None:
        self._lost = True  # before anything else: no command from now on
        log.critical("%s lost the lease at epoch %s (%s): it stops commanding", self.node,
                     self.epoch, reason)  # fmt: skip
        self._on_lost(reason)
        raise LeaseLost(reason)

    def release(self) -> None:
        """Hand the lease on at once (a clean stop): a standby takes it at its next ask."""
        self._lost = True
        if self.epoch is not None:
            try:
                self.store.release(self.node, self.epoch)
            except Exception as exc:  # it expires by itself all the same
                log.warning("the lease could not be released: %s", exc)
