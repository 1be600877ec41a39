"""The composition root's own choices, and the test kit it ships (ccgateway.testing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ccgateway.app import new_leg_id
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import CallWaiting, PbxEvent, PbxResynced
from ccgateway.pbx.asterisk.translate import LEG_PREFIX as ASTERISK_LEGS
from ccgateway.pbx.freeswitch.translate import LEG_PREFIX as FREESWITCH_LEGS
from ccgateway.testing import ADMIN_KEY, FakePbx, ManualClock, build_harness, counting_ids


def test_leg_ids_are_unique_recognisable_and_fit_freeswitch_uuids() -> None:
    ids = {new_leg_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) <= 36 for i in ids)  # FreeSWITCH's uuid_str holds 36 characters
    assert all(i.startswith(ASTERISK_LEGS) and i.startswith(FREESWITCH_LEGS) for i in ids)


async def test_an_integrator_rings_an_agent_with_the_shipped_doubles_alone() -> None:
    """What an integrator's test does with the installed package only: the real controller
    on an in-memory database, driven through its API, the test playing the PBX and the clock.
    """
    clock = ManualClock(start=1_800_000_000.0)
    harness = build_harness(clock=clock, new_id=counting_ids("ccgw-it-"))
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with harness.running() as h:
        transport = httpx.ASGITransport(app=h.controller.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:

            async def ok(method: str, path: str, body: object = None) -> Any:
                response = await api.request(method, path, json=body, headers=auth)
                assert response.is_success, response.text
                return response.json()

            await ok("POST", "/v1/skills", {"id": "de", "name": "German"})
            queue = {"id": "german", "name": "German", "extension": "200", "requires": {"de": 5}}
            await ok("POST", "/v1/queues", queue)
            agent = {"id": "a1", "name": "A1", "device": "PJSIP/agent1", "skills": {"de": 8}}
            await ok("POST", "/v1/agents", agent)
            await ok("POST", "/v1/agents/a1/state", {"state": "paused", "reason": "coffee"})

            await h.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
            await h.advance(40)  # a caller waits 40 s: no real time passes
            assert h.pbx.rings() == []  # nobody free yet
            status = await ok("GET", "/v1/queues/german/status")
            assert (status["waiting"], status["longest_wait_s"]) == (1, 40.0)
            await ok("POST", "/v1/agents/a1/state", {"state": "available"})
            [ring] = await h.pbx.wait_for(RingAgent)
            [call] = await ok("GET", "/v1/calls")

    assert (call["state"], call["agent_id"]) == ("offering", "a1")
    assert call["arrived_at"].startswith("2027-01-15T08:00:00")  # the manual clock's time
    assert (ring.leg_id, ring.call_id, ring.agent_id, ring.device) == (
        "ccgw-it-1",  # the id factory given to the composition root
        "c1",
        "a1",
        "PJSIP/agent1",
    )


async def test_the_doubles_say_when_they_are_misused() -> None:
    pbx = FakePbx()
    with pytest.raises(RuntimeError, match="not running"):
        pbx.emit(PbxResynced())
    with pytest.raises(ValueError, match="does not go back"):
        ManualClock().advance(-1)
    with pytest.raises(TimeoutError):
        await pbx.wait_for(RingAgent, timeout_s=0.01)


async def test_a_harness_that_cannot_start_says_why_instead_of_hanging() -> None:
    class BrokenPbx(FakePbx):
        async def run(self, emit: Callable[[PbxEvent], None]) -> None:
            raise ConnectionRefusedError("no PBX here")

    harness = build_harness(pbx=BrokenPbx())
    with pytest.raises(ExceptionGroup) as failed:
        async with harness.running():
            pass
    assert failed.group_contains(ConnectionRefusedError, match="no PBX here")
