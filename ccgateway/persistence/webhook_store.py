"""Webhook subscriptions and deliveries on SQLAlchemy (SQLite and PostgreSQL).

Every write here runs in the dispatcher's one writer (services/webhooks_delivery.py hands
them to `Dispatcher.write`); reads run in a thread. The store keeps two promises of the
webhooks: at most `max_pending` deliveries wait per subscription (the oldest beyond it are
dead-lettered and counted on the subscription), and `due` hands out only the head of each
line (no earlier delivery with the same order key still pending).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from ccgateway.domain.errors import Conflict, NotFound
from ccgateway.domain.webhooks import Delivery, DeliveryState, Subscription
from ccgateway.persistence.mapping import columns_of, from_row, stored
from ccgateway.persistence.stores import SqlStore
from ccgateway.persistence.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow

PENDING, DELIVERED, DEAD = (s.value for s in DeliveryState)


class SqlWebhookStore(SqlStore):
    # --- subscriptions -----------------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        with self._writing(f"webhook {subscription.id!r}") as session:
            if session.get(WebhookSubscriptionRow, subscription.id) is not None:
                raise Conflict(f"there is a webhook {subscription.id!r} already")
            session.add(WebhookSubscriptionRow(**_subscription_columns(subscription)))

    def update_subscription(self, subscription: Subscription) -> bool:
        with self._writing(f"webhook {subscription.id!r}") as session:
            row = session.get(WebhookSubscriptionRow, subscription.id)
            if row is None:
                return False
            columns = _subscription_columns(subscription)
            del columns["overflowed"]  # the store's own count, never overwritten
            for name, value in columns.items():
                setattr(row, name, value)
            return True

    def delete_subscription(self, subscription_id: str) -> bool:
        """The subscription and its deliveries, whatever their state."""
        with self._writing(f"the removal of webhook {subscription_id!r}") as session:
            session.execute(
                delete(WebhookDeliveryRow).where(
                    WebhookDeliveryRow.subscription_id == subscription_id
                )
            )
            result = session.execute(
                delete(WebhookSubscriptionRow).where(WebhookSubscriptionRow.id == subscription_id)
            )
            return int(result.rowcount) > 0  # type: ignore[attr-defined]

    def subscriptions(self) -> list[Subscription]:
        with self._sessions() as session:
            rows = session.scalars(select(WebhookSubscriptionRow).order_by("created_at", "id"))
            return [_subscription(r) for r in rows]

    def counts(self) -> dict[str, Counter[str]]:
        """Deliveries per subscription and state."""
        statement = select(
            WebhookDeliveryRow.subscription_id, WebhookDeliveryRow.state, func.count()
        ).group_by(WebhookDeliveryRow.subscription_id, WebhookDeliveryRow.state)
        found: dict[str, Counter[str]] = {}
        with self._sessions() as session:
            for subscription_id, state, count in session.execute(statement):
                found.setdefault(subscription_id, Counter())[state] = count
        return found

    # --- deliveries --------------------------------------------------------------------

    def max_seq(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.max(WebhookDeliveryRow.seq))) or 0)

    def add_deliveries(
        self, deliveries: Sequence[Delivery], max_pending: int, now: float
    ) -> dict[str, int]:
        """Store new deliveries (those of a subscription deleted meanwhile, and those
        stored already, are left out: a save cut off by a stop is simply made again); where
        a subscription then has more than `max_pending` pending, its oldest are
        dead-lettered and counted on it. Returns how many were dead-lettered per
        subscription."""
        overflowed: dict[str, int] = {}
        with self._writing("webhook deliveries") as session:
            known = set(session.scalars(select(WebhookSubscriptionRow.id)))
            stored = _stored_ids(session, [d.id for d in deliveries])
            kept = [d for d in deliveries if d.subscription_id in known and d.id not in stored]
            if kept:
                session.execute(
                    insert(WebhookDeliveryRow), [_delivery_columns(d, now) for d in kept]
                )
            for subscription_id in sorted({d.subscription_id for d in kept}):
                excess = _pending_count(session, subscription_id) - max_pending
                if excess > 0:
                    _dead_letter_oldest(session, subscription_id, excess, max_pending, now)
                    overflowed[subscription_id] = excess
        return overflowed

    def due(
        self, subscription_id: str, now: float, limit: int, busy: Collection[str] = ()
    ) -> list[Delivery]:
        """Pending deliveries of the subscription whose time has come and that head their
        line (no earlier one with the same order key pending), oldest first; `busy` ones
        (being sent) are left out, and so is everything behind them."""
        d, earlier = WebhookDeliveryRow, aliased(WebhookDeliveryRow)
        ahead = exists().where(
            earlier.subscription_id == d.subscription_id,
            earlier.order_key == d.order_key,
            earlier.state == PENDING,
            earlier.seq < d.seq,
        )
        statement = (
            select(d)
            .where(d.subscription_id == subscription_id, d.state == PENDING, d.next_at <= now)
            .where(~ahead)
            .order_by(d.seq)
            .limit(limit + len(busy))
        )
        with self._sessions() as session:
            rows = [r for r in session.scalars(statement) if r.id not in busy]
        return [_delivery(r) for r in rows[:limit]]

    def next_due(self) -> float | None:
        """The earliest next attempt of any pending delivery."""
        with self._sessions() as session:
            found = session.scalar(
                select(func.min(WebhookDeliveryRow.next_at)).where(
                    WebhookDeliveryRow.state == PENDING
                )
            )
            return None if found is None else float(found)

    def attempted(self, delivery: Delivery, now: float) -> None:
        """An attempt's outcome: the delivery as it now stands. A delivery dead-lettered
        meanwhile (over the pending limit) stays dead unless this attempt delivered it."""
        d = WebhookDeliveryRow
        condition = d.id == delivery.id
        if delivery.state is not DeliveryState.DELIVERED:
            condition = and_(condition, d.state == PENDING)
        values = {
            "state": delivery.state.value,
            "attempts": delivery.attempts,
            "next_at": delivery.next_at,
            "last_error": delivery.last_error[:500],
            "last_status": delivery.last_status,
            "delivered_at": delivery.delivered_at,
            "updated_at": now,
        }
        with self._writing(f"webhook delivery {delivery.id!r}") as session:
            session.execute(update(d).where(condition).values(**values))

    def deliveries(
        self, subscription_id: str, state: DeliveryState | None, limit: int, offset: int = 0
    ) -> list[Delivery]:
        """Newest first."""
        d = WebhookDeliveryRow
        statement = select(d).where(d.subscription_id == subscription_id)
        if state is not None:
            statement = statement.where(d.state == state.value)
        statement = statement.order_by(d.seq.desc()).limit(limit).offset(offset)
        with self._sessions() as session:
            return [_delivery(r) for r in session.scalars(statement)]

    def delivery(self, subscription_id: str, delivery_id: str) -> Delivery | None:
        with self._sessions() as session:
            row = session.get(WebhookDeliveryRow, delivery_id)
            if row is None or row.subscription_id != subscription_id:
                return None
            return _delivery(row)

    def redeliver(self, subscription_id: str, delivery_id: str, seq: int, now: float) -> Delivery:
        """A dead or delivered delivery pending again, now, with its attempts reset and its
        id kept (receivers deduplicate on it); it joins the back of its line (`seq`)."""
        with self._writing(f"webhook delivery {delivery_id!r}") as session:
            row = session.get(WebhookDeliveryRow, delivery_id)
            if row is None or row.subscription_id != subscription_id:
                raise NotFound(f"webhook {subscription_id!r} has no delivery {delivery_id!r}")
            if row.state == PENDING:
                raise Conflict(
                    f"delivery {delivery_id} is pending already (attempt {row.attempts})"
                )
            row.state, row.attempts, row.seq = PENDING, 0, seq
            row.next_at = row.queued_at = row.updated_at = now
            row.delivered_at = None
            return _delivery(row)

    def prune(self, delivered_before: float, dead_before: float) -> int:
        """Delivered deliveries done before `delivered_before` and dead ones given up
        before `dead_before` are deleted; how many."""
        d = WebhookDeliveryRow
        with self._writing("the webhook deliveries' pruning") as session:
            result = session.execute(
                delete(d).where(
                    or_(
                        and_(d.state == DELIVERED, d.updated_at < delivered_before),
                        and_(d.state == DEAD, d.updated_at < dead_before),
                    )
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


def _stored_ids(session: Session, ids: list[str], chunk: int = 1000) -> set[str]:
    d = WebhookDeliveryRow
    found: set[str] = set()
    for start in range(0, len(ids), chunk):
        found.update(session.scalars(select(d.id).where(d.id.in_(ids[start : start + chunk]))))
    return found


def _pending_count(session: Session, subscription_id: str) -> int:
    d = WebhookDeliveryRow
    statement = select(func.count()).where(d.subscription_id == subscription_id, d.state == PENDING)
    return int(session.scalar(statement) or 0)


def _dead_letter_oldest(
    session: Session, subscription_id: str, excess: int, max_pending: int, now: float
) -> None:
    d = WebhookDeliveryRow
    oldest = (
        select(d.id)
        .where(d.subscription_id == subscription_id, d.state == PENDING)
        .order_by(d.seq)
        .limit(excess)
    )
    ids = list(session.scalars(oldest))
    why = f"over the limit of {max_pending} pending deliveries: the oldest are dead-lettered"
    session.execute(
        update(d).where(d.id.in_(ids)).values(state=DEAD, last_error=why, updated_at=now)
    )
    s = WebhookSubscriptionRow
    session.execute(
        update(s).where(s.id == subscription_id).values(overflowed=s.overflowed + excess)
    )


def _subscription_columns(s: Subscription) -> dict[str, object]:
    return columns_of(s, events=json.dumps(list(s.events)))


def _subscription(r: WebhookSubscriptionRow) -> Subscription:
    return from_row(Subscription, r, events=tuple(json.loads(r.events)))


def _delivery_columns(d: Delivery, now: float) -> dict[str, object]:
    return columns_of(d, order_key=d.order_key[:200], state=d.state.value, updated_at=now)


def _delivery(r: WebhookDeliveryRow) -> Delivery:
    return from_row(Delivery, r, state=stored(DeliveryState, r.state, "delivery state"))
