"""The shipped ccgw-outbound and ccgw-callback contexts (dialplans/freeswitch/ccgateway.xml)
against what the adapter sends and reads (ccgateway/pbx/freeswitch/outbound.py): every
variable the contexts read is one the originate sets (or the context itself), every event
is a CUSTOM one the controller subscribes to, and every step the customer can be in has a
stage for the resync."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.freeswitch import outbound, sounds
from tests.pbx.freeswitch.test_dialplan import context
from tests.pbx.freeswitch.test_outbound_words import CALLBACK, DIAL, TRUNK, variables

READ = re.compile(r"\$\{(ccgw_[a-z_]+)\}")


def steps(name: str) -> list[tuple[str, str]]:
    return [
        (a.get("application", ""), a.get("data", ""))
        for a in context(name).iter()
        if a.tag in ("action", "anti-action")
    ]


def fields(name: str) -> list[str]:
    return [c.get("field", "") for c in context(name).iter("condition")]


def set_here(name: str) -> set[str]:
    return {data.split("=", 1)[0] for app, data in steps(name) if app == "set"}


def read_here(name: str) -> set[str]:
    texts = [data for _, data in steps(name)] + fields(name)
    return {m for text in texts for m in READ.findall(text)}


def originated(command: DialCustomer = DIAL) -> dict[str, str]:
    abandon, machine, _ = outbound.sounds(command, sounds.playback_path)
    return variables(outbound.dial_customer(command, TRUNK, abandon, machine)[1])


@pytest.mark.parametrize("machine_message", ["vm-nobodyavail", None])
def test_every_variable_ccgw_outbound_reads_is_set(machine_message: str | None) -> None:
    given = set(originated(DialCustomer(**{**_fields(DIAL), "machine_message": machine_message})))
    missing = read_here("ccgw-outbound") - given - set_here("ccgw-outbound")
    # the machine's sound is read only on the "message" branch, which needs it
    assert missing <= ({"ccgw_machine_sound"} if machine_message is None else set()), missing


def test_every_variable_ccgw_outbound_agent_reads_is_set() -> None:
    ring = RingAgent(
        leg_id="ccgw-aa", call_id=DIAL.dial_id, agent_id="agent1", device="user/1001",
        timeout_s=6, auto_answer=True, pbx="freeswitch",
    )  # fmt: skip
    given = set(variables(outbound.originate_live_agent(ring, "/rec")[1]))
    name = outbound.AGENT_CONTEXT
    assert read_here(name) - given - set_here(name) == set()
    claim = context(name).find("extension[@name='ccgw-outbound-claim']/condition")
    assert claim is not None and re.fullmatch(claim.get("expression", ""), DIAL.dial_id)


def test_only_the_leg_holding_the_claim_takes_the_customer() -> None:
    take = context(outbound.AGENT_CONTEXT).find("extension[@name='ccgw-outbound-take']")
    assert take is not None
    holder = take.findall("condition")[-1]
    # the field as FreeSWITCH expands it: "<the claim's leg> <this leg>"
    assert re.fullmatch(holder.get("expression", ""), "ccgw-aa ccgw-aa")
    assert not re.fullmatch(holder.get("expression", ""), "ccgw-bb ccgw-aa")
    assert not re.fullmatch(holder.get("expression", ""), " ccgw-aa")
    steps = [(a.get("application"), a.get("data")) for a in holder.findall("action")]
    assert ("set", "intercept_unbridged_only=true") in steps
    assert steps.index(("set", "intercept_unbridged_only=true")) < steps.index(
        ("intercept", "${ccgw_caller}")
    )
    assert [a.get("application") for a in holder.findall("anti-action")] == ["hangup"]


def test_every_variable_ccgw_callback_reads_is_set() -> None:
    given = set(variables(outbound.dial_callback(CALLBACK, TRUNK)[1]))
    assert read_here("ccgw-callback") - given - set_here("ccgw-callback") == set()


@pytest.mark.parametrize("name", ["ccgw-outbound", "ccgw-callback"])
def test_every_event_is_custom_and_subscribed(name: str) -> None:
    fired = [data for app, data in steps(name) if app == "event"]
    assert fired
    for data in fired:
        assert data.startswith("Event-Name=CUSTOM,Event-Subclass=")
        subclass = data.split(",")[1].split("=", 1)[1]
        assert subclass in outbound.CUSTOM


def test_every_step_has_an_extension_and_a_resync_stage() -> None:
    targets = [data for app, data in steps("ccgw-outbound") if app == "transfer"]
    expressions = [
        c.get("expression", "")
        for c in context("ccgw-outbound").iter("condition")
        if c.get("field") == "destination_number"
    ]
    for target in targets:
        exten, dialplan, where = target.split(" ")
        assert (dialplan, where) == ("XML", "ccgw-outbound")
        step, _, campaign = exten.partition("~")
        assert campaign in ("$1", "${ccgw_campaign}")
        assert step in outbound.STAGES, step
        dialled = f"{step}~spring-sale"
        matching = [e for e in expressions if re.search(e, dialled)]
        assert matching[:1] and matching[0] != expressions[0], (target, matching)
    # the campaign's own extension (the answer) takes campaign ids, not step extensions
    assert re.search(expressions[0], "spring-sale")
    assert not re.search(expressions[0], "live~spring-sale")


def test_the_phase_is_set_before_each_event_and_the_message_follows_the_abandon() -> None:
    for extension in context("ccgw-outbound").iter("extension"):
        for branch in ("action", "anti-action"):
            done = [(a.get("application"), a.get("data", "")) for a in extension.iter(branch)]
            apps = [app for app, _ in done]
            if "event" in apps and "ccgw_step=answered" not in done[apps.index("event")][1]:
                phases = [i for i, (app, data) in enumerate(done) if data.startswith("ccgw_phase=")]
                assert phases and phases[0] < apps.index("event"), extension.get("name")
    abandon = _extension("ccgw-outbound-abandon")
    assert [a.get("application") for a in abandon.iter("action")] == [
        "set", "event", "playback", "hangup",
    ]  # fmt: skip
    assert ("playback", "${ccgw_abandon_sound}") in [
        (a.get("application"), a.get("data")) for a in abandon.iter("action")
    ]


def test_a_machine_s_message_waits_for_the_beep_and_silence() -> None:
    machine = _extension("ccgw-outbound-machine")
    apps = [a.get("application") for a in machine.iter("action")]
    assert apps.index("avmd_start") < apps.index("detect_silence") < apps.index("playback")
    assert [a.get("application") for a in machine.iter("anti-action")][-1] == "hangup"


def _extension(name: str) -> ET.Element:
    found = context("ccgw-outbound").find(f"extension[@name='{name}']")
    assert found is not None, name
    return found


def _fields(command: DialCustomer) -> dict[str, object]:
    return {name: getattr(command, name) for name in command.__dataclass_fields__}
