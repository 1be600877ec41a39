"""The webhooks' tables: subscriptions and their deliveries.

A subscription's secret is stored as given: the controller must read it to sign every
delivery (as Stripe and GitHub do); the API shows it once, at creation, and never again.
Its deliveries hang on it by a foreign key with ON DELETE CASCADE (the store deletes them
first as well). A delivery's body is the exact text that is signed and sent; `seq` orders
events across the controller's life, and the index on (subscription, order key, state,
seq) answers "is an earlier one of this call still pending?" for the head-of-line rule.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccgateway.persistence.tables import Base


class WebhookSubscriptionRow(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(Text)  # JSON list of event types
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    overflowed: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    queued_at: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[float] = mapped_column(Float)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_webhook_deliveries_line", "subscription_id", "order_key", "state", "seq"),
        Index("ix_webhook_deliveries_due", "subscription_id", "state", "next_at"),
        Index("ix_webhook_deliveries_listed", "subscription_id", "state", "seq"),
        Index("ix_webhook_deliveries_prune", "state", "updated_at"),
    )
