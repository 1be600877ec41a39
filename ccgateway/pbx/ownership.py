"""One PBX, one brain: the owner's mark on the PBX and the rules for taking it (pure).

The controller that commands a PBX keeps a mark on it (an Asterisk global variable, a
FreeSWITCH global): its node id, its fencing epoch and a stamp in the PBX's own time,
rewritten about every second. Another controller that finds a live mark of someone else
stays passive: it sends nothing and emits no resync, so its centre never offers a call on
that PBX. Only the PBX's clock is compared with the PBX's clock, so the controllers' clocks
may disagree.

A mark may be taken when it is absent, stale (its stamp older than the link's dead-after
time in the PBX's time), this node's own (a restart), or of a lower epoch (a pair's newer
lease holder). An owner that finds someone else's live mark of an equal or higher epoch is
fenced: it stops commanding at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.ports import Owner

VARIABLE = "CCGW_OWNER"


@dataclass(frozen=True, slots=True)
class Mark:
    """What the PBX carries: `<node> <epoch> <stamp>` (the stamp in the PBX's seconds)."""

    node: str
    epoch: int
    stamp: float

    def encode(self) -> str:
        return f"{self.node} {self.epoch} {self.stamp:.3f}"

    def describe(self) -> str:
        return f"{self.node} (epoch {self.epoch})"


def check_node(node: str) -> str:
    """A node id that fits a mark: no spaces, no '=', nothing unprintable (a wire value)."""
    if not node or not node.isprintable() or any(c in node for c in " =\t"):
        raise ValueError(f"node id {node!r} cannot be a PBX owner mark (no spaces or '=')")
    return node


def parse_mark(text: str | None) -> Mark | None:
    """The mark a PBX answered, or None when absent or not one of ours (then it is free)."""
    parts = (text or "").split()
    if len(parts) != 3:
        return None
    node, epoch, stamp = parts
    try:
        return Mark(node, int(epoch), float(stamp))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """`take`: this controller may (re)write the mark and command; otherwise `holder` is the
    live owner it must leave the PBX to."""

    take: bool
    holder: Mark | None = None


def judge(
    found: Mark | None,
    me: Owner,
    pbx_now: float,
    dead_after_s: float,
    last_live_other: float | None = None,
) -> Verdict:
    """Whether `me` may hold the PBX that answered `found` at `pbx_now` (its own time).

    `last_live_other` is the PBX time at which this controller last saw another node's live
    mark: a mark that vanishes (a dialplan reload clears Asterisk's globals) is taken only once
    its owner would have gone stale, so a running owner is not robbed by a reload."""
    if found is None:
        if last_live_other is not None and pbx_now - last_live_other <= dead_after_s:
            return Verdict(False, None)
        return Verdict(True)
    if found.node == me.node or me.epoch > found.epoch:
        return Verdict(True)
    if pbx_now - found.stamp > dead_after_s:
        return Verdict(True)
    return Verdict(False, found)
