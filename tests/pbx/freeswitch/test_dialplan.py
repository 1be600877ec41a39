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

from ccgateway.domain.events import ConsentHeard, Feature, FeatureCodeDialled
from ccgateway.pbx.freeswitch import consults, translate
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
    [queue] = [
        e for e in context("ccgw-inbound").iter("extension") if e.get("name") == "ccgw-queue"
    ]
    steps = actions(queue)
    apps = [app for app, _ in steps]
    variables = dict(data.split("=", 1) for app, data in steps if app == "set")
    park, cause = variables["park_timeout"].split(":")
    assert (park, cause) == ("${ccgw_hold_s}", "ALLOTTED_TIMEOUT")
    assert variables["playback_timeout_sec"] == park
    # both are set before park, which is the last thing the caller's dialplan does
    assert apps[-1] == "park"
    assert apps.index("answer") < apps.index("park")


def test_the_hold_timeout_is_the_deployment_s_variable_with_a_default_of_900() -> None:
    """As Asterisk's CCGW_HOLD_TIMEOUT: the global ccgw_hold_timeout when it is a number of
    seconds, else 900 (a missing or broken value never leaves a caller unguarded)."""
    [queue] = [
        e for e in context("ccgw-inbound").iter("extension") if e.get("name") == "ccgw-queue"
    ]
    [_, hold, _number, _] = queue.findall("condition")
    assert hold.get("field") == "${ccgw_hold_timeout}"
    assert hold.get("break") == "never"  # a missing value goes on to park all the same
    pattern = re.compile(hold.get("expression", ""))
    assert [bool(pattern.fullmatch(v)) for v in ("45", "900", "86400", "", "0", "x", "-5")] == [
        True, True, True, False, False, False, False,
    ]  # fmt: skip
    assert actions(hold) == [("set", "ccgw_hold_s=$1")]
    [default] = hold.findall("anti-action")
    assert default.get("data") == "ccgw_hold_s=900"
    # no literal time anywhere else where a caller waits (the consult contexts bound the
    # agents' legs with times of their own)
    for name in ("ccgw-inbound", "ccgw-consent"):
        data = [a.get("data", "") for a in context(name).iter() if a.get("application") == "set"]
        assert not [d for d in data if re.match(r"(park_timeout|playback_timeout_sec)=\d", d)]


def test_voicemail_names_the_switch_s_domain_not_the_caller_s() -> None:
    """${domain_name} is set only for directory users; a trunk caller has none and
    mod_voicemail gives up. The global $${domain} (vars.xml) is always there."""
    [extension] = context("ccgw-voicemail").iter("extension")
    [data] = [data for app, data in actions(extension) if app == "voicemail"]
    assert data == "default $${domain} ${ccgw_mailbox}"


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


def consent_extension(name: str) -> ET.Element:
    found = context("ccgw-consent").find(f"extension[@name='{name}']")
    assert found is not None, name
    return found


def branches(extension: ET.Element) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(actions, anti-actions) of the extension's last condition."""
    last = extension.findall("condition")[-1]
    steps = [(a.get("application", ""), a.get("data", "")) for a in last.findall("action")]
    anti = [(a.get("application", ""), a.get("data", "")) for a in last.findall("anti-action")]
    return steps, anti


def test_the_notice_offers_the_refusal_key_only_when_there_is_one() -> None:
    """With a key: play_and_get_digits, one try, 2 s after the notice, no terminator that
    could swallow the key, and a pattern only the key matches; without: a plain playback.
    Either way on to consent-heard (conditions are read on entering an extension)."""
    extension = consent_extension("ccgw-consent")
    first, keyed = extension.findall("condition")
    assert re.fullmatch(first.get("expression", ""), "200")
    assert keyed.get("field") == "${ccgw_refuse_key}"
    assert [bool(re.fullmatch(keyed.get("expression", ""), k)) for k in ("9", "*", "#", "")] == [
        True,
        True,
        True,
        False,
    ]
    steps, anti = branches(extension)
    [(_, data)] = [s for s in steps if s[0] == "play_and_get_digits"]
    words = data.split(" ")
    assert words[:5] == ["1", "1", "1", "2000", "none"]  # min, max, tries, wait, terminators
    assert (words[5], words[7], words[8]) == (
        "${ccgw_sound}",
        "ccgw_consent_digit",
        "^[${ccgw_refuse_key}]$",
    )
    for key in "0123456789*#":  # the pattern as FreeSWITCH expands it: only the key
        pattern = words[8].replace("${ccgw_refuse_key}", key)
        assert [d for d in "0123456789*#" if re.fullmatch(pattern, d)] == [key]
    assert steps[-1] == anti[-1] == ("transfer", "consent-heard XML ccgw-consent")
    assert ("playback", "${ccgw_sound}") in anti and ("unset", "ccgw_consent_digit") in anti


@pytest.mark.parametrize(("digit", "refused"), [("9", True), ("", False)])
def test_consent_heard_fires_the_custom_event_and_parks_the_caller_again(
    digit: str, refused: bool
) -> None:
    extension = consent_extension("ccgw-consent-heard")
    first, outcome = extension.findall("condition")
    assert re.fullmatch(first.get("expression", ""), "consent-heard")
    assert outcome.get("field") == "${ccgw_consent_digit}"
    steps, anti = branches(extension)
    taken = steps if re.fullmatch(outcome.get("expression", ""), digit) else anti
    [(_, data)] = [s for s in taken if s[0] == "event"]
    assert data.startswith("Event-Name=CUSTOM,Event-Subclass=ccgw::consent,")
    fired = dict(part.split("=", 1) for part in data.split(","))
    assert fired["Event-Subclass"] in translate.CUSTOM
    caller = {"Event-Name": "CUSTOM", "Unique-ID": "c-1"}
    assert translate.to_event({**caller, **fired}) == ConsentHeard("c-1", refused)
    # back on hold through the inbound context: the same guard (park_timeout) and a park
    # the adapter answers with hold music
    assert taken[-1] == ("transfer", "${ccgw_queue} XML ${ccgw_hold_context}")
    assert taken.index(("event", data)) < len(taken) - 1


