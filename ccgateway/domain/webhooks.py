"""Signed webhooks, the pure part: which commands become which events, how a delivery is
signed, when a failed one is tried again, which deliveries wait for which, and which
addresses a webhook may never reach.

The shell (services/webhooks*.py) feeds `EventMapper` every command the dispatcher carries
out (a `CommandTap`), stores one delivery per matching subscription, and sends them; the
rules it follows are here, with no clock (`now` is an argument), no randomness (`jitter` is)
and no I/O.

Ordering: deliveries of one subscription with the same `order_key` (one call, agent,
callback, task or campaign) go out in the order the events happened: a later one waits
while an earlier one is pending (being retried). A dead-lettered one no longer holds the
line; a redelivered one joins the back of it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from ccgateway.domain.commands import Command, Interaction, Notify, RecordInteraction
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.commands import RecordDisposition

# The catalogue: every event type a subscription may ask for, and what it means.
EVENT_TYPES: dict[str, str] = {
    "call.queued": "a call joined a queue's line (again after an unanswered offer)",
    "call.offered": "a call is ringing an agent",
    "call.answered": "a call is connected to an agent (again after a transfer to another one)",
    "call.ended": "a call ended any way but abandoned: data.outcome says how",
    "call.abandoned": "the caller hung up while waiting in the line",
    "agent.state": "an agent's state changed (available, paused, on a call, wrap-up ...)",
    "callback.state": "a queued callback changed (queued, offered, dialing, done ...)",
    "disposition.recorded": "an agent recorded the disposition of a campaign's call",
    "campaign.state": "a campaign started, paused, stopped or went idle",
    "task.state": "a non-voice task changed (queued, offered, accepted, done ...)",
}
ALL_EVENTS = "*"  # a subscription to every type, those added later included
PING = "ping"  # only sent by POST /v1/webhooks/{id}/test

SIGNATURE_HEADER = "Ccgw-Signature"
DELIVERY_HEADER = "Ccgw-Delivery"
EVENT_HEADER = "Ccgw-Event"
SIGNATURE_TOLERANCE_S = 300  # what receivers are told to allow between `t` and their clock

MAX_URL_LENGTH = 2000
SECRET_PATTERN = re.compile(r"[!-~]{16,200}")  # printable ASCII, no spaces
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9-]{1,63})*\.?")


class UnsafeAddress(InvalidValue):
    """A webhook URL whose host is (or resolves to) this host or a private network."""


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first attempt or its next retry
    DELIVERED = "delivered"  # the receiver answered 2xx
    DEAD = "dead"  # given up (attempts, age, or over the pending limit): redeliver by hand


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    type: str
    order_key: str  # deliveries with the same key go out in order
    data: dict[str, object]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    description: str = ""
    active: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0
    overflowed: int = 0  # deliveries dead-lettered because too many were pending

    def wants(self, event_type: str) -> bool:
        return self.active and (event_type in self.events or ALL_EVENTS in self.events)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one subscription; `id` is what receivers deduplicate on."""

    id: str
    subscription_id: str
    seq: int  # the order of events across the controller's life
    event_id: str
    event_type: str
    order_key: str
    body: str  # the exact bytes signed and sent (UTF-8)
    created_at: float  # when the event happened
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_at: float = 0.0
    queued_at: float = 0.0  # created_at, or when it was last redelivered by hand
    last_error: str = ""
    last_status: int | None = None
    delivered_at: float | None = None


# --- events ------------------------------------------------------------------------------


class EventMapper:
    """Commands in, webhook events out. A call's end is told with its record: the centre
    returns `RecordInteraction` just before `Notify("call.ended")`, so the last record seen
    fills in the queue, caller, wait and talk times of the end that follows it."""

    def __init__(self) -> None:
        self._last_record: Interaction | None = None

    def events(self, command: Command) -> list[WebhookEvent]:
        match command:
            case RecordInteraction(interaction=record):
                self._last_record = record
                return []
            case RecordDisposition(record=d):
                data: dict[str, object] = {
                    "dial_id": d.dial_id,
                    "campaign_id": d.campaign_id,
                    "contact_id": d.contact_id,
                    "agent_id": d.agent_id,
                    "code": d.code,
                    "at": d.at,
                    "answers": dict(d.answers),
                    "note": d.note,
                    "callback_at": d.callback_at,
                    "callback_agent_id": d.callback_agent_id,
                }
                return [WebhookEvent("disposition.recorded", f"call:{d.dial_id}", data)]
            case Notify(topic=topic, data=data):
                return self._notice(topic, data)
        return []

    def _notice(self, topic: str, data: dict[str, object]) -> list[WebhookEvent]:
        if topic == "call.state":
            kind = _CALL_STATES.get(str(data.get("state")))
            return [] if kind is None else [WebhookEvent(kind, f"call:{data['call_id']}", data)]
        if topic == "call.ended":
            ended = {**self._record_of(str(data["call_id"])), **data}
            kind = "call.abandoned" if data.get("outcome") == "abandoned" else "call.ended"
            return [WebhookEvent(kind, f"call:{data['call_id']}", ended)]
        owner = _OWNERS.get(topic)
        if owner is None:
            return []
        return [WebhookEvent(topic, f"{owner}:{data[f'{owner}_id']}", data)]

    def _record_of(self, call_id: str) -> dict[str, object]:
        record, self._last_record = self._last_record, None
        if record is None or record.call_id != call_id:
            return {}
        return {
            "queue_id": record.queue_id,
            "caller_number": record.caller_number,
            "kind": record.kind,
            "arrived_at": record.arrived_at,
            "answered_at": record.answered_at,
            "ended_at": record.ended_at,
            "wait_s": record.wait_s,
            "talk_s": record.talk_s,
            "detail": record.detail,
        }


