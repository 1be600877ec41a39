"""An agent of another PBX rung from FreeSWITCH over a sofia gateway (a queue's
`trunked_pbxes`): the originate, and how the leg says whose phone it rang when it is read
back (a resync's `uuid_dump`, an end mark), its own channel being the gateway's. The live
run is tests/e2e/test_trunk_asterisk_freeswitch.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import LegEndMark
from ccgateway.pbx.freeswitch import commands, end_marks, translate
from ccgateway.ports import InvalidWireValue
from ccgateway.sandbox import asterisk_config, freeswitch_config

TRUNKED = RingAgent("ccgw-7", "bf83", "a1", "PJSIP/agent1", 15, "+4930", agent_pbx="asterisk")


def test_the_leg_goes_out_over_the_gateway_and_names_the_phone_it_rings() -> None:
    verb, variables, park = commands.originate_agent(TRUNKED, gateways={"asterisk": "to-ast"})
    assert (verb, park) == ("originate", "&park()")
    assert variables.endswith("}sofia/gateway/to-ast/agent1")
    assert ",ccgw_device=PJSIP/agent1@asterisk," in variables
    local = commands.originate_agent(RingAgent("ccgw-7", "bf83", "f1", "user/1001", 15, "+4930"))
    assert local[1].endswith("}user/1001") and ",ccgw_device=user/1001," in local[1]
    hyphen = replace(TRUNKED, device="PJSIP/sales-101")
    variables = commands.originate_agent(hyphen, gateways={"asterisk": "to-ast"})[1]
    assert variables.endswith("}sofia/gateway/to-ast/sales-101")


@pytest.mark.parametrize(
    ("gateways", "device", "why"),
    [
        ({}, "PJSIP/agent1", "no trunk from this FreeSWITCH to asterisk"),
        ({"asterisk": "to ast"}, "PJSIP/agent1", "no trunk from this FreeSWITCH to asterisk"),
        ({"asterisk": "to-ast"}, "PJSIP/agent1&x", "cannot be rung over a trunk"),
        ({"asterisk": "to-ast"}, "SIP/agent1", "cannot be rung over a trunk"),
    ],
)
def test_a_leg_that_cannot_take_the_gateway_is_refused(
    gateways: dict[str, str], device: str, why: str
) -> None:
    command = RingAgent("ccgw-7", "bf83", "a1", device, 15, agent_pbx="asterisk")
    with pytest.raises(InvalidWireValue, match=why):
        commands.originate_agent(command, gateways=gateways)


def test_a_resync_and_an_end_mark_name_the_other_pbx_s_agent() -> None:
    row = {
        "uuid": "ccgw-7",
        "direction": "outbound",
        "dest": "agent1",  # what sofia knows of a gateway's channel
        "name": "sofia/ccgw-sandbox/agent1",
        "call_uuid": "bf83",
        "callstate": "ACTIVE",
        "created_epoch": "1796607820",
    }
    channels = json.dumps({"row_count": 1, "rows": [row]})
    dump = {
        "Event-Date-Timestamp": "1796607830000000",
        "variable_ccgw_device": "PJSIP/agent1@asterisk",
    }
    [leg] = translate.to_snapshot(channels, dumps={"ccgw-7": dump}).agent_legs
    assert (leg.device, leg.device_pbx, leg.caller_id) == ("PJSIP/agent1", "asterisk", "bf83")
    [plain] = translate.to_snapshot(channels).agent_legs
    assert (plain.device, plain.device_pbx) == ("user/agent1", "")
    line = "D/ccgw_end_bf83~ccgw-7/1|1796607820851310|1796607828831310|PJSIP/agent1@asterisk"
    _, legs = end_marks.to_end_marks(line)
    assert legs == [
        LegEndMark("ccgw-7", "bf83", "PJSIP/agent1", 1796607820.85131, 1796607828.83131, "asterisk")
    ]


def test_the_sandboxes_are_trunked_at_each_other_s_own_sip_port() -> None:
    assert asterisk_config.FREESWITCH_SIP_PORT == freeswitch_config.SIP_PORT
    assert freeswitch_config.ASTERISK_SIP_PORT == asterisk_config.SIP_PORT
