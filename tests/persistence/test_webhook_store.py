"""The webhooks' store on SQLite and on a real PostgreSQL server: the head-of-line rule, the
pending bound, redelivery, the cascade and the pruning."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import Engine

from ccgateway.domain.errors import Conflict, NotFound
from ccgateway.domain.webhooks import Delivery, DeliveryState, Subscription
from ccgateway.persistence.webhook_store import SqlWebhookStore


def subscription(subscription_id: str = "wh_1") -> Subscription:
    return Subscription(subscription_id, "https://hooks.example/x", ("agent.state",), "s" * 20,
                        created_at=1.0, updated_at=1.0)  # fmt: skip


def delivery(seq: int, key: str = "agent:a1", subscription_id: str = "wh_1") -> Delivery:
    return Delivery(f"whd_{subscription_id}_{seq}", subscription_id, seq, f"evt_{seq}",
                    "agent.state", key, json.dumps({"n": seq}), created_at=seq, next_at=seq,
                    queued_at=seq)  # fmt: skip


def test_subscriptions_are_kept_with_their_secret(engine: Engine) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    with pytest.raises(Conflict):
        store.add_subscription(subscription())
    assert store.subscriptions() == [subscription()]
    changed = dataclasses.replace(subscription(), url="https://other.example/", active=False)
    assert store.update_subscription(changed)
    assert store.subscriptions() == [changed]
    assert not store.update_subscription(subscription("wh_none"))


def test_only_the_head_of_each_line_is_due(engine: Engine) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    store.add_deliveries([delivery(1), delivery(2), delivery(3, "agent:a2")], 100, now=5)
    # a save made again (cut off by a stop the first time) adds nothing twice
    assert store.add_deliveries([delivery(1), delivery(2)], 100, now=6) == {}
    assert [d.seq for d in store.due("wh_1", now=10, limit=10)] == [1, 3]
    assert [d.seq for d in store.due("wh_1", now=2, limit=10)] == [1]  # 3 is not due yet
    assert [d.seq for d in store.due("wh_1", now=10, limit=10, busy={"whd_wh_1_1"})] == [3]
    failed = dataclasses.replace(delivery(1), attempts=1, next_at=50, last_error="HTTP 500")
    store.attempted(failed, now=10)
    assert [d.seq for d in store.due("wh_1", now=10, limit=10)] == [3]  # 2 waits behind 1
    dead = dataclasses.replace(failed, state=DeliveryState.DEAD)
    store.attempted(dead, now=11)
    assert [d.seq for d in store.due("wh_1", now=10, limit=10)] == [2, 3]  # 1 holds no more
    assert store.max_seq() == 3
    assert store.counts()["wh_1"] == {"pending": 2, "dead": 1}


def test_beyond_the_bound_the_oldest_pending_are_dead_lettered_and_counted(
    engine: Engine,
) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    assert store.add_deliveries([delivery(n) for n in range(1, 4)], 5, now=1) == {}
    overflowed = store.add_deliveries([delivery(n) for n in range(4, 9)], 5, now=2)
    assert overflowed == {"wh_1": 3}
    dead = store.deliveries("wh_1", DeliveryState.DEAD, 100)
    assert sorted(d.seq for d in dead) == [1, 2, 3]
    assert "over the limit of 5 pending" in dead[0].last_error
    assert store.subscriptions()[0].overflowed == 3
    # An attempt that ends after its delivery was dead-lettered leaves it dead, unless it
    # was delivered after all.
    store.attempted(dataclasses.replace(delivery(1), attempts=1, next_at=9), now=3)
    assert store.delivery("wh_1", "whd_wh_1_1").state is DeliveryState.DEAD  # type: ignore[union-attr]
    store.attempted(dataclasses.replace(delivery(2), state=DeliveryState.DELIVERED), now=3)
    assert store.delivery("wh_1", "whd_wh_1_2").state is DeliveryState.DELIVERED  # type: ignore[union-attr]


def test_a_redelivery_keeps_its_id_and_joins_the_back_of_its_line(engine: Engine) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    store.add_deliveries([delivery(1), delivery(2)], 100, now=1)
    with pytest.raises(Conflict, match="pending already"):
        store.redeliver("wh_1", "whd_wh_1_1", 3, now=5)
    store.attempted(dataclasses.replace(delivery(1), state=DeliveryState.DEAD, attempts=20), 4)
    again = store.redeliver("wh_1", "whd_wh_1_1", 3, now=5)
    assert (again.id, again.state, again.attempts, again.seq) == ("whd_wh_1_1", "pending", 0, 3)
    assert [d.seq for d in store.due("wh_1", now=6, limit=10)] == [2]  # 2 is now ahead
    with pytest.raises(NotFound):
        store.redeliver("wh_other", "whd_wh_1_1", 4, now=5)


def test_deleting_a_subscription_deletes_its_deliveries_and_late_ones_are_dropped(
    engine: Engine,
) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    store.add_subscription(subscription("wh_2"))
    store.add_deliveries([delivery(1), delivery(2, subscription_id="wh_2")], 100, now=1)
    assert store.delete_subscription("wh_1")
    assert not store.delete_subscription("wh_1")
    assert store.deliveries("wh_1", None, 10) == []
    assert len(store.deliveries("wh_2", None, 10)) == 1
    # observed before the deletion, saved after it: dropped, not refused
    assert store.add_deliveries([delivery(3)], 100, now=2) == {}
    assert store.deliveries("wh_1", None, 10) == []


def test_pruning_deletes_old_delivered_and_dead_ones_only(engine: Engine) -> None:
    store = SqlWebhookStore(engine)
    store.add_subscription(subscription())
    store.add_deliveries([delivery(n, f"k{n}") for n in range(1, 5)], 100, now=1)
    store.attempted(dataclasses.replace(delivery(1, "k1"), state=DeliveryState.DELIVERED), 10)
    store.attempted(dataclasses.replace(delivery(2, "k2"), state=DeliveryState.DEAD), 10)
    store.attempted(dataclasses.replace(delivery(3, "k3"), state=DeliveryState.DELIVERED), 100)
    assert store.prune(delivered_before=50, dead_before=5) == 1  # the old delivered one
    assert store.prune(delivered_before=50, dead_before=50) == 1  # and the dead one
    assert sorted(d.seq for d in store.deliveries("wh_1", None, 10)) == [3, 4]
