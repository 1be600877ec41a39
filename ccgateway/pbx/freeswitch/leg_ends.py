"""A bridged agent leg's end held until its caller has left the bridge. Pure bookkeeping;
the adapter owns the clock (FreeSwitchPbx._hold_leg_end).

Another tool moving a talking caller (`uuid_transfer <caller> <ext> XML <its context>`)
breaks the bridge: FreeSWITCH ends the agent leg (its `&park()` is long done) and only then
sends the caller's CHANNEL_UNBRIDGE naming the new context (seen on 1.10.12, 20 ms apart,
recorded/bridged_caller_moved.esl). Told in that order, the centre reads the leg's end as
"the agent hung up" and hangs the caller up, now someone else's. Held until the caller's
CHANNEL_UNBRIDGE (or its hang-up), the leg's end comes after the caller's `CallerLeft`, as
on Asterisk, where the caller's Newexten elsewhere comes first.
"""

from __future__ import annotations

from ccgateway.domain.events import ChannelHungUp, PbxEvent
from ccgateway.pbx.freeswitch.translate import LEG_PREFIX, EventHeaders

HOLD_S = 0.5  # the bound: the caller's UNBRIDGE came 20 ms after the leg's end


class LegEnds:
    """Which callers FreeSWITCH has in a bridge now, and the agent legs' ends waiting for
    one of them to leave it."""

    def __init__(self) -> None:
        self._bridged: set[str] = set()
        self._held: dict[str, list[ChannelHungUp]] = {}

    def hold(self, event: EventHeaders, told: PbxEvent | None) -> str | None:
        """The caller to wait for when `told` is the end of an agent leg bridged to a
        caller that is still in the bridge (the leg's end is then kept here); else None."""
        if not isinstance(told, ChannelHungUp) or not told.channel_id.startswith(LEG_PREFIX):
            return None
        caller = event.get("variable_bridge_uuid", "")
        if caller not in self._bridged or caller != event.get("variable_ccgw_caller"):
            return None
        self._held.setdefault(caller, []).append(told)
        return caller

    def seen(self, event: EventHeaders) -> str | None:
        """Notes a caller entering or leaving a bridge; the caller whose held legs' ends
        are due now (it left the bridge, or hung up), else None."""
        name, uuid = event.get("Event-Name"), event.get("Unique-ID", "")
        if not uuid or uuid.startswith(LEG_PREFIX):
            return None
        if name == "CHANNEL_BRIDGE":
            self._bridged.add(uuid)
            return None
        if name in ("CHANNEL_UNBRIDGE", "CHANNEL_HANGUP"):
            self._bridged.discard(uuid)
            return uuid if uuid in self._held else None
        return None

    def release(self, caller: str) -> list[ChannelHungUp]:
        """The legs' ends held for this caller, now theirs to tell (none if told already)."""
        return self._held.pop(caller, [])

    def forget(self) -> None:
        """The link is lost: the resync after it tells which channels are left."""
        self._held.clear()
        self._bridged.clear()
