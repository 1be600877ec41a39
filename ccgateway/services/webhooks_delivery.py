"""Webhook deliveries: taken from the dispatcher's commands without ever holding it up,
stored, and sent, signed, until the receiver says 2xx.

    dispatcher turn ──observe()──▶ intake (memory, bounded) ──write()──▶ store (pending)
                                                                          │ due, head of line
    receiver ◀── POST, signed, timed out ── attempt ──write()──▶ delivered / retry / dead

`observe` (a `CommandTap`) only maps the command to events (domain/webhooks.py) and notes
each event with the subscriptions that want it in the intake: no I/O, no JSON
(benchmarks/webhook_tap.py: 2-4 µs a command). The job (`run`, one of `Controller.jobs`)
saves the intake in one batch per round through the dispatcher's writer, whose thread makes
the bodies and delivery records, then starts the attempts that are due: at most
`in_flight` at once per subscription, so a slow receiver holds up only its own deliveries.
Each attempt resolves the host again and checks every address it gets (a name re-pointed
at an inner address after it was accepted is refused), then connects to that checked
address (TLS still verified against the name).

At least once: an attempt cut off by a stop leaves its delivery pending, and it is sent
again after the restart with the same delivery id. What was observed but not yet saved when
the process died (at most one round, well under a second) is lost; on a clean stop the job
saves it on its way out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Protocol

import httpx

from ccgateway.domain.commands import Command
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Delivery,
    DeliveryState,
    EventMapper,
    RetryPolicy,
    Subscription,
    Target,
    UnsafeAddress,
    WebhookEvent,
    addresses_refusal,
    delivery_body,
    parse_url,
    signature_header,
)
from ccgateway.ports import Clock
from ccgateway.services.dispatcher import Dispatcher

log = logging.getLogger("ccgateway.webhooks")

UNSAVED_MAX = 50_000  # deliveries observed but not yet saved; beyond, the oldest are dropped
POLL_S = 1.0  # the job looks for due retries at least this often
PRUNE_EVERY_S = 3600.0
RESOLVE_TIMEOUT_S = 5.0
USER_AGENT = "ccgateway-webhooks/0.1"


class WebhookStore(Protocol):
    """What the webhooks need of a store (persistence/webhook_store.py)."""

    def add_subscription(self, subscription: Subscription) -> None: ...
    def update_subscription(self, subscription: Subscription) -> bool: ...
    def delete_subscription(self, subscription_id: str) -> bool: ...
    def subscriptions(self) -> list[Subscription]: ...
    def counts(self) -> dict[str, Counter[str]]: ...
    def max_seq(self) -> int: ...
    def add_deliveries(
        self, deliveries: Sequence[Delivery], max_pending: int, now: float
    ) -> dict[str, int]: ...
    def due(
        self, subscription_id: str, now: float, limit: int, busy: Collection[str] = ()
    ) -> list[Delivery]: ...
    def attempted(self, delivery: Delivery, now: float) -> None: ...
    def deliveries(
        self, subscription_id: str, state: DeliveryState | None, limit: int, offset: int = 0
    ) -> list[Delivery]: ...
    def delivery(self, subscription_id: str, delivery_id: str) -> Delivery | None: ...
    def redeliver(
        self, subscription_id: str, delivery_id: str, seq: int, now: float
    ) -> Delivery: ...
    def prune(self, delivered_before: float, dead_before: float) -> int: ...


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """The settings' [webhooks] as the deliverer uses them (app.py builds it)."""

    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    timeout_s: float = 10.0
    max_pending: int = 10_000
    in_flight: int = 4
    allow_private: bool = False
    keep_delivered_s: float = 72 * 3600.0
    keep_dead_s: float = 30 * 86400.0


@dataclass
class WebhookStats:
    """Counts since the start, for /metrics; `on_delivered` (the deliverer's) gets each
    successful delivery's delay from its event, for a histogram."""

    delivered: int = 0
    failed_attempts: int = 0
    dead: int = 0  # given up: too many attempts, or too old
    overflowed: int = 0  # dead-lettered because too many were pending for a subscription
    unsaved_dropped: int = 0  # lost: the intake was full (the database far behind)
    last_delay_s: float | None = None


