"""The webhooks' request and response bodies (api/routes/webhooks.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ccgateway.api.schemas import Input, Patch
from ccgateway.api.times import utc, utc_or_none
from ccgateway.domain.webhooks import EVENT_TYPES, Delivery, DeliveryState
from ccgateway.services.webhooks import SubscriptionView

URL_HELP = "http:// or https://, no user or password"
EVENTS_HELP = f"any of {', '.join(EVENT_TYPES)}; or '*' for every type"
SECRET_HELP = "16-200 printable ASCII characters; default: one made for you (whsec_...)"
MAX_EVENTS = len(EVENT_TYPES) + 1


class WebhookIn(Input):
    url: str = Field(max_length=2000, description=URL_HELP)
    events: list[str] = Field(min_length=1, max_length=MAX_EVENTS, description=EVENTS_HELP)
    description: str = Field("", max_length=200)
    secret: str | None = Field(None, min_length=16, max_length=200, description=SECRET_HELP)
    active: bool = True


class WebhookPatch(Patch):
    url: str | None = Field(None, max_length=2000, description=URL_HELP)
    events: list[str] | None = Field(
        None, min_length=1, max_length=MAX_EVENTS, description=EVENTS_HELP
    )
    description: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, min_length=16, max_length=200, description=SECRET_HELP)
    active: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    pending: int = Field(description="deliveries waiting for their first attempt or a retry")
    dead: int = Field(description="deliveries given up on: GET .../deliveries?state=dead")
    delivered: int = Field(description="delivered and not yet pruned")
    overflowed: int = Field(
        description="deliveries dead-lettered because too many were pending at once"
    )

    @classmethod
    def of(cls, view: SubscriptionView) -> WebhookOut:
        s, counts = view.subscription, view.counts
        return cls(
            id=s.id,
            url=s.url,
            events=list(s.events),
            description=s.description,
            active=s.active,
            created_at=utc(s.created_at),
            updated_at=utc(s.updated_at),
            pending=counts[DeliveryState.PENDING],
            dead=counts[DeliveryState.DEAD],
            delivered=counts[DeliveryState.DELIVERED],
            overflowed=s.overflowed,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown this once: keep it to verify the signatures")


class DeliveryOut(BaseModel):
    id: str = Field(description="the Ccgw-Delivery header: receivers deduplicate on it")
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    created_at: datetime = Field(description="when the event happened")
    next_attempt_at: datetime | None
    last_error: str
    last_status: int | None
    delivered_at: datetime | None
    payload: Any = Field(description="the body as sent")

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            event_id=d.event_id,
            event_type=d.event_type,
            state=d.state,
            attempts=d.attempts,
            created_at=utc(d.created_at),
            next_attempt_at=utc(d.next_at) if d.state is DeliveryState.PENDING else None,
            last_error=d.last_error,
            last_status=d.last_status,
            delivered_at=utc_or_none(d.delivered_at),
            payload=json.loads(d.body),
        )
