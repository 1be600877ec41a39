"""A waiting caller's announcement on FreeSWITCH (domain `Announce`), as ESL words. Pure.

The caller never leaves park, so the dead-controller guard keeps its absolute deadline (park
counts `park_timeout` from its own start, and a transfer back into ccgw-inbound would start
it again) and a resync finds the caller where it always does: an inbound channel in the
inbound context at their queue's extension. How:

1. `uuid_setvar_multi`: what dialplans/freeswitch's ccgw-announce reads (position, expected
   wait in whole minutes, the comfort sound as a FreeSWITCH path, the callback offer); an
   empty value leaves a part out.
2. `uuid_break <caller> all`: what the caller hears now stops (the hold music, itself a
   `uuid_broadcast` playing inside park, or the part of an earlier announcement still
   being said) and what was queued after it is dropped (that announcement's music). Without
   `all`, an announcement sent while another runs would wait behind its endless music.
3. `uuid_broadcast <caller> execute_extension::ccgw-announce aleg`: park runs the inbound
   context's `ccgw-announce` extension as a subroutine (a broadcast's data is one word, so
   that extension calls `execute_extension announce XML ccgw-announce`), which says the
   parts and offers key 1 (CUSTOM `ccgw::callback` on the caller's channel: a
   `CallbackRequested`); the caller stays in park.
4. The hold music broadcast again, queued behind the announcement (the adapter's).

Seen on a real FreeSWITCH 1.10.12 (tests/sandbox/test_freeswitch_e2e_announce.py).
"""

from __future__ import annotations

from ccgateway.domain.commands import Announce
from ccgateway.pbx.freeswitch import commands

Words = tuple[str, ...]
# The extension of the inbound context that enters the ccgw-announce context (a broadcast's
# application data is one word).
ENTRY = "ccgw-announce"
CALLBACK_EVENT = "ccgw::callback"


def minutes(wait_s: float | None) -> str:
    """The expected wait as FreeSWITCH says it: whole minutes, at least 1 ("" if unknown),
    as Asterisk's ccgw-announce says CCGW_EWT_MIN."""
    return "" if wait_s is None else str(max(1, round(wait_s / 60)))


def variables(command: Announce, comfort: str | None) -> Words:
    """api words: every part's variable in one `uuid_setvar_multi` (an empty value clears
    one left from an earlier announcement). `comfort` is the FreeSWITCH path of the
    command's comfort sound (sounds.py)."""
    values = {
        "ccgw_position": "" if command.position is None else str(int(command.position)),
        "ccgw_ewt_min": minutes(command.wait_s),
        "ccgw_comfort": comfort or "",
        "ccgw_offer_callback": "1" if command.offer_callback else "",
    }
    for name, value in values.items():
        if value:
            commands.set_variable(command.call_id, name, value)  # refuses what would split
    pairs = ";".join(f"{name}={value}" for name, value in values.items())
    return ("uuid_setvar_multi", commands.channel(command.call_id), pairs)


def interrupt(call_id: str) -> Words:
    """api words: stop what the caller hears and drop what was queued after it."""
    return ("uuid_break", commands.channel(call_id), "all")


def announce(call_id: str) -> Words:
    """api words: the announcement as a subroutine of park (the caller stays parked)."""
    return ("uuid_broadcast", commands.channel(call_id), f"execute_extension::{ENTRY}", "aleg")
