"""A waiting caller someone else moved out of our contexts (translate.left_dialplan), on what
a real FreeSWITCH 1.10.12 sent (recorded/caller_left.esl, written by
tests/sandbox/test_freeswitch_caller_left.py): the caller's CHANNEL_PARK in ccgw-inbound,
then, after another tool's `uuid_transfer <caller> 9999 XML elsewhere`, its CHANNEL_UNPARK
naming the new context."""

from __future__ import annotations

import asyncio

from ccgateway.domain.commands import Outcome, RecordInteraction
from ccgateway.domain.events import (
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    DeviceStateChanged,
    PbxEvent,
)
from ccgateway.domain.model import Queue
from ccgateway.pbx.freeswitch import leg_ends, translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from tests.domain.builders import centre
from tests.pbx.freeswitch.test_recorded_fixes import recorded_events

EVENTS = recorded_events("caller_left.esl")


def test_the_unpark_for_another_context_is_the_caller_leaving() -> None:
    park, unpark = [e for e in EVENTS if e["Event-Name"] in ("CHANNEL_PARK", "CHANNEL_UNPARK")]
    waiting = translate.to_event(park)
    assert isinstance(waiting, CallWaiting) and waiting.extension == "450"
    assert translate.to_event(unpark) == CallerLeft(waiting.call_id, "elsewhere", "9999")
    assert "CHANNEL_UNPARK" in translate.SUBSCRIBED


def test_an_unpark_within_our_contexts_or_not_a_caller_s_is_nothing() -> None:
    [unpark] = [e for e in EVENTS if e["Event-Name"] == "CHANNEL_UNPARK"]
    for context in ("ccgw-inbound", "ccgw-consent", "ccgw-fallback", ""):
        assert translate.to_event(unpark | {"Caller-Context": context}) is None
    assert translate.to_event(unpark | {"Call-Direction": "outbound"}) is None  # a dial's
    # a deployment's own inbound context (the adapter's inbound_context) is ours too
    custom = unpark | {"Caller-Context": "queues"}
    assert translate.to_event(custom, inbound_context="queues") is None
    assert isinstance(translate.to_event(custom), CallerLeft)


def test_the_centre_ends_the_wait_as_redirected_and_names_where() -> None:
    park, unpark = [e for e in EVENTS if e["Event-Name"] in ("CHANNEL_PARK", "CHANNEL_UNPARK")]
    c = centre(queues=(Queue("moved", "Moved", "450", wrapup_s=0, pbx="freeswitch"),))
    for event in (park, unpark):
        found = translate.to_event(event)
        assert found is not None
        out = c.handle(found, 10.0, "freeswitch")
    [record] = [x.interaction for x in out if isinstance(x, RecordInteraction)]
    assert record.outcome is Outcome.REDIRECTED
    assert record.detail == "moved by another tool to elsewhere"
    assert not c.calls


# --- a talking caller moved (recorded/bridged_caller_moved.esl, written by
# tests/sandbox/test_freeswitch_bridged_caller_moved.py): the caller's CHANNEL_BRIDGE, the
# agent leg's CHANNEL_HANGUP (FreeSWITCH ends it first), the caller's CHANNEL_UNBRIDGE naming
# the other tool's context.

MOVED = recorded_events("bridged_caller_moved.esl")


def test_the_unbridge_for_another_context_is_the_caller_leaving() -> None:
    [bridge, _leg_end, unbridge] = MOVED
    assert [e["Event-Name"] for e in MOVED] == [
        "CHANNEL_BRIDGE",
        "CHANNEL_HANGUP",
        "CHANNEL_UNBRIDGE",
    ]
    caller = bridge["Unique-ID"]
    assert translate.to_event(unbridge) == CallerLeft(caller, "sandbox-elsewhere", "9999")
    assert "CHANNEL_UNBRIDGE" in translate.SUBSCRIBED
    for context in ("ccgw-inbound", "ccgw-conf-caller"):  # our own moves of a talking caller
        assert translate.to_event(unbridge | {"Caller-Context": context}) is None


async def test_the_agent_leg_s_end_is_told_after_the_caller_left() -> None:
    """As FreeSWITCH sent them, the leg's end would come first and read as "the agent hung
    up" (the centre then hangs up a caller another tool now has)."""
    [bridge, leg_end, _unbridge] = MOVED
    pbx = FreeSwitchPbx(password="ClueCon")
    told: list[PbxEvent] = []
    pbx._gate.emit = told.append
    for event in MOVED:
        pbx._on_event(event)
    caller, leg = bridge["Unique-ID"], leg_end["Unique-ID"]
    assert [type(e) for e in told if not isinstance(e, DeviceStateChanged)] == [
        CallerLeft,
        ChannelHungUp,
    ]
    ends = [e for e in told if isinstance(e, CallerLeft | ChannelHungUp)]
    assert ends[0] == CallerLeft(caller, "sandbox-elsewhere", "9999")
    assert isinstance(ends[1], ChannelHungUp) and ends[1].channel_id == leg


async def test_an_agent_leg_s_end_with_no_word_from_its_caller_is_told_within_the_bound() -> None:
    [bridge, leg_end, _unbridge] = MOVED
    pbx = FreeSwitchPbx(password="ClueCon")
    told: list[PbxEvent] = []
    pbx._gate.emit = told.append
    pbx._on_event(bridge)
    pbx._on_event(leg_end)
    assert not [e for e in told if isinstance(e, ChannelHungUp)]
    await asyncio.sleep(leg_ends.HOLD_S + 0.1)
    assert [e.channel_id for e in told if isinstance(e, ChannelHungUp)] == [leg_end["Unique-ID"]]


async def test_an_agent_leg_ending_after_its_caller_hung_up_is_told_at_once() -> None:
    [bridge, leg_end, _unbridge] = MOVED
    pbx = FreeSwitchPbx(password="ClueCon")
    told: list[PbxEvent] = []
    pbx._gate.emit = told.append
    caller_end = leg_end | {"Unique-ID": bridge["Unique-ID"], "Call-Direction": "inbound"}
    for event in (bridge, caller_end, leg_end):
        pbx._on_event(event)
    ended = [e.channel_id for e in told if isinstance(e, ChannelHungUp)]
    assert ended == [bridge["Unique-ID"], leg_end["Unique-ID"]]
