"""Webhook deliveries from the real controller (`build_harness`: composition root, stores,
dispatcher, API; the fake PBX and the manual clock) to a real HTTP receiver on 127.0.0.1
that verifies every signature with the README's code, fails, is slow, or is down."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.domain.model import Agent, Queue
from ccgateway.services import webhooks_delivery
from ccgateway.services.webhooks_delivery import WebhookDeliverer
from ccgateway.settings import Settings, WebhookSettings
from ccgateway.testing import Harness, build_harness, hermetic_settings
from tests.harness_api import request
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec_test-secret-0123456789"


def webhook_settings(database_url: str = "sqlite://", **changes: Any) -> Settings:
    """Webhooks to 127.0.0.1 allowed (the receiver), short timeouts, 10 s first retry."""
    settings = hermetic_settings(database_url)
    options: dict[str, Any] = {"allow_private": True, "timeout_s": 0.5, "first_retry_s": 10.0}
    settings.webhooks = WebhookSettings(**(options | changes))
    return settings


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver(SECRET)
    found.start()
    yield found
    found.release.set()
    found.stop()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running() as h:
        yield h


def deliverer(h: Harness) -> WebhookDeliverer:
    assert h.controller.webhooks is not None
    return h.controller.webhooks


async def subscribe(h: Harness, url: str, events: list[str]) -> dict[str, Any]:
    response = await request(h, "POST", "/v1/webhooks", {"url": url, "events": events,
                                                        "secret": SECRET})  # fmt: skip
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def agent(h: Harness, agent_id: str = "a1") -> None:
    await h.controller.service.create_agent(Agent(agent_id, agent_id.upper(), f"PJSIP/{agent_id}"))


async def set_state(h: Harness, state: AgentState, reason: str | None = None) -> None:
    await h.controller.service.set_agent_state("a1", state, reason)


async def two_changes_to_a_failing_receiver(h: Harness, receiver: WebhookReceiver) -> str:
    """Agent a1 made available, then paused, with the receiver answering 500: the webhook."""
    await agent(h)
    created = await subscribe(h, receiver.url, ["agent.state"])
    receiver.mode = "fail"
    await set_state(h, AgentState.AVAILABLE)
    await set_state(h, AgentState.PAUSED, "lunch")
    webhook_id: str = created["id"]
    return webhook_id


@asynccontextmanager
async def running(**changes: Any) -> AsyncIterator[Harness]:
    """A harness on webhook settings with `changes`, running; its deliverer closed after."""
    built = build_harness(webhook_settings(**changes))
    async with built.running() as h:
        yield h
    await deliverer(built).close()


async def rounds(h: Harness, count: int = 6) -> None:
    """The deliverer's rounds (the job's, one by one): save, send what is due, wait."""
    for _ in range(count):
        await deliverer(h).step()


async def deliveries(h: Harness, webhook_id: str, state: str = "") -> list[dict[str, Any]]:
    query = f"?state={state}" if state else ""
    response = await request(h, "GET", f"/v1/webhooks/{webhook_id}/deliveries{query}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_deliveries_are_signed_and_come_in_order_per_agent(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    await agent(harness)
    await subscribe(harness, receiver.url, ["agent.state"])
    await set_state(harness, AgentState.AVAILABLE)
    await set_state(harness, AgentState.PAUSED, "lunch")
    await set_state(harness, AgentState.AVAILABLE)
    await rounds(harness)
    got = receiver.delivered()
    assert [r.event["data"]["state"] for r in got] == ["available", "paused", "available"]
    assert all(r.verified for r in got)  # the README's verify accepts every signature
    assert all(r.event_type == "agent.state" == r.event["type"] for r in got)
    assert len({r.delivery_id for r in got}) == 3
    assert deliverer(harness).stats.delivered == 3
    # each delivery's delay is in /metrics' histogram (the controller's own registry)
    registry = harness.controller.dispatcher.instruments.registry
    assert registry.get_sample_value("ccgw_webhook_delivery_delay_seconds_count") == 3


async def test_a_call_is_told_from_queued_to_ended_with_its_record(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    h, service = harness, harness.controller.service
    await service.create_queue(Queue("q", "Q", "200"))
    await agent(h)
    await subscribe(h, receiver.url, ["call.queued", "call.offered", "call.answered",
                                      "call.ended"])  # fmt: skip
    await set_state(h, AgentState.AVAILABLE)
    await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
    [ring] = await h.pbx.wait_for(RingAgent)
    await h.emit(AgentLegAnswered(ring.leg_id))
    await h.advance(30)
    await h.emit(ChannelHungUp("c1"))
    await rounds(h)
    got = [r.event for r in receiver.delivered()]
    assert [e["type"] for e in got] == ["call.queued", "call.offered", "call.answered",
                                        "call.ended"]  # fmt: skip
    ended = got[-1]["data"]
    assert ended["outcome"] == "answered" and ended["talk_s"] == 30
    assert ended["queue_id"] == "q" and ended["agent_id"] == "a1"


async def test_a_failure_is_retried_with_back_off_and_the_next_waits_its_turn(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    webhook_id = await two_changes_to_a_failing_receiver(harness, receiver)
    await rounds(harness, 3)
    [first] = receiver.all()  # tried once; the second waits behind it
    assert first.status == 500 and first.event["data"]["state"] == "available"
    [pending_second, pending_first] = await deliveries(harness, webhook_id, "pending")
    assert pending_first["attempts"] == 1 and pending_first["last_error"] == "HTTP 500"
    assert pending_second["attempts"] == 0
    await harness.advance(4.9)  # the first retry comes 5-10 s later (jittered)
    await rounds(harness, 2)
    assert len(receiver.all()) == 1
    receiver.mode = "ok"
    await harness.advance(5.1)
    await rounds(harness, 3)
    delivered = receiver.delivered()
    assert [r.event["data"]["state"] for r in delivered] == ["available", "paused"]
    assert delivered[0].delivery_id == first.delivery_id  # the same id on the retry
    [second, again] = await deliveries(harness, webhook_id, "delivered")
    assert (again["attempts"], second["attempts"]) == (2, 1)


async def test_given_up_it_is_dead_lettered_and_can_be_redelivered(
    receiver: WebhookReceiver,
) -> None:
    async with running(max_attempts=2) as h:
        webhook_id = await two_changes_to_a_failing_receiver(h, receiver)
        await rounds(h, 2)
        await h.advance(10)
        await rounds(h, 1)  # the second attempt: given up; the next in line may go
        [dead] = await deliveries(h, webhook_id, "dead")
        assert dead["attempts"] == 2 and dead["last_error"] == "HTTP 500"
        assert dead["payload"]["data"]["state"] == "available"
        await rounds(h, 1)
        assert receiver.all()[-1].event["data"]["state"] == "paused"
        listed = (await request(h, "GET", f"/v1/webhooks/{webhook_id}")).json()
        assert listed["dead"] == 1
        receiver.mode = "ok"
        path = f"/v1/webhooks/{webhook_id}/deliveries/{dead['id']}/redeliver"
        answer = await request(h, "POST", path)
        assert answer.status_code == 202 and answer.json()["state"] == "pending"
        assert (await request(h, "POST", path)).status_code == 409  # pending already
        await h.advance(80)  # the paused one's retry too
        await rounds(h, 3)
        ids = [r.delivery_id for r in receiver.delivered()]
        assert dead["id"] in ids  # the same delivery id: receivers deduplicate on it
        assert deliverer(h).stats.dead == 1


async def test_slow_and_down_receivers_time_out_and_are_retried(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    await agent(harness)
    created = await subscribe(harness, receiver.url, ["agent.state"])
    receiver.mode = "slow"  # 2 s, over the 0.5 s timeout
    await set_state(harness, AgentState.AVAILABLE)
    await rounds(harness, 1)
    [slow] = await deliveries(harness, created["id"], "pending")
    assert slow["last_error"] == "no answer within 0.5 s"
    receiver.stop()  # down: its port closed
    await harness.advance(10)
    await rounds(harness, 1)
    [down] = await deliveries(harness, created["id"], "pending")
    assert down["attempts"] == 2 and down["last_error"].startswith("ConnectError")
    receiver.mode = "ok"
    receiver.start()
    await harness.advance(20)
    await rounds(harness, 1)
    assert [r.delivery_id for r in receiver.delivered()] == [down["id"]]


async def test_a_held_delivery_never_holds_up_routing(receiver: WebhookReceiver) -> None:
    async with running(timeout_s=60) as h:
        await agent(h)
        await subscribe(h, receiver.url, ["agent.state"])
        receiver.mode = "hold"  # answers only when released
        await set_state(h, AgentState.AVAILABLE)
        sending = asyncio.create_task(deliverer(h).step())
        await asyncio.to_thread(receiver.holding.wait, 10)
        for state in (AgentState.PAUSED, AgentState.AVAILABLE, AgentState.PAUSED):
            await set_state(h, state, "x" if state is AgentState.PAUSED else None)
        view = h.controller.service.agent("a1")
        assert view.state is AgentState.PAUSED and not sending.done()
        receiver.release.set()
        await sending
        await rounds(h, 4)
        assert len(receiver.delivered()) == 4


async def test_too_many_pending_dead_letters_the_oldest_and_counts_them(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(max_pending=3) as h:
        await agent(h)
        created = await subscribe(h, receiver.url, ["agent.state"])
        receiver.stop()
        for state in [AgentState.AVAILABLE, AgentState.PAUSED] * 3:
            await set_state(h, state, "x" if state is AgentState.PAUSED else None)
        await rounds(h, 1)
        webhook = (await request(h, "GET", f"/v1/webhooks/{created['id']}")).json()
        assert (webhook["overflowed"], webhook["pending"], webhook["dead"]) == (3, 3, 3)
        dead = await deliveries(h, created["id"], "dead")
        assert all("over the limit of 3 pending" in d["last_error"] for d in dead)
        oldest = sorted(dead + await deliveries(h, created["id"], "pending"),
                        key=lambda d: d["created_at"])  # fmt: skip
        assert {d["id"] for d in oldest[:3]} == {d["id"] for d in dead}
        assert deliverer(h).stats.overflowed == 3
        # The unsaved intake is bounded too: beyond it the oldest are dropped and counted.
        monkeypatch.setattr(webhooks_delivery, "UNSAVED_MAX", 2)
        for state in [AgentState.AVAILABLE, AgentState.PAUSED]:
            await set_state(h, state, "x" if state is AgentState.PAUSED else None)
        await set_state(h, AgentState.AVAILABLE)
        assert deliverer(h).stats.unsaved_dropped == 1


async def test_inner_addresses_are_refused_unless_the_config_allows_them(
    receiver: WebhookReceiver,
) -> None:
    async with running(allow_private=False) as h:
        body = {"url": receiver.url, "events": ["agent.state"]}
        refused = await request(h, "POST", "/v1/webhooks", body)
        assert refused.status_code == 422
        assert refused.json()["error_id"] == "unsafe-address"
        assert "127.0.0.1 is a loopback address" in refused.json()["message"]
        assert "allow_private" in refused.json()["message"]
        # Checked again at every attempt: a webhook made while allowed is refused once not.
        deliver = deliverer(h)
        deliver.rules = dataclasses.replace(deliver.rules, allow_private=True)
        created = await subscribe(h, receiver.url, ["agent.state"])
        deliver.rules = dataclasses.replace(deliver.rules, allow_private=False)
        await agent(h)
        await set_state(h, AgentState.AVAILABLE)
        await rounds(h, 1)
        [pending] = await deliveries(h, created["id"], "pending")
        assert "UnsafeAddress" in pending["last_error"] and "loopback" in pending["last_error"]
        assert receiver.all() == []
        moved = {"url": "http://10.1.2.3/hooks"}
        patched = await request(h, "PATCH", f"/v1/webhooks/{created['id']}", moved)
        assert patched.status_code == 422 and "10.1.2.3 is a private address" in patched.text


async def test_pending_deliveries_survive_a_restart_with_their_ids(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    url = f"sqlite:///{tmp_path}/ccgateway.db"
    first = build_harness(webhook_settings(url))
    async with first.running() as h:
        await agent(h)
        await subscribe(h, receiver.url, ["agent.state"])
        receiver.mode = "fail"
        await set_state(h, AgentState.AVAILABLE)
        await rounds(h, 1)  # tried and failed: pending, in the database
        await set_state(h, AgentState.PAUSED, "lunch")  # observed, never saved by a round
    await deliverer(first).close()  # a clean stop saves what is unsaved
    [failed] = receiver.all()
    receiver.mode = "ok"
    second = build_harness(webhook_settings(url))
    async with second.running() as h:
        await h.advance(10)
        await rounds(h, 3)
    await deliverer(second).close()
    delivered = receiver.delivered()
    assert [r.event["data"]["state"] for r in delivered] == ["available", "paused"]
    assert delivered[0].delivery_id == failed.delivery_id


async def test_a_ping_goes_through_the_same_line(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    created = await subscribe(harness, receiver.url, ["campaign.state"])
    answer = await request(harness, "POST", f"/v1/webhooks/{created['id']}/test")
    assert answer.status_code == 202
    await rounds(harness, 1)
    [ping] = receiver.delivered()
    assert ping.event_type == "ping" and ping.delivery_id == answer.json()["id"]
    assert ping.verified
