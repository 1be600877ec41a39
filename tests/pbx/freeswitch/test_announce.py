"""Announcements on FreeSWITCH (pbx/freeswitch/announce.py, dialplans/freeswitch's
ccgw-announce): the words the adapter sends, the dialplan they rely on, and what the real
FreeSWITCH sent when a sipp caller heard one and pressed 1 (recorded/announce.esl)."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET

import pytest

from ccgateway.domain.commands import Announce, PlayMessage
from ccgateway.domain.events import CallbackRequested
from ccgateway.pbx.freeswitch import announce, translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.ports import InvalidWireValue
from tests.pbx.freeswitch.test_dialplan import actions, context
from tests.pbx.freeswitch.test_recorded_fixes import recorded_events
from tests.pbx.freeswitch.test_sounds import SentWords

CALLER = "7b567f1b-0eff-477f-92c1-96341033ac92"


def sent(command: Announce, hold_music: str | None = "local_stream://moh") -> list[tuple[str, ...]]:
    pbx = FreeSwitchPbx(password="unused", hold_music=hold_music)
    client = SentWords()
    pbx.client = client  # type: ignore[assignment]
    asyncio.run(pbx.execute(command))
    return client.sent


def test_every_part_is_set_then_park_runs_the_announcement_then_the_music() -> None:
    command = Announce(CALLER, "200", 3, 130.0, "queue-thankyou", offer_callback=True)
    assert sent(command) == [
        (
            "uuid_setvar_multi",
            CALLER,
            "ccgw_position=3;ccgw_ewt_min=2;ccgw_comfort=ivr/ivr-thank_you_for_holding.wav;"
            "ccgw_offer_callback=1",
        ),
        # `all`: an announcement still running loses its queued music, or this one would
        # wait behind that endless playback
        ("uuid_break", CALLER, "all"),
        ("uuid_broadcast", CALLER, "execute_extension::ccgw-announce", "aleg"),
        ("uuid_broadcast", CALLER, "local_stream://moh", "aleg"),
    ]


def test_without_hold_music_none_is_queued_after() -> None:
    words = sent(Announce(CALLER, "200", 1, None), hold_music=None)
    assert words[0][2] == "ccgw_position=1;ccgw_ewt_min=;ccgw_comfort=;ccgw_offer_callback="
    assert [w[0] for w in words] == ["uuid_setvar_multi", "uuid_break", "uuid_broadcast"]


@pytest.mark.parametrize(
    ("wait_s", "said"), [(None, ""), (0.0, "1"), (29.0, "1"), (91.0, "2"), (3600.0, "60")]
)
def test_the_expected_wait_is_said_in_whole_minutes_at_least_one(
    wait_s: float | None, said: str
) -> None:
    assert announce.minutes(wait_s) == said


@pytest.mark.parametrize("call_id", ["x y", "a;b", "a=b", "x" * 37])
def test_nothing_that_would_split_a_word_or_a_variable_reaches_the_wire(call_id: str) -> None:
    with pytest.raises(InvalidWireValue):
        announce.variables(Announce(call_id, "200", 1, None), None)


def test_a_comfort_path_cannot_smuggle_in_another_variable() -> None:
    with pytest.raises(InvalidWireValue):
        announce.variables(Announce(CALLER, "200", 1, None), "a.wav;ccgw_queue=999")


def test_the_inbound_context_enters_ccgw_announce_as_a_subroutine_of_park() -> None:
    [entry] = [
        e for e in context("ccgw-inbound").iter("extension") if e.get("name") == announce.ENTRY
    ]
    condition = entry.find("condition")
    assert condition is not None and condition.get("expression") == f"^{announce.ENTRY}$"
    assert actions(entry) == [("execute_extension", "announce XML ccgw-announce")]


def _announcement() -> ET.Element:
    [found] = [
        e for e in context("ccgw-announce").iter("extension") if e.get("name") == "ccgw-announce"
    ]
    return found


def test_each_part_is_said_only_when_its_variable_is_set() -> None:
    conditions = _announcement().findall("condition")
    fields = [c.get("field") for c in conditions]
    assert fields == [
        "destination_number",
        "${ccgw_position}",
        "${ccgw_ewt_min}",
        "${ccgw_comfort}",
        "${ccgw_offer_callback}",
    ]
    # every part is looked at on its own; the first condition alone may end the extension
    assert [c.get("break") for c in conditions[1:]] == ["never"] * 4
    said = [
        a.get("data", "") for a in _announcement().iter("action") if a.get("application") == "say"
    ]
    assert said == ["en number pronounced $1"] * 2


def test_key_1_fires_a_custom_event_the_controller_subscribes_to() -> None:
    [key] = [
        e
        for e in context("ccgw-announce").iter("extension")
        if e.get("name") == "ccgw-callback-key"
    ]
    [(app, data)] = actions(key)
    assert app == "event" and data.startswith("Event-Name=CUSTOM,")
    assert f"Event-Subclass={announce.CALLBACK_EVENT}," in data
    assert announce.CALLBACK_EVENT in translate.CUSTOM


def test_the_recorded_announcement_was_played_inside_park_and_key_1_is_a_request() -> None:
    """The real FreeSWITCH 1.10.12: the caller's playbacks and sayings ran while its channel
    stayed in ccgw-inbound (Caller-Context), and its CUSTOM ccgw::callback is a request."""
    events = recorded_events("announce.esl")
    [custom] = [e for e in events if e.get("Event-Subclass") == announce.CALLBACK_EVENT]
    caller = custom["Unique-ID"]
    assert translate.to_event(custom) == CallbackRequested(caller)
    ran = [
        (e["Application"], e.get("Application-Data", ""))
        for e in events
        if e.get("Event-Name") == "CHANNEL_EXECUTE" and e.get("Unique-ID") == caller
    ]
    apps = [app for app, _ in ran]
    assert apps.index("execute_extension") < apps.index("say") < apps.index("play_and_get_digits")
    # its position, said by mod_say_en
    assert [d for a, d in ran if a == "say" and re.fullmatch(r"en number pronounced [1-9]", d)]
    # from its park to its key, the channel never left ccgw-inbound (the announcement ran
    # inside park); only then did the controller send it on to the confirmation
    inside = [
        e.get("Caller-Context")
        for e in events
        if e.get("Unique-ID") == caller and e.get("Event-Name") == "CHANNEL_EXECUTE"
    ][apps.index("park") : apps.index("event") + 1]
    assert set(inside) == {"ccgw-inbound"}
    assert ran[apps.index("event") + 1 :][-1] == ("hangup", "NORMAL_CLEARING")


def test_an_announced_caller_loses_the_queued_music_before_the_bridge_or_a_transfer() -> None:
    """FreeSWITCH runs queued broadcasts inside a bridge too: the announcement's music,
    queued behind it, would take the caller away from the agent (seen live:
    tests/sandbox/test_freeswitch_e2e_announce.py, an agent answering mid-announcement)."""

    async def scenario() -> list[tuple[str, ...]]:
        pbx = FreeSwitchPbx(password="unused")
        client = SentWords()
        pbx.client = client  # type: ignore[assignment]
        await pbx.execute(Announce(CALLER, "200", 1, None))
        client.sent.clear()
        await pbx._bridge(CALLER, "ccgw-leg")
        await pbx._bridge("another-caller", "ccgw-leg2")  # never announced: nothing to drop
        await pbx.execute(Announce(CALLER, "200", 1, None))
        await pbx.execute(PlayMessage(CALLER, "vm-goodbye"))
        return client.sent

    sent = asyncio.run(scenario())
    assert sent[:3] == [
        ("uuid_break", CALLER, "all"),
        ("uuid_bridge", CALLER, "ccgw-leg"),
        ("uuid_bridge", "another-caller", "ccgw-leg2"),
    ]
    assert sent[-3:] == [
        ("uuid_setvar", CALLER, "ccgw_sound", "voicemail/vm-goodbye.wav"),
        ("uuid_break", CALLER, "all"),
        ("uuid_transfer", CALLER, "s", "XML", "ccgw-message"),
    ]
