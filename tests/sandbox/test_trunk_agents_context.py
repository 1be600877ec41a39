"""The context another PBX's trunk reaches (`ccgw-trunk-agents`, dialplans/asterisk), on the
real sandbox Asterisk: it rings the phone named, with a '-' in the name kept as it is, and
refuses a name it would have to change rather than ring what is left of it (another phone:
`agent-2` and `agent2+` once both rang agent2)."""

from __future__ import annotations

import asyncio

from ccgateway.sandbox.sandbox import Sandbox
from tests.sandbox.ami import AmiSession, Message


def rang_agent2(event: Message) -> bool:
    return event.get("Event") == "Newchannel" and event.get("Channel", "").startswith(
        "PJSIP/agent2-"
    )


async def originate(ami: AmiSession, phone: str) -> None:
    """What the trunk's INVITE for `phone` does on this Asterisk: a call into the context."""
    channel = f"Local/{phone}@ccgw-trunk-agents"
    action = {"Action": "Originate", "Channel": channel, "Application": "Wait", "Data": "1"}
    answer = await ami.send({**action, "Async": "true"})
    assert answer.get("Response") == "Success", answer


async def test_the_trunk_context_rings_exactly_the_phone_named(asterisk_sandbox: Sandbox) -> None:
    ami = AmiSession()
    login = await ami.login(asterisk_sandbox.ami_secret(), events="call,dialplan")
    assert login.get("Response") == "Success", login
    try:
        for name in ("agent-2", "agent2+"):
            await originate(ami, name)
        await asyncio.sleep(1.5)  # a Dial would have made agent2's channel by now
        assert not [e for e in ami.events if rang_agent2(e)]
        # The name as the context kept it, '-' and all (no such phone here) ...
        await ami.wait_for(
            lambda e: (
                e.get("Event") == "VarSet"
                and e.get("Variable") == "CCGW_PHONE"
                and e.get("Value") == "agent-2"
            )
        )
        # ... and the name it would have had to change refused: 21, call rejected.
        refused = await ami.wait_for(
            lambda e: (
                e.get("Event") == "Hangup"
                and e.get("Exten") == "agent2+"
                and e.get("Context") == "ccgw-trunk-agents"
            )
        )
        assert refused["Cause"] == "21", refused
        # The name as it is rings its phone (the sandbox's agent2 answers at once).
        await originate(ami, "agent2")
        await ami.wait_for(rang_agent2)
    finally:
        await ami.close()
