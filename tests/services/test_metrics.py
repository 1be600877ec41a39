"""GET /metrics on the real controller (composition root, in-memory database, the shipped
doubles): prometheus_client's exposition, read back with its own parser."""

from __future__ import annotations

import asyncio
import re
import threading

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    PbxResynced,
)
from ccgateway.domain.model import Agent, Queue
from ccgateway.settings import AgentSettings
from ccgateway.testing import build_harness
from ccgateway.testing.harness import Harness, hermetic_settings
from tests.harness_api import request

# A pause code an operator may well write (quotes, a backslash), and a newline besides:
# each must come back unchanged through the text format's escaping.
HOSTILE = 'lunch "long" C:\\break\nsecond line'
CAMPAIGN = {
    "id": "renewals",
    "name": "Renewals",
    "purpose": "service",
    "rule_set_id": "uk",
    "mode": "progressive",
    "queue_id": "q",
    "caller_id": "+442079460999",
    "abandon_message": "ccgw-abandon",
}
# Units a name may end in (Prometheus' base units), after which only _total may follow.
UNITS = ("seconds", "ratio", "bytes", "info")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


async def scrape(harness: Harness) -> str:
    response = await request(harness, "GET", "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples named `name`, by their labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def a_centre_with_one_answered_call(harness: Harness) -> None:
    """Queue q (200), agent a1, campaign renewals; one call waited, was answered, talked
    30 s and hung up."""
    service = harness.controller.service
    await service.create_queue(Queue("q", "Q", "200"))
    await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
    await service.set_agent_state("a1", AgentState.AVAILABLE, None)
    created = await request(harness, "POST", "/v1/campaigns", CAMPAIGN)
    assert created.status_code == 201, created.text
    await harness.emit(PbxResynced(), CallWaiting("c1", "200", "+4930123"))
    [ring] = await harness.pbx.wait_for(RingAgent)
    await harness.emit(AgentLegAnswered(ring.leg_id))
    harness.clock.advance(30)
    await harness.emit(ChannelHungUp("c1"))


async def test_a_routed_call_shows_in_the_figures_and_the_histograms() -> None:
    harness = build_harness()
    async with harness.running() as h:
        await a_centre_with_one_answered_call(h)
        text = await scrape(h)
    queue = (("queue", "q"),)
    assert samples(text, "ccgw_queue_offered_total") == {queue: 1.0}
    assert samples(text, "ccgw_queue_answered_total") == {queue: 1.0}
    assert samples(text, "ccgw_queue_waiting") == {queue: 0.0}
    assert samples(text, "ccgw_queue_service_level_ratio") == {queue: 1.0}
    assert samples(text, "ccgw_agent_talk_seconds_total") == {(("agent", "a1"),): 30.0}
    by_state = samples(text, "ccgw_agents")
    assert by_state[(("state", "wrap_up"),)] == 1.0 and sum(by_state.values()) == 1.0
    assert samples(text, "ccgw_pbx_up") == {(("pbx", "asterisk"),): 1.0}
    assert samples(text, "ccgw_campaign_abandon_limit_ratio") == {(("campaign", "renewals"),): 0.03}
    assert samples(text, "ccgw_writer_queue_depth") == {(): 0.0}  # all written (drained)
    # the dispatcher's steps: the resync, the waiting call, the answer and the hang-up ...
    steps = samples(text, "ccgw_routing_decision_seconds_count")
    assert steps[(("cause", "pbx_event"),)] >= 4 and steps[(("cause", "request"),)] >= 1
    # ... and those four events' lag from the inbox to their handling
    assert samples(text, "ccgw_pbx_event_lag_seconds_count")[(("pbx", "asterisk"),)] >= 4
    # the process and Python collectors, on the controller's own registry
    assert samples(text, "process_resident_memory_bytes")[()] > 0
    assert samples(text, "python_info")


async def test_callers_taken_out_of_the_centres_hands_are_counted_apart() -> None:
    """One waiting caller moved away by another tool, one the PBX cut off as it shut down:
    each in its own counter, neither offered nor abandoned."""
    harness = build_harness()
    async with harness.running() as h:
        await a_centre_with_one_answered_call(h)  # a1 in wrap-up: the next callers wait
        await h.emit(CallWaiting("c2", "200"), CallWaiting("c3", "200"))
        h.clock.advance(20)
        await h.emit(CallerLeft("c2", "other-tool"), ChannelHungUp("c3", 0, pbx_down=True))
        text = await scrape(h)
    queue = (("queue", "q"),)
    assert samples(text, "ccgw_queue_redirected_total") == {queue: 1.0}
    assert samples(text, "ccgw_queue_cut_off_total") == {queue: 1.0}
    assert samples(text, "ccgw_queue_offered_total") == {queue: 1.0}  # the answered call
    assert samples(text, "ccgw_queue_abandoned_total") == {queue: 0.0}
    assert samples(text, "ccgw_queue_waiting") == {queue: 0.0}


async def test_every_family_follows_the_naming_conventions() -> None:
    harness = build_harness()
    async with harness.running() as h:
        await a_centre_with_one_answered_call(h)
        h.controller.dispatcher.instruments.webhook_delivered(0.3)
        h.controller.dispatcher.instruments.round_trip("asterisk", "Originate", 0.002)
        text = await scrape(h)
    families = list(text_string_to_metric_families(text))
    ours = [f for f in families if f.name.startswith("ccgw_")]
    assert len(ours) >= 30
    bad: list[str] = []
    for family in families:
        if not family.name.startswith(("ccgw_", "process_", "python_")):
            bad.append(f"{family.name}: not ours, nor the process or Python collectors'")
        if not SNAKE.match(family.name) or "today" in family.name:
            bad.append(f"{family.name}: not snake_case, or a period in the name")
        for sample in family.samples:
            bad += _sample_problems(family.type, family.name, sample)
        if family.type == "histogram" and not family.name.endswith("_seconds"):
            bad.append(f"{family.name}: a histogram of something other than seconds")
        for unit in UNITS:
            if f"_{unit}_" in family.name:
                bad.append(f"{family.name}: the unit {unit} must come last")
    assert not bad, "\n".join(bad)


def _sample_problems(kind: str, family: str, sample: Sample) -> list[str]:
    problems = []
    if kind == "counter" and not sample.name.endswith("_total"):
        problems.append(f"{sample.name}: a counter without _total")
    if kind != "counter" and sample.name.endswith("_total"):
        problems.append(f"{sample.name}: _total on a {kind}")
    for label, value in sample.labels.items():
        if not SNAKE.match(label) or label in ("call_id", "caller", "number", "leg_id"):
            problems.append(f"{family}: label {label!r}")
        if value.startswith("ccgw-leg-") or re.match(r"^\+[0-9]", value) or value == "c1":
            problems.append(f"{family}: an unbounded label value {value!r}")
    return problems


async def test_a_pause_code_with_quotes_a_backslash_and_a_newline_comes_back_unchanged() -> None:
    settings = hermetic_settings().model_copy(
        update={"agents": AgentSettings(pause_codes=[HOSTILE, "training"])}
    )
    harness = build_harness(settings)
    async with harness.running() as h:
        service = h.controller.service
        await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await service.set_agent_state("a1", AgentState.PAUSED, HOSTILE)
        text = await scrape(h)
    # escaped on the wire as the text format wants: \" \\ \n, never a raw line break
    assert 'reason="lunch \\"long\\" C:\\\\break\\nsecond line"' in text
    assert samples(text, "ccgw_agents_paused") == {
        (("reason", HOSTILE),): 1.0,
        (("reason", "training"),): 0.0,
    }


async def test_a_free_text_pause_reason_is_counted_as_other() -> None:
    """Without pause codes a reason is whatever was typed: no series of its own."""
    harness = build_harness()
    async with harness.running() as h:
        service = h.controller.service
        await service.create_agent(Agent("a1", "A1", "PJSIP/agent1"))
        await service.set_agent_state("a1", AgentState.PAUSED, "dentist at 3")
        text = await scrape(h)
    assert samples(text, "ccgw_agents_paused") == {(("reason", "other"),): 1.0}
    assert "dentist" not in text


async def test_the_writer_queue_is_read_at_the_scrape() -> None:
    harness = build_harness()
    async with harness.running() as h:
        dispatcher = h.controller.dispatcher
        started, release = threading.Event(), threading.Event()

        def blocking() -> None:
            started.set()
            release.wait(10)

        first = asyncio.create_task(dispatcher.write(blocking))
        await asyncio.to_thread(started.wait, 10)  # the writer is inside the first write
        second = asyncio.create_task(dispatcher.write(lambda: None))
        await asyncio.sleep(0)  # queued behind it
        text = await scrape(h)
        release.set()
        await asyncio.gather(first, second)
        after = await scrape(h)
    assert samples(text, "ccgw_writer_queue_depth") == {(): 1.0}
    assert samples(after, "ccgw_writer_queue_depth") == {(): 0.0}


async def test_two_controllers_in_one_process_keep_their_own_metrics() -> None:
    first, second = build_harness(), build_harness()
    async with first.running() as one, second.running() as two:
        await one.controller.service.create_queue(Queue("only-in-one", "One", "201"))
        one.controller.dispatcher.instruments.webhook_delivered(1.0)
        text_one, text_two = await scrape(one), await scrape(two)
    assert samples(text_one, "ccgw_queue_waiting") == {(("queue", "only-in-one"),): 0.0}
    assert samples(text_two, "ccgw_queue_waiting") == {}
    assert samples(text_one, "ccgw_webhook_delivery_delay_seconds_count") == {(): 1.0}
    assert samples(text_two, "ccgw_webhook_delivery_delay_seconds_count") == {(): 0.0}


async def test_metrics_need_a_key_and_openmetrics_is_served_when_asked() -> None:
    harness = build_harness()
    async with harness.running() as h:
        refused = await request(h, "GET", "/metrics", key="not-a-key")
        transport = httpx.ASGITransport(app=h.controller.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
            headers = {
                "Authorization": f"Bearer {h.controller.settings.resolved_admin_key()}",
                "Accept": "application/openmetrics-text; version=1.0.0",
            }
            open_metrics = await client.get("/metrics", headers=headers)
    assert refused.status_code == 401
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")
