"""A waiting caller someone else moved out of our contexts (translate.left_dialplan), on what
a real FreeSWITCH 1.10.12 sent (recorded/caller_left.esl, written by
tests/sandbox/test_freeswitch_caller_left.py): the caller's CHANNEL_PARK in ccgw-inbound,
then, after another tool's `uuid_transfer <caller> 9999 XML elsewhere`, its CHANNEL_UNPARK
naming the new context."""

from __future__ import annotations

from ccgateway.domain.commands import Outcome, RecordInteraction
from ccgateway.domain.events import CallerLeft, CallWaiting
from ccgateway.domain.model import Queue
from ccgateway.pbx.freeswitch import translate
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