def extension_for(context_name: str, dialled: str) -> ET.Element:
    for extension in context(context_name).iter("extension"):
        condition = extension.find("condition")
        assert condition is not None
        if re.fullmatch(condition.get("expression", ""), dialled):
            return extension
    raise AssertionError(f"no extension of {context_name} for {dialled}")


def test_the_consult_targets_the_controller_names_exist_and_are_bounded() -> None:
    """`wait` and `back` are where consults.py sends legs (transfer_after_bridge,
    uuid_transfer); a dead controller must still end both (a bounded ringback, a park with
    a timeout), as the caller's own guard does."""
    for target in (consults.WAIT, consults.BACK):
        assert target.context == "ccgw-consult"
    wait = actions(extension_for("ccgw-consult", consults.WAIT.exten))
    apps = [app for app, _ in wait]
    assert ("set", "playback_timeout_sec=900") in wait
    assert apps.index("set") < apps.index("playback") < apps.index("hangup")
    back = actions(extension_for("ccgw-consult", consults.BACK.exten))
    assert back[-1] == ("park", "")
    [timeout] = [data for app, data in back if data.startswith("park_timeout=")]
    assert int(timeout.split("=")[1].split(":")[0]) > 0


def test_the_conference_contexts_use_the_shipped_profile() -> None:
    profiles = ET.parse(DIALPLANS / "conference.conf.xml").getroot()
    names = {p.get("name") for p in profiles.iter("profile")}
    caller = actions(extension_for(consults.CONFERENCE_CALLER, "330"))
    agent = actions(
        extension_for(consults.CONFERENCE_AGENT, "0c1e7d2a-5f1b-4d6e-9a3b-2f4c6d8e0a1b")
    )
    [(_, room_of_caller)] = [s for s in caller if s[0] == "conference"]
    [(_, room_of_agent)] = [s for s in agent if s[0] == "conference"]
    # the caller's room is their own uuid, the agents' their extension (the caller's uuid)
    assert room_of_caller == "${uuid}@ccgw+flags{endconf}" and room_of_agent == "$1@ccgw"
    assert names == {"ccgw"}
    assert caller[-1][0] == agent[-1][0] == "hangup"


def test_a_caller_s_end_mark_holds_only_what_freeswitch_or_the_dialplan_set() -> None:
    """The hook's text is expanded at the hang-up, values included (an expanded value is
    expanded again): nothing a caller sends may reach it but the number, and that only as
    [0-9+*#]{1,32}. Its fields are the ones end_marks.py reads, in order."""
    [queue] = [
        e for e in context("ccgw-inbound").iter("extension") if e.get("name") == "ccgw-queue"
    ]
    [_, _, number, park] = queue.findall("condition")
    assert number.get("field") == "caller_id_number" and number.get("break") == "never"
    pattern = re.compile(number.get("expression", ""))
    for value, kept in [("+4930400001", True), ("*72#", True), ("1" * 33, False),
                        ("${system(x)}", False), ("+49 30", False), ("", False)]:  # fmt: skip
        assert bool(pattern.fullmatch(value)) is kept, value
    assert actions(number) == [("set", "ccgw_end_number=$1")]
    steps = actions(park)
    assert steps[0] == ("unset", "last_bridge_to")  # the leg bridged after this entry only
    [hook] = [data for app, data in steps if data.startswith("api_hangup_hook=")]
    deferred = "".join(f"|\\\\\\${{{name}}}" for name in (
        "Caller-Channel-Created-Time", "Caller-Channel-Hangup-Time", "ccgw_queue",
        "ccgw_end_number", "last_bridge_to", "hangup_cause", "ccgw_end_fallback"))  # fmt: skip
    assert hook == f"api_hangup_hook=hash::insert/ccgw_end/${{uuid}}~caller/1{deferred}"
    assert "caller_id" not in hook and "_name" not in hook
    assert steps.index(("unset", "last_bridge_to")) < steps.index(("park", ""))
    fallback = [a for e in context("ccgw-fallback").iter("extension") for a in actions(e)]
    assert ("set", "ccgw_end_fallback=1") in fallback


def test_an_agent_leg_s_end_mark_is_set_on_its_answer_from_our_own_variables() -> None:
    """An originate variable cannot carry a hook (FreeSWITCH refuses `${` there): the leg
    runs `leg` of ccgw-end-mark on its answer (commands.originate_agent), which checks the
    controller's ccgw_caller and ccgw_device again before writing them into the hook."""
    [leg] = context("ccgw-end-mark").iter("extension")
    caller, device = leg.findall("condition")[1:]
    assert (caller.get("field"), device.get("field")) == ("${ccgw_caller}", "${ccgw_device}")
    assert re.compile(device.get("expression", "")).fullmatch("user/1001")
    assert not re.compile(device.get("expression", "")).fullmatch("user/1001|x")
    [(app, data)] = actions(device)
    assert app == "set" and data == (
        "api_hangup_hook=hash::insert/ccgw_end/${ccgw_caller}~${uuid}/1"
        "|\\\\\\${Caller-Channel-Answered-Time}|\\\\\\${Caller-Channel-Hangup-Time}|${ccgw_device}"
    )
