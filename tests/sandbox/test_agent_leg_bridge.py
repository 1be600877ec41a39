"""The agent leg's failed bridge on the real sandbox Asterisk (`ccgw-agent`, dialplans/asterisk).

A caller who is gone is told at once (NONEXISTENT). Any other failure means the caller was
leaving its hold as the agent answered (hanging up, timing out, moved): the leg tells it only
0.3 s later, so the caller's own events reach the controller first and say which. Before, a
caller who hung up just as the agent answered could be recorded "redirected" (the chaos run).
Here the other failure is Bridge()'s own: a leg whose caller is the leg itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ccgateway.domain.commands import RingAgent
from ccgateway.pbx.asterisk import actions
from ccgateway.sandbox.sandbox import Sandbox
from tests.sandbox.ami import AmiSession, Message


async def told_after_answer(ami: AmiSession, arrived: dict[str, float], ring: RingAgent) -> float:
    """Ring the agent for `ring`'s caller; seconds from its answer to CCGWBridgeFailed."""
    answer = await ami.send(actions.originate_agent(ring))
    assert answer.get("Response") == "Success", answer

    def said(kind: str) -> Callable[[Message], bool]:
        return lambda e: e.get("UserEvent") == kind and e.get("Uniqueid") == ring.leg_id

    await ami.wait_for(said("CCGWAgentAnswered"))
    failed = await ami.wait_for(said("CCGWBridgeFailed"))
    assert failed["Caller"] == ring.call_id, failed
    return arrived[f"CCGWBridgeFailed {ring.leg_id}"] - arrived[f"CCGWAgentAnswered {ring.leg_id}"]


async def test_a_failed_bridge_is_told_after_the_leaving_callers_own_events(
    asterisk_sandbox: Sandbox,
) -> None:
    arrived: dict[str, float] = {}

    def stamp(event: Message) -> None:
        arrived.setdefault(f"{event.get('UserEvent')} {event.get('Uniqueid')}", time.monotonic())

    ami = AmiSession(on_event=stamp)
    login = await ami.login(asterisk_sandbox.ami_secret(), events="user")
    assert login.get("Response") == "Success", login
    gone = RingAgent("ccgw-bridge-gone", "1.nobody", "a1", "PJSIP/agent1", 15)
    itself = RingAgent("ccgw-bridge-self", "ccgw-bridge-self", "a2", "PJSIP/agent2", 15)
    try:
        assert await told_after_answer(ami, arrived, gone) < 0.25  # gone: told at once
        assert await told_after_answer(ami, arrived, itself) >= 0.3  # another failure: later
    finally:
        await ami.close()
        for ring in (gone, itself):  # the legs' end marks (no controller here to drop them)
            asterisk_sandbox.asterisk_cli(f"database deltree ccgw_end/{ring.call_id}")
