"""What the Asterisk adapter remembers of channels between AMI events, to read two facts no
single event states. Pure: no I/O.

- A caller taken out of the controller's dialplan: a `Newexten` in a context that is not
  ours, on a channel known to be a caller (it announced itself with CCGWWaiting or
  CCGWOutboundLive, or a resync found it), unless that channel is being hung up: a hang-up
  handler (a deployment's own, pushed before the call reached us) runs in its own context
  after a HangupRequest, a SoftHangupRequest or a HangupHandlerRun, and means nothing.
- A channel the PBX cut off itself: a SoftHangupRequest with cause 4
  (AST_SOFTHANGUP_SHUTDOWN: `core stop`/`core restart`) before its Hangup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ccgateway.domain.events import CallWaiting, ChannelHungUp, OutboundLive, PbxEvent
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.ami import AmiMessage

# Soft hang-up causes (include/asterisk/channel.h, AST_SOFTHANGUP_*)
ASYNC_GOTO = "2"  # a Redirect: the channel goes on elsewhere, it is not ending
SHUTDOWN = "4"  # the PBX is stopping or restarting


class Whereabouts:
    def __init__(self) -> None:
        self.callers: set[str] = set()  # live callers of ours, by uniqueid
        self.ending: set[str] = set()  # channels being hung up (hang-up handlers may run)
        self.cut_off: set[str] = set()  # channels the PBX's shutdown is hanging up

    def reset(self) -> None:
        """A new connection: forget what the old one said."""
        self.callers.clear()
        self.ending.clear()
        self.cut_off.clear()

    def know(self, callers: Iterable[str]) -> None:
        """Callers the resync found (besides those announced since)."""
        self.callers.update(callers)

    def see(self, message: AmiMessage, event: PbxEvent | None) -> PbxEvent | None:
        """The event to hand on for `message` (`event`: what translate made of it)."""
        name, uniqueid = message.get("Event", ""), message.get("Uniqueid", "")
        if isinstance(event, CallWaiting | OutboundLive):
            self.callers.add(uniqueid)
        elif name in ("HangupRequest", "HangupHandlerRun"):
            self.ending.add(uniqueid)
        elif name == "SoftHangupRequest" and message.get("Cause") != ASYNC_GOTO:
            self.ending.add(uniqueid)
            if message.get("Cause") == SHUTDOWN:
                self.cut_off.add(uniqueid)
        elif name == "Newexten":
            left = translate.left_dialplan(message)
            if left is not None and uniqueid in self.callers and uniqueid not in self.ending:
                self.callers.discard(uniqueid)  # told once
                return left
            return None
        elif isinstance(event, ChannelHungUp):
            self.callers.discard(uniqueid)
            self.ending.discard(uniqueid)
            if uniqueid in self.cut_off:
                self.cut_off.discard(uniqueid)
                return replace(event, pbx_down=True)
        return event
