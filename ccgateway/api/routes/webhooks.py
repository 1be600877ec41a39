"""Signed webhooks (admins): subscriptions, their deliveries, the dead letters, redelivery.

Each delivery is a POST of JSON signed with the subscription's secret (README, "Webhooks"):
`Ccgw-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, `Ccgw-Delivery` (the id
to deduplicate on), `Ccgw-Event`. A URL on this host or a private network is refused (422
unsafe-address) unless the controller's config allows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from ccgateway.api.deps import Configurer, Limit, Offset
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.webhook_schemas import (
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from ccgateway.domain.webhooks import DeliveryState
from ccgateway.services.webhooks import SubscriptionView, WebhookService

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=GuardedRoute)


async def _webhooks(request: Request) -> WebhookService:
    webhooks: WebhookService = request.app.state.webhooks
    return webhooks


Webhooks = Annotated[WebhookService, Depends(_webhooks)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(body: WebhookIn, webhooks: Webhooks, _: Configurer) -> WebhookCreated:
    """A new subscription; its secret is in this answer only."""
    created = await webhooks.create(
        body.url, body.events, body.description, body.secret, body.active
    )
    view = SubscriptionView(created, (await webhooks.get(created.id)).counts)
    return WebhookCreated(**WebhookOut.of(view).model_dump(), secret=created.secret)


@router.get("")
async def list_webhooks(webhooks: Webhooks, _: Configurer) -> list[WebhookOut]:
    return [WebhookOut.of(v) for v in await webhooks.views()]


@router.get("/{webhook_id}")
async def get_webhook(webhook_id: str, webhooks: Webhooks, _: Configurer) -> WebhookOut:
    return WebhookOut.of(await webhooks.get(webhook_id))


@router.patch("/{webhook_id}")
async def change_webhook(
    webhook_id: str, body: WebhookPatch, webhooks: Webhooks, _: Configurer
) -> WebhookOut:
    """Only the fields given change; a new `secret` signs every attempt from now on."""
    changes = body.model_dump(exclude_unset=True)
    return WebhookOut.of(await webhooks.update(webhook_id, **changes))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: str, webhooks: Webhooks, _: Configurer) -> Response:
    """The subscription and all its deliveries (pending and dead ones too)."""
    await webhooks.delete(webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: str,
    webhooks: Webhooks,
    _: Configurer,
    state: Annotated[DeliveryState | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DeliveryOut]:
    """Newest first; `state=dead` is the dead-letter list."""
    found = await webhooks.deliveries(webhook_id, state, limit, offset)
    return [DeliveryOut.of(d) for d in found]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED
)
async def redeliver(
    webhook_id: str, delivery_id: str, webhooks: Webhooks, _: Configurer
) -> DeliveryOut:
    """A dead (or delivered) delivery sent again from now, with the same id and body
    (signed anew), behind what is pending for the same call or agent."""
    return DeliveryOut.of(await webhooks.redeliver(webhook_id, delivery_id))


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def test_webhook(webhook_id: str, webhooks: Webhooks, _: Configurer) -> DeliveryOut:
    """A `ping` event to this subscription, signed and retried like any other."""
    return DeliveryOut.of(await webhooks.ping(webhook_id))
