"""An agent of another PBX rung over a SIP trunk (a queue's `trunked_pbxes`): the Originate
Asterisk gets, and how the leg says whose phone it rang when the controller reads it back
(a resync, an end mark) although its own channel is the trunk's."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import LegEndMark
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.actions import Actions
from ccgateway.ports import InvalidWireValue
from ccgateway.sandbox.asterisk_config import FIRST, SECOND, SandboxConfig, render
from ccgateway.settings import Settings

TRUNKED = RingAgent(
    "ccgw-7", "1796.4", "eve", "PJSIP/agent2", 15.0, "+4930", "Ann", agent_pbx="east"
)


def test_the_leg_rings_the_phone_over_the_trunk_and_names_it_in_its_account_code() -> None:
    action = Actions(trunks={"east": "to-east"}).originate_agent(TRUNKED)
    assert (action["Channel"], action["Account"]) == ("PJSIP/agent2@to-east", "PJSIP/agent2@east")
    assert action["Variable"].endswith(",CCGW_DEVICE=PJSIP/agent2@east")  # for its end mark
    # The rest is the ordinary agent leg: our id, our context, the caller to bridge.
    local = Actions().originate_agent(RingAgent("ccgw-7", "1796.4", "ann", "PJSIP/agent2", 15.0))
    assert "Account" not in local and local["Channel"] == "PJSIP/agent2"
    ignored = ("Channel", "Account", "CallerID", "Variable")
    same = {k: v for k, v in action.items() if k not in ignored}
    assert same == {k: v for k, v in local.items() if k not in ignored}
    assert action["Variable"].startswith(local["Variable"])
    # A phone whose name has a '-' (the far dialplan lets it through: tests/sandbox).
    hyphen = Actions(trunks={"east": "to-east"}).originate_agent(
        replace(TRUNKED, device="PJSIP/sales-101")
    )
    assert (hyphen["Channel"], hyphen["Account"]) == (
        "PJSIP/sales-101@to-east",
        "PJSIP/sales-101@east",
    )


@pytest.mark.parametrize(
    ("command", "why"),
    [
        (replace(TRUNKED, agent_pbx="west"), "no trunk from this Asterisk to west"),
        (replace(TRUNKED, device="SIP/agent2"), "cannot be rung over a trunk"),
        (replace(TRUNKED, device="PJSIP/agent2&PJSIP/x"), "cannot be rung over a trunk"),
        (replace(TRUNKED, device="PJSIP/a+b"), "cannot be rung over a trunk"),
    ],
)
def test_a_leg_that_cannot_take_the_trunk_is_refused_before_anything_is_sent(
    command: RingAgent, why: str
) -> None:
    with pytest.raises(InvalidWireValue, match=why):
        Actions(trunks={"east": "to-east"}).originate_agent(command)


def test_a_trunk_endpoint_is_checked_like_the_customers_trunk() -> None:
    with pytest.raises(InvalidWireValue, match="trunk endpoint"):
        Actions(trunks={"east": "to east"})


@pytest.mark.parametrize(
    ("channel", "account", "device"),
    [
        ("PJSIP/to-east-0000001f", "PJSIP/agent2@east", ("PJSIP/agent2", "east")),
        ("PJSIP/to-east-0000001f", "PJSIP/sales-101@east", ("PJSIP/sales-101", "east")),
        ("PJSIP/agent2-0000001f", "", ("PJSIP/agent2", "")),
        # an account code of somebody else's making is not read as a trunked agent
        ("PJSIP/agent2-0000001f", "billing-42", ("PJSIP/agent2", "")),
        ("PJSIP/agent2-0000001f", "PJSIP/x@East", ("PJSIP/agent2", "")),
    ],
)
def test_whose_phone_a_leg_rang(channel: str, account: str, device: tuple[str, str]) -> None:
    assert translate.leg_device(channel, account) == device


def test_the_resync_and_the_end_marks_name_a_trunked_leg_s_agent() -> None:
    channel = {
        "Event": "CoreShowChannel",
        "Channel": "PJSIP/to-east-0000001f",
        "Uniqueid": "ccgw-7",
        "Context": "ccgw-agent",
        "Exten": "s",
        "Application": "Bridge",
        "ApplicationData": "1796.4,F(ccgw-agent-gone^s^1)",
        "ChannelState": "6",
        "Duration": "00:00:12",
        "BridgeId": "b-1",
        "AccountCode": "PJSIP/agent2@east",
    }
    [leg] = translate.to_snapshot([channel], []).agent_legs
    assert (leg.device, leg.device_pbx, leg.caller_id) == ("PJSIP/agent2", "east", "1796.4")
    mark = {
        "Event": "DBGetTreeResponse",
        "Key": "/ccgw_end/1796.4/ccgw-7",
        "Val": "1|1796000004.25|1796000031.5|PJSIP/agent2@east",
    }
    _, legs = translate.to_end_marks([mark])
    assert legs == [
        LegEndMark("ccgw-7", "1796.4", "PJSIP/agent2", 1796000004.25, 1796000031.5, "east")
    ]


def test_trunks_name_another_driven_pbx_and_an_endpoint() -> None:
    east = {"kind": "asterisk", "port": 5138, "secret": "s", "trunks": {"asterisk": "main"}}
    settings = Settings(
        asterisk={"secret": "s", "trunks": {"east": "to-east"}}, pbxes={"east": east}
    )
    assert settings.asterisk.trunks == {"east": "to-east"}
    with pytest.raises(ValidationError, match=r"asterisk\.trunks\.west: not another PBX"):
        Settings(asterisk={"secret": "s", "trunks": {"west": "to-west"}})
    with pytest.raises(ValidationError, match=r"asterisk\.trunks\.asterisk: not another PBX"):
        Settings(asterisk={"secret": "s", "trunks": {"asterisk": "self"}})
    # a disabled PBX's trunks lead nowhere and are not checked ([freeswitch] is off by default)
    assert Settings(asterisk={"secret": "s"}, freeswitch={"trunks": {"west": "gw"}})
    with pytest.raises(ValidationError, match="not a PJSIP endpoint"):
        Settings(asterisk={"secret": "s", "trunks": {"east": "to east;x"}}, pbxes={"east": east})


def test_each_sandbox_asterisk_has_a_trunk_to_the_other_ringing_its_agents() -> None:
    dialplans = {"ccgateway.conf": ""}
    for layout, other in ((FIRST, SECOND), (SECOND, FIRST)):
        pjsip = render(SandboxConfig(2, "secret", "/m", layout=layout), dialplans)["pjsip.conf"]
        endpoint = pjsip.split(f"\n[{other.name}]\ntype = endpoint\n")[1].split("\n\n")[0]
        assert "context = ccgw-trunk-agents" in endpoint
        assert f"match = 127.0.0.1:{other.sip_port}\n" in pjsip
