"""An agent of another PBX rung over a SIP trunk (a queue's `trunked_pbxes`), as both
adapters write it and read it back: pure.

The leg is made on the caller's PBX and its channel is the trunk's, so the leg itself
carries whose phone it rang: `<device>@<the agent's PBX>` (Asterisk: the leg's account
code, read by a resync, and its CCGW_DEVICE, kept by its end mark; FreeSWITCH: its
`ccgw_device` variable, read by both), read back as the leg's device.
The far PBX's dialplan (`ccgw-trunk-agents`) rings its own phone by the name that crossed
the trunk: an Asterisk `PJSIP/<phone>`, a FreeSWITCH `user/<phone>`.
"""

from __future__ import annotations

import re

from ccgateway.ports import InvalidWireValue

# A device that can be rung over a trunk, and the phone's name the INVITE carries (the user
# part of its request URI; the far dialplan lets these characters through and no others).
TRUNKED_DEVICE = re.compile(r"(PJSIP|user)/([A-Za-z0-9_.-]{1,64})")
_ACCOUNT = re.compile(rf"({TRUNKED_DEVICE.pattern})@([a-z][a-z0-9_-]{{0,31}})")


def phone(device: str) -> str:
    """The name a trunk's INVITE gives the phone of `device` (`PJSIP/agent2` -> `agent2`)."""
    matched = TRUNKED_DEVICE.fullmatch(device)
    if matched is None:
        raise InvalidWireValue(
            f"device {device!r} cannot be rung over a trunk: PJSIP/<phone> or user/<phone>, "
            "the phone of letters, digits, '_', '.' and '-'"
        )
    return matched.group(2)


def account(device: str, pbx: str) -> str:
    """What a leg rung over a trunk says of itself: `PJSIP/agent2@east`."""
    return f"{device}@{pbx}"


def agent_of(text: str) -> tuple[str, str] | None:
    """(device, PBX) of a trunked leg's `account` text; None for anything else (a channel's
    name, an account code of somebody else's making)."""
    matched = _ACCOUNT.fullmatch(text)
    return None if matched is None else (matched.group(1), matched.group(4))