class _Observed(NamedTuple):
    """An event observed, not yet saved: its deliveries are numbered `first` onwards, one
    per subscription, in order."""

    event: WebhookEvent
    at: float
    number: int  # of the event within this run
    first: int
    subscription_ids: tuple[str, ...]


class WebhookDeliverer:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: WebhookStore,
        clock: Clock,
        rules: DeliveryRules,
        *,
        wall: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        on_delivered: Callable[[float], None] | None = None,
    ) -> None:
        """`clock` dates events and schedules retries; `wall` is the real time signed into
        each delivery (receivers compare it with their own clocks)."""
        self._dispatcher = dispatcher
        self._store = store
        self._clock = clock
        self.rules = rules
        self._wall = wall
        self._jitter = jitter
        self.on_delivered = on_delivered
        self.stats = WebhookStats()
        self._mapper = EventMapper()
        self._subscriptions = {s.id: s for s in store.subscriptions()}
        self._seq = store.max_seq()
        # Ids: random per run, counted within it (a random id per delivery cost a system
        # call in the dispatcher's turn); unique across restarts and controllers.
        self._run_id = secrets.token_hex(8)
        self._events = 0
        self._unsaved: deque[_Observed] = deque()
        self._unsaved_count = 0  # the deliveries in it
        self._busy: dict[str, set[str]] = {}  # subscription -> deliveries being sent
        self._attempts: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._own: frozenset[str] | None = None
        self._soonest = float("inf")  # the earliest retry this process has scheduled
        self._client: httpx.AsyncClient | None = None  # made at the first attempt

    # --- the tap: in the dispatcher's turn, no I/O ---------------------------------------

    def observe(self, command: Command, now: float) -> None:
        for event in self._mapper.events(command):
            wanting = [s for s in self._subscriptions.values() if s.wants(event.type)]
            if wanting:
                self._queue(event, wanting, now)

    def _queue(self, event: WebhookEvent, subscriptions: list[Subscription], now: float) -> None:
        """Only what the event is and who wants it: its body and deliveries are made in
        the writer's thread when saved (`_materialise`), out of the dispatcher's turn."""
        self._events += 1
        first = self._seq + 1
        self._seq += len(subscriptions)
        observed = _Observed(event, now, self._events, first, tuple(s.id for s in subscriptions))
        while self._unsaved and self._unsaved_count + len(subscriptions) > UNSAVED_MAX:
            dropped = len(self._unsaved.popleft().subscription_ids)
            self._unsaved_count -= dropped
            self.stats.unsaved_dropped += dropped
            log.error("webhook deliveries dropped unsaved: the database is far behind")
        self._unsaved.append(observed)
        self._unsaved_count += len(subscriptions)
        self._wake.set()

    def _materialise(self, observed: Sequence[_Observed]) -> list[Delivery]:
        """The deliveries of what was observed: one body per event, one delivery per
        subscription (a pure function of the items: safe in the writer's thread)."""
        deliveries = []
        for event, at, number, first, subscription_ids in observed:
            event_id = f"evt_{self._run_id}{number:x}"
            body = delivery_body(event_id, event, at)
            for seq, subscription_id in enumerate(subscription_ids, start=first):
                delivery = Delivery(
                    f"whd_{self._run_id}{seq:x}",
                    subscription_id,
                    seq,
                    event_id,
                    event.type,
                    event.order_key,
                    body,
                    created_at=at,
                    next_at=at,
                    queued_at=at,
                )
                deliveries.append(delivery)
        return deliveries

    def _take_unsaved(self) -> list[_Observed]:
        taken = list(self._unsaved)
        self._unsaved.clear()
        self._unsaved_count = 0
        return taken

    def _put_back(self, observed: list[_Observed]) -> None:
        """Unsaved again, oldest first, as far as the bound allows."""
        for item in reversed(observed):
            if self._unsaved_count + len(item.subscription_ids) > UNSAVED_MAX:
                self.stats.unsaved_dropped += len(item.subscription_ids)
                continue
            self._unsaved.appendleft(item)
            self._unsaved_count += len(item.subscription_ids)

    def _save_now(self, observed: list[_Observed], now: float) -> dict[str, int]:
        """In the writer's thread (or at the stop): the deliveries made and stored."""
        deliveries = self._materialise(observed)
        return self._store.add_deliveries(deliveries, self.rules.max_pending, now)

    # --- subscriptions, as the service changes them --------------------------------------

    def subscribed(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.id] = subscription

    def unsubscribed(self, subscription_id: str) -> None:
        self._subscriptions.pop(subscription_id, None)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def ping(self, subscription: Subscription, now: float) -> Delivery:
        """A `ping` event for this subscription alone, through the same line as any."""
        event = WebhookEvent("ping", f"ping:{subscription.id}", {"webhook_id": subscription.id})
        self._queue(event, [subscription], now)
        [delivery] = self._materialise([self._unsaved[-1]])
        return delivery

    def wake(self) -> None:
        self._wake.set()

    # --- the job ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Save, send and retry until cancelled; then save what is still unsaved."""
        # httpx logs every request at INFO: our own lines say what failed, and why.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
        await self._dispatcher.started.wait()
        pruned_at = 0.0
        try:
            while True:
                self._wake.clear()
                try:
                    await self.step(wait=False)
                    if time.monotonic() - pruned_at > PRUNE_EVERY_S:
                        pruned_at = time.monotonic()
                        await self.prune()
                except Exception:  # the next round tries again; routing never notices
                    log.exception("webhook deliveries: a round failed")
                pause = min(POLL_S, max(0.01, self._soonest - self._clock.now()))
                self._soonest = float("inf")
                try:
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            await self.close()

    async def step(self, *, wait: bool = True) -> None:
        """One round: save what was observed, start what is due; with `wait`, until the
        attempts started are done (tests drive the deliverer this way, on a manual clock)."""
        await self._save()
        started = await self._start_due()
        if wait and started:
            await asyncio.gather(*started, return_exceptions=True)

    async def save_observed(self) -> None:
        """Store what was observed and not yet saved, through the dispatcher's writer (the
        controller's last step before the writer stops: a job's `finally` may never run)."""
        await self._save()

    async def close(self) -> None:
        """Stop the attempts (their deliveries stay pending), save what is unsaved straight
        into the store (the dispatcher's writer stops with us), close the HTTP client."""
        for task in list(self._attempts):
            task.cancel()
        await asyncio.gather(*self._attempts, return_exceptions=True)
        if self._unsaved:
            count = self._unsaved_count
            try:
                self._save_now(self._take_unsaved(), self._clock.now())
            except Exception:
                log.exception("%d webhook deliveries not saved at the stop", count)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made when first needed (its TLS set-up costs 20-30 ms, which a
        controller with no webhooks, or a test's, need not pay)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # never an HTTP_PROXY from the environment: we check addresses
                timeout=httpx.Timeout(self.rules.timeout_s),
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def prune(self) -> int:
        now = self._clock.now()
        delivered, dead = now - self.rules.keep_delivered_s, now - self.rules.keep_dead_s
        return await self._dispatcher.write(partial(self._store.prune, delivered, dead))

    async def _save(self) -> None:
        if not self._unsaved:
            return
        batch = self._take_unsaved()
        try:
            overflowed = await self._dispatcher.write(
                partial(self._save_now, batch, self._clock.now())
            )
        except asyncio.CancelledError:  # stopping: `close` saves them (again, if need be)
            self._put_back(batch)
            raise
        except Exception:
            log.exception("saving webhook deliveries failed: tried again")
            self._put_back(batch)
            return
        for subscription_id, count in overflowed.items():
            self.stats.overflowed += count
            log.warning(
                "webhook %s: %d oldest deliveries dead-lettered (over %d pending)",
                subscription_id,
                count,
                self.rules.max_pending,
            )

    async def _start_due(self) -> list[asyncio.Task[None]]:
        started = []
        now = self._clock.now()
        for subscription in list(self._subscriptions.values()):
            busy = self._busy.setdefault(subscription.id, set())
            free = self.rules.in_flight - len(busy)
            if free <= 0:
                continue
            due = await asyncio.to_thread(self._store.due, subscription.id, now, free, busy)
            for delivery in due:
                busy.add(delivery.id)
                task = asyncio.create_task(self._attempt(subscription, delivery))
                self._attempts.add(task)
                task.add_done_callback(self._attempts.discard)
                started.append(task)
        return started

    # --- one attempt -----------------------------------------------------------------------

    async def _attempt(self, subscription: Subscription, delivery: Delivery) -> None:
        try:
            status, error = await self._send(subscription, delivery)
            await self._dispatcher.write(
                partial(
                    self._store.attempted, self._after(delivery, status, error), self._clock.now()
                )
            )
        except Exception:
            log.exception("webhook delivery %s: its attempt failed to finish", delivery.id)
        finally:
            self._busy.get(subscription.id, set()).discard(delivery.id)
            self._wake.set()  # the next one in its line may go

    def _after(self, delivery: Delivery, status: int | None, error: str | None) -> Delivery:
        """The delivery as the attempt leaves it; counted."""
        now = self._clock.now()
        attempts = delivery.attempts + 1
        if error is None:
            delay = max(0.0, now - delivery.created_at)
            self.stats.delivered += 1
            self.stats.last_delay_s = delay
            if self.on_delivered is not None:
                self.on_delivered(delay)
            return dataclasses.replace(
                delivery,
                state=DeliveryState.DELIVERED,
                attempts=attempts,
                last_status=status,
                last_error="",
                delivered_at=now,
            )
        self.stats.failed_attempts += 1
        next_at = self.rules.retry.after_failure(attempts, delivery.queued_at, now, self._jitter())
        if next_at is None:
            self.stats.dead += 1
            log.warning("webhook delivery %s dead-lettered: %s", delivery.id, error)
        else:
            self._soonest = min(self._soonest, next_at)
            log.info(
                "webhook delivery %s, attempt %d: %s; again in %.1f s",
                delivery.id,
                attempts,
                error,
                next_at - now,
            )
        return dataclasses.replace(
            delivery,
            state=DeliveryState.DEAD if next_at is None else DeliveryState.PENDING,
            attempts=attempts,
            next_at=now if next_at is None else next_at,
            last_status=status,
            last_error=error,
        )

    async def _send(
        self, subscription: Subscription, delivery: Delivery
    ) -> tuple[int | None, str | None]:
        """(status, None) for a 2xx; (status or None, why) for anything else."""
        timeout = self.rules.timeout_s
        try:
            async with asyncio.timeout(timeout):
                target = parse_url(subscription.url)
                address = (await self.checked_addresses(target))[0]
                body = delivery.body.encode()
                headers = {
                    "Host": _host_header(target),
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signature_header(
                        subscription.secret, int(self._wall()), body
                    ),
                    DELIVERY_HEADER: delivery.id,
                    EVENT_HEADER: delivery.event_type,
                }
                extensions = {}
                if target.scheme == "https" and not target.is_address:
                    extensions["sni_hostname"] = target.host
                url = f"{target.scheme}://{_bracketed(address)}:{target.port}{target.path}"
                client = self._http()
                request = client.build_request(
                    "POST", url, content=body, headers=headers, extensions=extensions
                )
                response = await client.send(request, stream=True)
                await response.aclose()  # the status is all we want of it
        except TimeoutError:
            return None, f"no answer within {timeout:g} s"
        except (InvalidValue, httpx.HTTPError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    # --- where it may go -------------------------------------------------------------------

    async def checked_addresses(self, target: Target) -> list[str]:
        """The target's addresses, each checked; UnsafeAddress if any may not be reached,
        InvalidValue if the name does not resolve."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                found = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise InvalidValue(f"webhook host {target.host!r} does not resolve ({exc})") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        refusal = addresses_refusal(
            target.host, addresses, await self._own_addresses(), self.rules.allow_private
        )
        if refusal is not None:
            raise UnsafeAddress(f"webhook URL refused: {refusal}")
        return addresses

    async def _own_addresses(self) -> frozenset[str]:
        """This host's addresses by its name (loopback and private ones are refused
        anyway; this catches a public address of the controller's own)."""
        if self._own is None:
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                    found = await loop.getaddrinfo(socket.gethostname(), None)
                self._own = frozenset(str(info[4][0]) for info in found)
            except (OSError, TimeoutError):
                self._own = frozenset()
        return self._own


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _host_header(target: Target) -> str:
    host = _bracketed(target.host)
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"
