"""A queue's callers taken by agents of the other PBX over a SIP trunk, between the real
sandbox Asterisk and a real sandbox FreeSWITCH (skipped without a FreeSWITCH binary): the
sandboxes are trunked to each other (the Asterisk's endpoint `freeswitch`, the FreeSWITCH's
gateway `asterisk`). A caller on the Asterisk talks to the FreeSWITCH's agent, and a caller
on the FreeSWITCH to the Asterisk's; each record names the agent of the other PBX, and
each PBX's own events show its part: the caller's PBX bridged the caller to a leg that went
out over the trunk, the agent's PBX rang its own phone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccgateway.app import Controller, build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT, phone_port, user_id
from ccgateway.settings import Settings
from tests.e2e.ami_observer import AmiObserver
from tests.e2e.test_two_asterisks import _bridge_of
from tests.e2e.test_two_pbxs import _records, until
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import MARKS, freeswitch_sandbox

pytestmark = [pytest.mark.asterisk, *MARKS]


async def test_each_pbx_s_callers_reach_the_other_pbx_s_agent_over_the_trunk(
    asterisk_sandbox: Sandbox, tmp_path: Path
) -> None:
    with freeswitch_sandbox(tmp_path / "fs", agents=2) as fs:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path}/db.sqlite",
            admin_key="trunk-admin-key-0123456789",
            asterisk={
                "secret": asterisk_sandbox.ami_secret(),
                "trunks": {"freeswitch": "freeswitch"},
            },
            freeswitch={
                "enabled": True,
                "port": ESL_PORT,
                "password_file": fs.password_file,
                "trunks": {"asterisk": "asterisk"},
            },
        )  # fmt: skip
        controller = build_controller(settings)
        ami, esl = AmiObserver(secret=asterisk_sandbox.ami_secret()), EslObserver(fs.esl_password())
        await ami.start()
        await esl.start()
        task = asyncio.create_task(controller.dispatcher.run())
        try:
            service, center = controller.service, controller.dispatcher.center
            await service.create_skill(Skill("support", "Support"))
            shared = {"requires": {"support": 5}, "wrapup_s": 0.0}
            await service.create_queue(
                Queue("ast", "A", "5000", pbx="asterisk", trunked_pbxes=("freeswitch",), **shared)
            )
            await service.create_queue(
                Queue("fs", "F", "5000", pbx="freeswitch", trunked_pbxes=("asterisk",), **shared)
            )
            fs_agent = Agent("f1", "F1", f"user/{user_id(1)}", {"support": 9}, pbx="freeswitch")
            await service.create_agent(fs_agent)
            await service.create_agent(Agent("a1", "A1", "PJSIP/agent1", {"support": 9}))
            await until("both PBXs", lambda: center.ready == {"asterisk", "freeswitch"})

            # 1. The Asterisk's caller, the FreeSWITCH's agent.
            await service.set_agent_state("f1", AgentState.AVAILABLE, None)
            asterisk_sandbox.call("5000", hangup_after=4, caller="+4930555401")
            first = await _record_of(controller, "+4930555401")
            assert (first.agent_id, first.outcome.value, first.queue_id) == (
                "f1",
                "answered",
                "ast",
            )
            bridge = _bridge_of(ami, first.call_id)
            assert bridge["leg"].startswith("PJSIP/freeswitch-"), bridge
            phone = f"@127.0.0.1:{phone_port(1)}"  # the FreeSWITCH agent1's phone
            rang = [e for e in esl.named("CHANNEL_BRIDGE") if phone in _sides(e)]
            assert rang, "FreeSWITCH never bridged its agent1's phone"

            # 2. The FreeSWITCH's caller, the Asterisk's agent.
            await service.set_agent_state("f1", AgentState.PAUSED, "break")
            await service.set_agent_state("a1", AgentState.AVAILABLE, None)
            fs.call("5000", hangup_after=4, caller="+4930555402")
            second = await _record_of(controller, "+4930555402")
            assert (second.agent_id, second.outcome.value, second.queue_id) == (
                "a1",
                "answered",
                "fs",
            )
            # FreeSWITCH bridged its caller to the leg it sent over the gateway to the
            # Asterisk (sofia names a gateway's channel by the dialled user alone) ...
            assert esl.bridged_channel_names(second.call_id) == {"sofia/ccgw-sandbox/agent1"}
            # ... and the Asterisk its phone agent1 to what came over the trunk.
            phone = [e for e in ami.seen("BridgeEnter") if e["Channel"].startswith("PJSIP/agent1-")]
            partners = {
                e["Channel"].rsplit("-", 1)[0]
                for p in phone
                for e in ami.seen("BridgeEnter", BridgeUniqueid=p["BridgeUniqueid"])
            }
            assert partners == {"PJSIP/agent1", "PJSIP/freeswitch"}, partners
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await ami.stop()
            await esl.stop()
            for pbx in controller.dispatcher.pbxes.values():
                await pbx.close()
            controller.engine.dispose()
            asterisk_sandbox.asterisk_cli("channel request hangup all")


def _sides(event: dict[str, str]) -> str:
    return event.get("Channel-Name", "") + " " + event.get("Other-Leg-Channel-Name", "")


async def _record_of(controller: Controller, number: str) -> Interaction:
    """The record of the call from `number`, once written."""
    [record] = await until(
        f"the call from {number} recorded",
        lambda: [r for r in _records(controller) if r.caller_number == number],
        timeout_s=40,
    )
    assert isinstance(record, Interaction)
    return record