_CALL_STATES = {"waiting": "call.queued", "offering": "call.offered", "connected": "call.answered"}
_OWNERS = {
    "agent.state": "agent",
    "callback.state": "callback",
    "task.state": "task",
    "campaign.state": "campaign",
}


def check_event_types(events: Iterable[str]) -> tuple[str, ...]:
    """The subscription's event types, each known (or `*`), without repeats, in order."""
    chosen = tuple(dict.fromkeys(events))
    if not chosen:
        raise InvalidValue("a webhook needs at least one event type (or '*' for all)")
    unknown = [e for e in chosen if e not in EVENT_TYPES and e != ALL_EVENTS]
    if unknown:
        raise InvalidValue(
            f"unknown event type(s) {', '.join(map(repr, unknown))}: the types are "
            f"{', '.join(EVENT_TYPES)}, or '*' for all"
        )
    return chosen


def delivery_body(event_id: str, event: WebhookEvent, created_at: float) -> str:
    """The JSON every receiver gets: the event's id, type, time and data."""
    body = {"id": event_id, "type": event.type, "created_at": created_at, "data": event.data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


# --- signatures --------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256, under the secret's UTF-8 bytes, of `<timestamp>.<body>`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>`: the timestamp is signed with the body, so a receiver
    that refuses an old `t` refuses a replayed delivery."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance_s: float = SIGNATURE_TOLERANCE_S
) -> bool:
    """What a receiver does (the README shows it standalone): a `v1` that matches, on a
    timestamp within `tolerance_s` of `now`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))


def check_secret(secret: str) -> str:
    if not SECRET_PATTERN.fullmatch(secret):
        raise InvalidValue("a webhook secret is 16-200 printable ASCII characters, no spaces")
    return secret


# --- retries -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off: `first_s`, doubled after each failure up to `max_s`, each
    delay between half and all of that (`jitter` 0..1), so many deliveries that failed
    together do not all come back at once; given up after `max_attempts` attempts or once
    the next try would be more than `max_age_s` after the delivery was queued."""

    first_s: float = 10.0
    max_s: float = 3600.0
    max_attempts: int = 20
    max_age_s: float = 86400.0

    def delay(self, attempts: int, jitter: float) -> float:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        ceiling = min(self.max_s, self.first_s * math.pow(2, min(attempts - 1, 60)))
        return ceiling * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))

    def after_failure(
        self, attempts: int, queued_at: float, now: float, jitter: float
    ) -> float | None:
        """When to try again after the `attempts`-th failure; None: dead-letter it."""
        if attempts >= self.max_attempts:
            return None
        next_at = now + self.delay(attempts, jitter)
        return None if next_at - queued_at > self.max_age_s else next_at


# --- where a webhook may go --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # a name (lower case) or an IP address, without brackets
    port: int
    path: str  # with its query, "/" at least

    @property
    def is_address(self) -> bool:
        return _ip(self.host) is not None


def parse_url(url: str) -> Target:
    """A webhook URL as the controller will send to it: http or https, a host, no user or
    password, no fragment, at most 2000 characters."""
    if len(url) > MAX_URL_LENGTH or not url.isascii() or any(c in url for c in " \r\n\t\0"):
        raise InvalidValue(
            f"a webhook URL is at most {MAX_URL_LENGTH} ASCII characters without spaces"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidValue(f"webhook URL {url!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidValue(f"webhook URL {url!r}: only http:// and https:// are sent to")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue("a webhook URL may not carry a user or password: use the secret")
    if port == 0:
        raise InvalidValue(f"webhook URL {url!r}: port 0 cannot be sent to")
    if parts.fragment:
        raise InvalidValue("a webhook URL may not have a #fragment")
    host = (parts.hostname or "").lower()
    if not host or (_ip(host) is None and not _HOST_NAME.fullmatch(host)):
        raise InvalidValue(f"webhook URL {url!r} has no valid host name")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def address_refusal(address: str, own: Iterable[str] = ()) -> str | None:
    """Why a webhook may not be sent to `address` (None: it may). This host's addresses,
    loopback, private, link-local (cloud metadata), multicast, unspecified, reserved and
    any other non-public range are refused."""
    ip = _ip(address)
    if ip is None:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    own_ips = {i for i in map(_ip, own) if i is not None}
    checks = (
        (ip.is_loopback, "a loopback address (this host)"),
        (ip.is_unspecified, "the unspecified address (this host)"),
        (ip in own_ips, "an address of this host"),
        (ip.is_link_local, "a link-local address (where cloud metadata services live)"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    for refused, why in checks:
        if refused:
            return f"{ip} is {why}"
    return None


def addresses_refusal(
    host: str, addresses: Iterable[str], own: Iterable[str] = (), allow_private: bool = False
) -> str | None:
    """Why `host`, resolved to `addresses`, may not be sent to: every address is checked,
    so a name that also resolves to an inner address is refused (None: it may)."""
    found = list(addresses)
    if not found:
        return f"{host} resolves to no address"
    if allow_private:
        return None
    own = list(own)
    for address in found:
        why = address_refusal(address, own)
        if why is not None:
            via = "" if address == host else f"{host} resolves to {address}: "
            return (
                f"{via}{why}; webhooks to this host or private networks are refused unless "
                "the controller's config sets [webhooks] allow_private = true"
            )
    return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None
