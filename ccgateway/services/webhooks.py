"""Webhook subscriptions and their deliveries, as the API manages them (admins only).

A subscription's URL is checked when it is made or changed (http or https, no credentials,
and its host's every address public unless `[webhooks] allow_private`), and again at every
attempt (services/webhooks_delivery.py). Its secret is generated (`whsec_...`) unless the
caller brings one, returned once at creation, and never shown again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections import Counter
from functools import partial

from ccgateway.domain.errors import NotFound
from ccgateway.domain.webhooks import (
    Delivery,
    DeliveryState,
    Subscription,
    check_event_types,
    check_secret,
    parse_url,
)
from ccgateway.ports import Clock
from ccgateway.services.dispatcher import Dispatcher
from ccgateway.services.webhooks_delivery import WebhookDeliverer, WebhookStore


@dataclasses.dataclass(frozen=True, slots=True)
class SubscriptionView:
    subscription: Subscription
    counts: Counter[str]


class WebhookService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: WebhookStore,
        deliverer: WebhookDeliverer,
        clock: Clock,
    ) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._deliverer = deliverer
        self._clock = clock

    async def views(self) -> list[SubscriptionView]:
        subscriptions = await asyncio.to_thread(self._store.subscriptions)
        counts = await asyncio.to_thread(self._store.counts)
        return [SubscriptionView(s, counts.get(s.id, Counter())) for s in subscriptions]

    async def get(self, subscription_id: str) -> SubscriptionView:
        for view in await self.views():
            if view.subscription.id == subscription_id:
                return view
        raise NotFound(f"no webhook {subscription_id!r}")

    async def create(
        self,
        url: str,
        events: list[str],
        description: str = "",
        secret: str | None = None,
        active: bool = True,
    ) -> Subscription:
        """The new subscription, with its secret (shown to the caller this once)."""
        await self._deliverer.checked_addresses(parse_url(url))
        now = self._clock.now()
        subscription = Subscription(
            id=f"wh_{secrets.token_hex(8)}",
            url=url,
            events=check_event_types(events),
            secret=check_secret(secret) if secret is not None else new_secret(),
            description=description,
            active=active,
            created_at=now,
            updated_at=now,
        )
        await self._dispatcher.write(partial(self._store.add_subscription, subscription))
        self._deliverer.subscribed(subscription)
        return subscription

    async def update(
        self,
        subscription_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        secret: str | None = None,
        active: bool | None = None,
    ) -> SubscriptionView:
        current = (await self.get(subscription_id)).subscription
        if url is not None:
            await self._deliverer.checked_addresses(parse_url(url))
        changed = dataclasses.replace(
            current,
            url=current.url if url is None else url,
            events=current.events if events is None else check_event_types(events),
            description=current.description if description is None else description,
            secret=current.secret if secret is None else check_secret(secret),
            active=current.active if active is None else active,
            updated_at=self._clock.now(),
        )
        if not await self._dispatcher.write(partial(self._store.update_subscription, changed)):
            raise NotFound(f"no webhook {subscription_id!r}")
        self._deliverer.subscribed(changed)
        return await self.get(subscription_id)

    async def delete(self, subscription_id: str) -> None:
        """The subscription and every delivery of it, pending and dead ones included."""
        self._deliverer.unsubscribed(subscription_id)
        if not await self._dispatcher.write(
            partial(self._store.delete_subscription, subscription_id)
        ):
            raise NotFound(f"no webhook {subscription_id!r}")

    async def deliveries(
        self, subscription_id: str, state: DeliveryState | None, limit: int, offset: int
    ) -> list[Delivery]:
        await self.get(subscription_id)
        return await asyncio.to_thread(
            self._store.deliveries, subscription_id, state, limit, offset
        )

    async def redeliver(self, subscription_id: str, delivery_id: str) -> Delivery:
        """A dead (or delivered) delivery sent again, with the same id, from now."""
        await self.get(subscription_id)
        redeliver = partial(
            self._store.redeliver,
            subscription_id,
            delivery_id,
            self._deliverer.next_seq(),
            self._clock.now(),
        )
        delivery = await self._dispatcher.write(redeliver)
        self._deliverer.wake()
        return delivery

    async def ping(self, subscription_id: str) -> Delivery:
        """A `ping` delivery to the subscription, as any other (signed, retried)."""
        view = await self.get(subscription_id)
        return self._deliverer.ping(view.subscription, self._clock.now())


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"
