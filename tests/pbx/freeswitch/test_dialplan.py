"""The shipped FreeSWITCH XML (dialplans/freeswitch) read as FreeSWITCH reads it.

Each test stands for a defect of issue 15 seen on a real FreeSWITCH 1.10.12: the
pre-processor acting inside comments, hold music outliving park_timeout, feature codes
fired as CHANNEL_APPLICATION and never answered.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccgateway.domain.events import Feature, FeatureCodeDialled
from ccgateway.pbx.freeswitch import translate
from tests.pbx.freeswitch.test_translate import events

DIALPLANS = Path(__file__).resolve().parents[3] / "dialplans" / "freeswitch"
SHIPPED = sorted(DIALPLANS.glob("*.xml"))
COMMENT = re.compile(r"<!--(.*?)-->", re.S)


def context(name: str) -> ET.Element:
    root = ET.parse(DIALPLANS / "ccgateway.xml").getroot()
    found = root.find(f"context[@name='{name}']")
    assert found is not None, name
    return found


def actions(extension: ET.Element) -> list[tuple[str, str]]:
    return [(a.get("application", ""), a.get("data", "")) for a in extension.iter("action")]


def test_freeswitch_xml_is_shipped_and_well_formed() -> None:
    assert {p.name for p in SHIPPED} >= {"ccgateway.xml", "event_socket.conf.xml"}
    for path in SHIPPED:
        ET.parse(path)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_no_pre_processor_directive_hides_in_a_comment(path: Path) -> None:
    """FreeSWITCH's pre-processor reads lines, not XML: a `<X-PRE-PROCESS .../>` in a comment
    is acted on (an example `set` once made `...` the Event Socket password)."""
    for comment in COMMENT.findall(path.read_text()):
        assert "X-PRE-PROCESS" not in comment.upper(), comment


def test_the_esl_password_is_only_a_variable() -> None:
    text = (DIALPLANS / "event_socket.conf.xml").read_text()
    root = ET.fromstring(text)
    [password] = [p for p in root.iter("param") if p.get("name") == "password"]
    assert password.get("value") == "$${ccgw_esl_password}"
    # nowhere, comments included, is the variable given a value
    assert not re.search(r"ccgw_esl_password\s*=", text)


def test_hold_music_cannot_outlive_the_dead_controller_guard() -> None:
    """park checks park_timeout only between turns of its loop; the controller's music is an
    endless uuid_broadcast inside it, so every playback is bounded by the same time."""
    [queue] = context("ccgw-inbound").iter("extension")
    steps = actions(queue)
    apps = [app for app, _ in steps]
    variables = dict(data.split("=", 1) for app, data in steps if app == "set")
    park_s = int(variables["park_timeout"].split(":")[0])
    assert int(variables["playback_timeout_sec"]) == park_s
    # both are set before park, which is the last thing the caller's dialplan does
    assert apps[-1] == "park"
    assert apps.index("answer") < apps.index("park")


FEATURES = {
    "*71": ("available", None),
    "*7205": ("pause", 5),
    "*73": ("logout", None),
    "*742": ("pause_after_call", 2),
    "*75": ("logout_after_call", None),
}


def feature_extension(dialled: str) -> ET.Element:
    for extension in context("ccgw-features").iter("extension"):
        condition = extension.find("condition")
        assert condition is not None
        if re.fullmatch(condition.get("expression", ""), dialled):
            return extension
    raise AssertionError(f"no extension for {dialled}")


def fired_headers(data: str, dialled: str, extension: ET.Element) -> dict[str, str]:
    """What mod_dptools' `event` application sets from its data (comma-separated name=value),
    with the condition's capture substituted as FreeSWITCH does."""
    condition = extension.find("condition")
    assert condition is not None
    match = re.fullmatch(condition.get("expression", ""), dialled)
    assert match is not None
    data = re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))) or "", data)
    return dict(part.split("=", 1) for part in data.split(","))


@pytest.mark.parametrize("dialled", FEATURES)
def test_a_feature_code_is_answered_and_fires_a_custom_event(dialled: str) -> None:
    extension = feature_extension(dialled)
    steps = actions(extension)
    apps = [app for app, _ in steps]
    # answered first: the phone shows a completed call and hears the tone, not a 480
    assert apps[0] == "answer"
    assert apps[-1] == "hangup"
    assert "playback" in apps[apps.index("event") :]
    [data] = [data for app, data in steps if app == "event"]
    # without Event-Name=CUSTOM the application fires CHANNEL_APPLICATION, which the
    # controller does not subscribe to
    assert data.startswith("Event-Name=CUSTOM,Event-Subclass=ccgw::feature,")
    headers = fired_headers(data, dialled, extension)
    assert headers["Event-Subclass"] in translate.CUSTOM


@pytest.mark.parametrize("dialled", FEATURES)
def test_the_fired_event_becomes_a_feature_code(dialled: str) -> None:
    """The event as FreeSWITCH sends it: the caller's channel data (transcript 14's phone
    calling in) plus what the dialplan's `event` application adds."""
    channel = next(
        e
        for e in events("14_agent_register_originate_bridge")
        if e.get("Event-Name") == "CHANNEL_PARK" and e.get("Call-Direction") == "inbound"
    )
    extension = feature_extension(dialled)
    [data] = [data for app, data in actions(extension) if app == "event"]
    fired = {**channel, **fired_headers(data, dialled, extension)}
    feature, number = FEATURES[dialled]
    assert translate.to_event(fired) == FeatureCodeDialled(
        "user/15551230000", Feature(feature), number
    )
    # the same data without Event-Name=CUSTOM is what the old dialplan sent: nothing
    as_application = {**fired, "Event-Name": "CHANNEL_APPLICATION"}
    assert translate.to_event(as_application) is None
