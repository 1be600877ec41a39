"""The FreeSWITCH sandbox's generated configuration and CLI, without FreeSWITCH (runs in CI)."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccgateway.sandbox import SandboxError
from ccgateway.sandbox.cli import add_sandbox_commands
from ccgateway.sandbox.freeswitch import find_binary
from ccgateway.sandbox.freeswitch_config import (
    ESL_PORT,
    SIP_PORT,
    FreeSwitchConfig,
    render,
    secret_include,
    sound_files,
)

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans" / "freeswitch"
CONFIG = FreeSwitchConfig(3, "/s", "/s/esl-secret.xml", "/s/sounds/en/us/callie", "/s/moh")


def files() -> dict[str, str]:
    return render(
        CONFIG,
        (DIALPLANS / "ccgateway.xml").read_text(),
        (DIALPLANS / "event_socket.conf.xml").read_text(),
        (DIALPLANS / "conference.conf.xml").read_text(),
    )


def test_every_generated_file_is_xml_and_the_password_is_only_included() -> None:
    generated = files()
    for text in generated.values():
        ET.fromstring(text)  # each parses on its own
    assert '<X-PRE-PROCESS cmd="include" data="/s/esl-secret.xml"/>' in generated["vars.xml"]
    esl = generated["autoload_configs/event_socket.conf.xml"]
    assert f'value="{ESL_PORT}"' in esl and "8021" not in esl
    assert "$${ccgw_esl_password}" in esl
    assert generated["dialplan/ccgateway.xml"] == (DIALPLANS / "ccgateway.xml").read_text()


def test_the_directory_has_each_agent_and_the_dial_string_user_dialling_needs() -> None:
    directory = files()["directory/sandbox.xml"]
    assert all(f'<user id="100{k}">' in directory for k in (1, 2, 3))
    assert '<user id="1004">' not in directory
    assert "${sofia_contact(${dialed_user}@${dialed_domain})}" in directory
    sofia = files()["autoload_configs/sofia.conf.xml"]
    assert f'name="sip-port" value="{SIP_PORT}"' in sofia
    assert 'name="sip-ip" value="127.0.0.1"' in sofia
    assert SIP_PORT not in (5060, 5080, 5090) and ESL_PORT != 8021


def test_three_way_conferences_have_mod_conference_and_the_shipped_profile() -> None:
    generated = files()
    modules = ET.fromstring(generated["autoload_configs/modules.conf.xml"])
    assert "mod_conference" in {m.get("module") for m in modules.iter("load")}
    conference = generated["autoload_configs/conference.conf.xml"]
    assert conference == (DIALPLANS / "conference.conf.xml").read_text()


def test_the_esl_password_include_takes_only_plain_tokens() -> None:
    assert "ccgw_esl_password=abc-DEF_1" in secret_include("abc-DEF_1")
    with pytest.raises(ValueError):
        secret_include('x"/><X-PRE-PROCESS cmd="set" data="y=1')


def test_the_fallback_and_voicemail_prompts_are_among_the_generated_sounds() -> None:
    plan = (DIALPLANS / "ccgateway.xml").read_text()
    wanted = {
        data
        for data in (
            action.get("data", "")
            for action in ET.fromstring(plan).iter("action")
            if action.get("application") == "playback"
        )
        if data.endswith(".wav")
    }
    assert wanted <= set(sound_files()), wanted - set(sound_files())
    assert all(words.strip() for words in sound_files().values())


def test_no_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CCGW_FREESWITCH_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="--freeswitch-bin"):
        find_binary()
    with pytest.raises(SandboxError, match="not an executable"):
        find_binary(tmp_path / "freeswitch")


def test_the_cli_defaults_to_asterisk_and_takes_pbx_and_binary() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["sandbox", "up"]).pbx == "asterisk"
    assert parser.parse_args(["sandbox", "down"]).pbx == "asterisk"
    up = parser.parse_args(["sandbox", "up", "--pbx", "both", "--freeswitch-bin", "/x/freeswitch"])
    assert (up.pbx, up.freeswitch_bin) == ("both", "/x/freeswitch")
    assert parser.parse_args(["sandbox", "status", "--pbx", "freeswitch"]).pbx == "freeswitch"
    assert parser.parse_args(["sandbox", "call", "300", "--pbx", "freeswitch"]).pbx == "freeswitch"


def test_the_hold_timeout_is_the_global_the_dialplan_reads() -> None:
    """`--hold-timeout` reaches ccgw-inbound's guard as the global ccgw_hold_timeout; the
    customers' entry sets no domain_name (voicemail names the switch's own $${domain})."""
    generated = render(
        FreeSwitchConfig(1, "/s", "/s/x.xml", "/s/snd", "/s/moh", hold_timeout_s=45),
        (DIALPLANS / "ccgateway.xml").read_text(),
        (DIALPLANS / "event_socket.conf.xml").read_text(),
    )
    assert '<X-PRE-PROCESS cmd="set" data="ccgw_hold_timeout=45"/>' in generated["vars.xml"]
    assert "${ccgw_hold_timeout}" in generated["dialplan/ccgateway.xml"]
    assert "domain_name" not in generated["dialplan/sandbox.xml"]
    assert 'data="ccgw_hold_timeout=900"' in files()["vars.xml"]  # the default
