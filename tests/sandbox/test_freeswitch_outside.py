"""The FreeSWITCH sandbox's outside world for campaigns, without FreeSWITCH (runs in CI): the
gateway the adapter's default dial template names, the modules ccgw-outbound needs, and the
CLI that puts a callee behind the gateway."""

from __future__ import annotations

import argparse
import inspect
import xml.etree.ElementTree as ET

from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.sandbox.cli import add_sandbox_commands
from ccgateway.sandbox.freeswitch_config import ASTERISK_GATEWAY, MODULES, TRUNK, TRUNK_PORT
from ccgateway.sandbox.phones import OUTSIDE_MODES
from tests.sandbox.test_freeswitch_config import files


def test_the_default_dial_template_reaches_the_sandbox_s_callee() -> None:
    sofia = ET.fromstring(files()["autoload_configs/sofia.conf.xml"])
    gateways = {g.get("name"): g for g in sofia.iter("gateway")}
    # the outside world's, and the sandbox Asterisk's (trunked queues)
    assert set(gateways) == {TRUNK, ASTERISK_GATEWAY}
    params = {p.get("name"): p.get("value") for p in gateways[TRUNK].iter("param")}
    assert params["proxy"] == f"127.0.0.1:{TRUNK_PORT}" and params["register"] == "false"
    # what the adapter dials when nothing else is configured
    default = inspect.signature(FreeSwitchPbx).parameters["dial_template"].default
    assert default == f"sofia/gateway/{TRUNK}/{{number}}"
    assert {"outbound", "callback"} <= FreeSwitchPbx.features


def test_the_modules_ccgw_outbound_uses_are_loaded() -> None:
    # the claim (hash), the grace's arithmetic (expr), the beep (avmd)
    assert {"mod_hash", "mod_expr", "mod_avmd"} <= set(MODULES)
    avmd = ET.fromstring(files()["autoload_configs/avmd.conf.xml"])
    params = {p.get("name"): p.get("value") for p in avmd.iter("param")}
    assert params["outbound_channel"] == "1"  # a campaign's customer is an outbound channel


def test_the_outside_command_takes_the_freeswitch_sandbox() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "outside", "callee", "--pbx", "freeswitch"])
    assert (args.mode, args.pbx) == ("callee", "freeswitch")
    assert "callee" in OUTSIDE_MODES
