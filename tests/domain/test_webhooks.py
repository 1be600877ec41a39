"""The webhooks' pure rules: events from commands, signatures, back-off, where they may go."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ccgateway.domain.commands import Interaction, Notify, Outcome, RecordInteraction, RingAgent
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.commands import RecordDisposition
from ccgateway.domain.outbound.records import DispositionRecord
from ccgateway.domain.webhooks import (
    EVENT_TYPES,
    EventMapper,
    RetryPolicy,
    Subscription,
    WebhookEvent,
    address_refusal,
    addresses_refusal,
    check_event_types,
    check_secret,
    delivery_body,
    parse_url,
    signature_header,
    verify,
)


def call_state(state: str) -> Notify:
    return Notify("call.state", {"call_id": "c1", "state": state, "agent_id": "a1"})


@pytest.mark.parametrize(
    ("command", "kind", "key"),
    [
        (call_state("waiting"), "call.queued", "call:c1"),
        (call_state("offering"), "call.offered", "call:c1"),
        (call_state("connected"), "call.answered", "call:c1"),
        (Notify("agent.state", {"agent_id": "a1", "state": "paused"}), "agent.state", "agent:a1"),
        (Notify("callback.state", {"callback_id": "cb1"}), "callback.state", "callback:cb1"),
        (Notify("task.state", {"task_id": "t1"}), "task.state", "task:t1"),
        (Notify("campaign.state", {"campaign_id": "k"}), "campaign.state", "campaign:k"),
    ],
)
def test_notices_become_events_keyed_by_what_they_are_about(
    command: Notify, kind: str, key: str
) -> None:
    [event] = EventMapper().events(command)
    assert (event.type, event.order_key) == (kind, key)
    assert event.data == command.data


def test_what_is_not_in_the_catalogue_is_no_event() -> None:
    mapper = EventMapper()
    assert mapper.events(Notify("dial.state", {"dial_id": "d"})) == []
    assert mapper.events(Notify("call.state", {"call_id": "c", "state": "odd"})) == []
    assert mapper.events(RingAgent("leg", "c1", "a1", "PJSIP/a", 10.0)) == []


def interaction(call_id: str, outcome: Outcome) -> Interaction:
    return Interaction(call_id, "q", None, "+4930123", outcome, 100.0, None, 130.0, 30.0, 0.0, 1)


def test_an_end_carries_its_record_and_abandoned_is_its_own_type() -> None:
    mapper = EventMapper()
    assert mapper.events(RecordInteraction(interaction("c1", Outcome.ABANDONED))) == []
    [event] = mapper.events(Notify("call.ended", {"call_id": "c1", "outcome": "abandoned"}))
    assert event.type == "call.abandoned"
    assert event.data["wait_s"] == 30.0 and event.data["caller_number"] == "+4930123"
    # a record of another call (a transfer's segment) is not mixed into this end
    mapper.events(RecordInteraction(interaction("c9", Outcome.ANSWERED)))
    [ended] = mapper.events(Notify("call.ended", {"call_id": "c2", "outcome": "answered"}))
    assert ended.type == "call.ended" and "wait_s" not in ended.data


@pytest.mark.parametrize("outcome", [Outcome.REDIRECTED, Outcome.CUT_OFF])
def test_a_caller_taken_out_of_our_hands_ends_the_call_and_is_no_abandon(
    outcome: Outcome,
) -> None:
    mapper = EventMapper()
    mapper.events(RecordInteraction(interaction("c1", outcome)))
    [event] = mapper.events(Notify("call.ended", {"call_id": "c1", "outcome": outcome.value}))
    assert (event.type, event.data["outcome"]) == ("call.ended", outcome.value)


def test_a_disposition_is_an_event_in_its_call_line() -> None:
    record = DispositionRecord("d1", "camp", "k1", "a1", "sale", 5.0, {"q": True}, "note")
    [event] = EventMapper().events(RecordDisposition(record))
    assert event.type == "disposition.recorded" and event.order_key == "call:d1"
    assert event.data["code"] == "sale" and event.data["answers"] == {"q": True}


def test_event_types_are_checked() -> None:
    assert check_event_types(["agent.state", "agent.state", "*"]) == ("agent.state", "*")
    with pytest.raises(InvalidValue, match="unknown event type"):
        check_event_types(["call.exploded"])
    with pytest.raises(InvalidValue):
        check_event_types([])
    everything = Subscription("w", "http://x", ("*",), "s" * 16)
    assert all(everything.wants(t) for t in EVENT_TYPES)
    off = Subscription("w", "http://x", ("*",), "s" * 16, active=False)
    assert not off.wants("agent.state")


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = delivery_body("evt_1", WebhookEvent("agent.state", "agent:a1", {"x": 1}), 5.0)
    assert json.loads(body) == {
        "id": "evt_1",
        "type": "agent.state",
        "created_at": 5.0,
        "data": {"x": 1},
    }
    header = signature_header("whsec_0123456789abcdef", 1_700_000_000, body.encode())
    expected = hmac.new(
        b"whsec_0123456789abcdef", b"1700000000." + body.encode(), hashlib.sha256
    ).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    secret = "whsec_0123456789abcdef"
    assert verify(secret, header, body.encode(), now=1_700_000_100)
    assert not verify(secret, header, body.encode() + b" ", now=1_700_000_100)  # changed body
    assert not verify("another-secret-0123", header, body.encode(), now=1_700_000_100)
    assert not verify(secret, header, body.encode(), now=1_700_000_301)  # stale: refused
    assert not verify(secret, "v1=abc", body.encode(), now=1_700_000_000)


def test_secrets_are_long_printable_and_without_spaces() -> None:
    assert check_secret("x" * 16) == "x" * 16
    for bad in ("short", "has a space in it ok", "é" * 20):
        with pytest.raises(InvalidValue):
            check_secret(bad)


def test_back_off_doubles_with_jitter_up_to_a_ceiling_then_dead() -> None:
    policy = RetryPolicy(first_s=10, max_s=100, max_attempts=6, max_age_s=10_000)
    assert [policy.delay(n, 1.0) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]
    assert policy.delay(1, 0.0) == 5  # half of it at the least
    assert policy.after_failure(1, queued_at=0, now=0, jitter=1.0) == 10
    assert policy.after_failure(6, queued_at=0, now=0, jitter=1.0) is None  # attempts spent
    young = RetryPolicy(first_s=10, max_s=100, max_attempts=50, max_age_s=60)
    assert young.after_failure(3, queued_at=0, now=30, jitter=1.0) is None  # 30+40 > 60


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/x", "only http"),
        ("https://user:pw@example.com/", "user or password"),
        ("https://example.com/#frag", "fragment"),
        ("https:///nohost", "host"),
        ("https://exa mple.com/", "without spaces"),
        ("https://example.com:99999/", "not a URL"),
        ("https://example.com:0/", "port 0"),
        ("https://bad_host!.com/", "host"),
        ("https://example.com/" + "a" * 2000, "2000"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem):
        parse_url(url)


def test_a_good_url_is_parsed_with_its_default_port() -> None:
    target = parse_url("https://Hooks.Example.com/in?x=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        443,
        "/in?x=1",
    )
    assert parse_url("http://[2001:db8::1]:8080").host == "2001:db8::1"
    assert parse_url("http://[2001:db8::1]:8080").is_address


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("10.1.2.3", "private"),
        ("192.168.0.9", "private"),
        ("172.16.0.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not a public"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_inner_addresses_are_refused(address: str, why: str) -> None:
    refusal = address_refusal(address)
    assert refusal is not None and why in refusal


def test_public_addresses_pass_unless_they_are_this_hosts() -> None:
    assert address_refusal("93.184.216.34") is None
    assert address_refusal("2606:2800:220:1::1") is None
    assert "this host" in (address_refusal("93.184.216.34", own=["93.184.216.34"]) or "")


def test_every_address_of_a_name_is_checked_and_the_admin_may_allow_private() -> None:
    why = addresses_refusal("hooks.example", ["93.184.216.34", "10.0.0.5"])
    assert why is not None and "hooks.example resolves to 10.0.0.5" in why
    assert "allow_private" in why
    assert addresses_refusal("hooks.example", ["93.184.216.34"]) is None
    assert addresses_refusal("127.0.0.1", ["127.0.0.1"], allow_private=True) is None
    assert addresses_refusal("nowhere.example", []) == "nowhere.example resolves to no address"
