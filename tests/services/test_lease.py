"""The lease keeper's timings (on a store of our own port, scripted: the real one is tested
on PostgreSQL in tests/persistence/test_lease_store.py and with two installed processes in
tests/installed/test_pair.py), and the dispatcher commanding nothing once it may not."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import CallWaiting, PbxResynced
from ccgateway.ports import LeaseHolder
from ccgateway.services.lease import LeaseKeeper, LeaseLost
from ccgateway.testing import ADMIN_KEY, build_harness

LEASE_S, RENEW_S = 0.6, 0.15


class ScriptedLease:
    """A LeaseStore whose renewals answer as the test says: held, taken, failing, hanging."""

    def __init__(self) -> None:
        self.answer: str = "held"
        self.sent: list[float] = []  # when each renewal was asked for (monotonic)
        self.confirmed: list[float] = []  # when each one that renewed was asked for
        self.unblock = threading.Event()

    def claim(self, node: str, epoch: int | None, lease_s: float, url: str | None) -> int | None:
        asked = time.monotonic()
        if epoch is None:
            return 7 if self.answer != "taken" else None
        self.sent.append(asked)
        if self.answer == "failing":
            raise ConnectionError("the database is away")
        if self.answer == "hanging":
            self.unblock.wait(5)
            return epoch
        if self.answer == "taken":
            return None
        self.confirmed.append(asked)
        return epoch

    def holder(self) -> LeaseHolder | None:
        return LeaseHolder("other", 6, "http://other", live=True)

    def release(self, node: str, epoch: int) -> None:
        self.answer = "released"


def keeper(store: ScriptedLease, lost: list[tuple[float, str]]) -> LeaseKeeper:
    return LeaseKeeper(
        store,
        "me",
        "http://me",
        LEASE_S,
        RENEW_S,
        on_lost=lambda reason: lost.append((time.monotonic(), reason)),
    )


async def test_a_standby_waits_for_the_lease_and_knows_who_holds_it() -> None:
    store = ScriptedLease()
    store.answer = "taken"
    lease = keeper(store, [])
    acquiring = asyncio.create_task(lease.acquire())
    await asyncio.sleep(lease.poll_s * 3)
    assert not acquiring.done() and not lease.may_command()
    assert lease.seen == LeaseHolder("other", 6, "http://other", live=True)
    assert lease.role()["role"] == "standby"
    store.answer = "held"
    assert await asyncio.wait_for(acquiring, 1) == 7
    assert lease.may_command() and lease.role() == {"role": "active", "node": "me", "epoch": 7}


@pytest.mark.parametrize("trouble", ["failing", "hanging"])
async def test_an_unrenewed_lease_stops_commanding_before_it_can_expire(trouble: str) -> None:
    store = ScriptedLease()
    lost: list[tuple[float, str]] = []
    lease = keeper(store, lost)
    await lease.acquire()
    keeping = asyncio.create_task(lease.keep())
    await asyncio.sleep(RENEW_S * 3)
    assert len(store.confirmed) >= 2 and lease.may_command()  # renewed, again and again
    store.answer = trouble
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(keeping, LEASE_S * 3)
    store.unblock.set()
    [(at, reason)] = lost
    assert "not renewed" in reason and not lease.may_command()
    # The last confirmed renewal was asked for at `confirmed[-1]`; the database's expiry is
    # at least lease_s after that: the keeper gave up `margin` before it.
    last = store.confirmed[-1]
    assert at - last <= LEASE_S - lease.margin_s + 0.05
    assert at - last >= LEASE_S - lease.margin_s - 0.01


async def test_a_lease_found_taken_is_lost_at_once() -> None:
    store = ScriptedLease()
    lost: list[tuple[float, str]] = []
    lease = keeper(store, lost)
    await lease.acquire()
    keeping = asyncio.create_task(lease.keep())
    await asyncio.sleep(RENEW_S * 1.5)
    store.answer = "taken"
    changed = time.monotonic()
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(keeping, LEASE_S * 3)
    [(at, reason)] = lost
    assert reason == "the lease is no longer ours" and at - changed <= RENEW_S + 0.05


async def test_a_clean_stop_releases_the_lease() -> None:
    store = ScriptedLease()
    lease = keeper(store, [])
    await lease.acquire()
    lease.release()
    assert store.answer == "released" and not lease.may_command()


async def test_the_dispatcher_sends_no_command_once_it_may_not() -> None:
    harness = build_harness()
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    allowed = True
    harness.controller.dispatcher.may_command = lambda: allowed
    async with harness.running() as h:
        transport = httpx.ASGITransport(app=h.controller.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:

            async def ok(method: str, path: str, body: object = None) -> Any:
                response = await api.request(method, path, json=body, headers=auth)
                assert response.is_success, response.text
                return response.json()

            await ok("POST", "/v1/queues", {"id": "q", "name": "Q", "extension": "200"})
            for agent in ("a1", "a2"):
                await ok("POST", "/v1/agents", {"id": agent, "name": agent,
                                                "device": f"PJSIP/{agent}"})  # fmt: skip
            await ok("POST", "/v1/agents/a1/state", {"state": "available"})
            await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
            [ring] = await h.pbx.wait_for(RingAgent)
            assert ring.agent_id == "a1"
            allowed = False  # the lease's deadline passed
            await ok("POST", "/v1/agents/a2/state", {"state": "available"})
            await h.emit(CallWaiting("c2", "200", "+4930124"))
            await h.settle()
            await asyncio.sleep(0.05)  # a command's task would have run by now
            assert [c.call_id for c in h.pbx.rings()] == ["c1"]  # c2's ring never sent


async def test_with_the_database_away_the_holder_rides_on_the_pbx_marks_until_it_is_back() -> None:
    """Past the deadline it commands a PBX only within `ride_s` of finding its mark there,
    renews as soon as the database answers, and loses the lease only when told it is taken."""
    store = ScriptedLease()
    lost: list[tuple[float, str]] = []
    lease = LeaseKeeper(
        store, "me", "http://me", LEASE_S, RENEW_S, on_lost=lambda r: lost.append((0, r)),
        ride_s=0.3,
    )  # fmt: skip
    marks = [time.monotonic()]  # when the one PBX's owner mark was last found ours
    lease.marks = lambda: marks
    await lease.acquire()
    keeping = asyncio.create_task(lease.keep())
    await asyncio.sleep(RENEW_S * 2)
    store.answer = "failing"
    await asyncio.sleep(LEASE_S)  # past the deadline: riding
    now = time.monotonic()
    marks[0] = now
    assert lease.riding and not lease.may_command() and lease.may_try() and not lost
    assert lease.may_ride(now - 0.2) and not lease.may_ride(now - 0.31)  # the mark's age
    # what it queues until then it did as the active (a lost lease's writes: handover.py)
    assert lease.deadline < now and lease.commanded_until() == now + 0.3
    assert lease.role()["role"] == "active"
    marks[0] = now - 0.31  # not found ours lately (fenced, or the PBX away): not active
    assert not lease.may_try() and lease.role()["role"] == "standby"
    marks[0] = time.monotonic()
    asked = len(store.sent)
    await asyncio.sleep(lease.poll_s * 4)
    assert len(store.sent) >= asked + 3  # it asks as often as a standby would
    store.answer = "held"  # the database is back: the same epoch, by its own renewal
    for _ in range(100):
        if lease.may_command():
            break
        await asyncio.sleep(0.01)
    assert lease.may_command() and not lease.riding and lease.epoch == 7
    assert lease.commanded_until() == lease.deadline  # the marks count only while riding
    store.answer = "failing"
    await asyncio.sleep(LEASE_S)
    assert lease.riding
    store.answer = "taken"  # a standby reached the database first
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(keeping, 1)
    assert lost == [(0, "the lease is no longer ours")]
    assert not lease.may_try() and not lease.may_ride(time.monotonic())
    assert lease.commanded_until() == max(lease.deadline, marks[0] + 0.3)


async def test_a_standby_the_database_was_away_from_gives_the_holder_time_to_renew() -> None:
    store = ScriptedLease()
    store.answer = "failing"
    lease = keeper(store, [])

    def away_then_free(node: str, epoch: int | None, lease_s: float, url: str | None) -> int:
        if store.answer == "failing":
            raise ConnectionError("the database is away")
        took.append(time.monotonic())
        return 8

    took: list[float] = []
    store.claim = away_then_free  # type: ignore[method-assign]
    real_holder = store.holder

    def holder() -> LeaseHolder | None:
        if store.answer == "failing":
            raise ConnectionError("the database is away")
        return real_holder()

    store.holder = holder  # type: ignore[method-assign]
    acquiring = asyncio.create_task(lease.acquire())
    await asyncio.sleep(lease.poll_s * 2)
    store.answer = "back"
    back = time.monotonic()
    assert await asyncio.wait_for(acquiring, 2) == 8
    assert took[0] - back >= RENEW_S  # it only looked, for renew_s, before it asked to take
