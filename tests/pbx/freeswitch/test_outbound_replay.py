"""A real FreeSWITCH's campaign, replayed through the whole controller (CI has no FreeSWITCH).

The events of recorded/outbound_list.esl (tests/pbx/freeswitch/test_outbound.py says how
they were made) are read as the adapter reads them (outbound.to_event, then
translate.to_event) and handed to a controller built by the real composition root, with the
same campaign, queue and agents as on the real switch, at the recorded times on a manual
clock. The controller chooses its own ids: a recorded dial becomes the dial the controller
placed to the same number, a recorded agent leg the one it rang for that dial. Each event
waits until the controller has asked for what it answers; the dial records must come out as
they did on the real switch.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import PbxResynced
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.freeswitch.client import EventHeaders
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import ADMIN_KEY, Harness, build_harness
from ccgateway.testing.pbx import FakePbx
from tests.pbx.freeswitch.test_outbound import as_adapter_reads, recorded_events
from tests.sandbox.test_freeswitch_outbound import (
    LIST,
    OUTCOMES,
    configure,
    import_list,
    set_agent,
)

NUMBER = re.compile(r"origination_uuid=(ob-[^,}]+).*\}sofia/gateway/trunk/(\+\d+)")
pytestmark = pytest.mark.asyncio


@dataclass
class Api:
    """What the e2e module's helpers need of a centre: the API."""

    api: httpx.AsyncClient

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.api.request(method, path, json=body)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None


class Replay:
    def __init__(self, harness: Harness, events: list[EventHeaders]) -> None:
        self.harness, self.events = harness, events
        self.numbers = {
            m.group(1): m.group(2)
            for e in events
            if (m := NUMBER.search(e.get("Job-Command-Arg", "")))
        }
        self.leg_of = {  # recorded agent leg -> its recorded dial
            e["Unique-ID"]: e["variable_ccgw_caller"]
            for e in events
            if e.get("Unique-ID", "").startswith("ccgw-") and e.get("variable_ccgw_caller")
        }
        self.ids: dict[str, str] = {}  # recorded id -> the controller's
        self.played = 0

    def learn(self) -> None:
        """Map the recorded ids to the controller's, from what it has asked so far."""
        dials = {c.number: c.dial_id for c in self.harness.pbx.sent(DialCustomer)}
        for recorded, number in self.numbers.items():
            if number in dials:
                self.ids[recorded] = dials[number]
        rings = {r.call_id: r.leg_id for r in self.harness.pbx.sent(RingAgent)}
        for leg, dial in self.leg_of.items():
            if dial in self.ids and self.ids[dial] in rings:
                self.ids[leg] = rings[self.ids[dial]]

    def known(self, event: EventHeaders) -> bool:
        named = {event.get("Unique-ID", "")}
        named |= {m.group(1) for m in [NUMBER.search(event.get("Job-Command-Arg", ""))] if m}
        named = {n for n in named if n.startswith(("ob-", "ccgw-"))}
        return bool(named) and named <= set(self.ids)

    def rewritten(self, event: EventHeaders) -> dict[str, str]:
        out = {}
        for key, value in event.items():
            for old, new in self.ids.items():
                value = value.replace(old, new)
            out[key] = value
        return out

    async def play(self) -> None:
        start = int(self.events[0]["Event-Date-Timestamp"]) / 1e6
        played = start
        for event in self.events:
            if as_adapter_reads(event) is None:
                continue
            at = int(event["Event-Date-Timestamp"]) / 1e6
            if at > played:
                await self.harness.advance(at - played)
                played = at
            for _ in range(200):  # the controller's own pace: its timers, its pacer
                self.learn()
                if self.known(event):
                    break
                await self.harness.advance(0.05)
                played += 0.05
            assert self.known(event), f"the controller never asked for {event['Event-Name']}"
            domain = as_adapter_reads(self.rewritten(event))
            assert domain is not None
            await self.harness.emit(domain)
            self.played += 1


async def test_the_recorded_campaign_comes_out_as_on_the_real_switch() -> None:
    events = recorded_events("outbound_list.esl")
    first = int(events[0]["Event-Date-Timestamp"]) / 1e6
    harness = build_harness(
        pbx=FakePbx("freeswitch", FreeSwitchPbx.features), clock=ManualClock(first - 5)
    )
    async with harness.running():
        api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=harness.controller.api),
            base_url="http://ccgw",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        centre = Api(api)
        await harness.emit(PbxResynced())
        await configure(centre)  # type: ignore[arg-type]
        await import_list(centre, "first", LIST, at=first)  # type: ignore[arg-type]
        await set_agent(centre, 1, "available")  # type: ignore[arg-type]
        await set_agent(centre, 2, "available")  # type: ignore[arg-type]
        await centre.call("POST", "/v1/campaigns/e2e-out/start")
        await harness.advance(4.5)
        replay = Replay(harness, events)
        await replay.play()
        await harness.advance(1)
        await harness.controller.dispatcher.drain_writes()
        # every recorded dial and the person's agent leg stood for one of the controller's
        assert len(replay.numbers) == len(LIST) and set(replay.numbers) | set(replay.leg_of) <= set(
            replay.ids
        )
        print(f"{replay.played} recorded events replayed; ids {replay.ids}")
        found = await centre.call("GET", "/v1/campaigns/e2e-out/dials?limit=50")
        await api.aclose()
    outcomes = {d["contact_id"]: d["outcome"] for d in found}
    assert outcomes == OUTCOMES
    person = next(d for d in found if d["contact_id"] == "p1")
    assert person["amd"] == "human" and person["agent_id"] in ("agent1", "agent2")
    assert person["wait_s"] < 2.0
    assert time.time() > first
