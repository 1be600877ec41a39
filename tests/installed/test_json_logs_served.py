"""An installed controller's logs as JSON lines (`log_format = "json"`): every line it
writes, uvicorn's included, is one JSON object; a line about an agent names the agent."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.installed.conftest import ServedController

HARNESS_MARK = "=== test harness"  # the fixture's own line before each start


def test_every_line_is_json_and_an_agent_line_names_the_agent(
    launch_controller: Callable[..., ServedController],
) -> None:
    served = launch_controller(extra_toml='log_format = "json"\n')
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        agent = {"id": "a1", "name": "A1", "device": "PJSIP/a1"}
        client.post("/v1/agents", json=agent).raise_for_status()
        client.post("/v1/agents/a1/state", json={"state": "paused", "reason": "lunch"})
    served.stop()  # its shutdown lines too
    lines = [line for line in served.log().splitlines() if not line.startswith(HARNESS_MARK)]
    entries = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all(
        isinstance(e, dict) and {"time", "level", "logger", "message"} <= e.keys() for e in entries
    )
    [paused] = [e for e in entries if e["message"] == "agent a1: paused (lunch)"]
    assert paused["agent_id"] == "a1"
    loggers = {e["logger"] for e in entries}
    assert {"uvicorn.error", "uvicorn.access", "ccgateway.services.dispatcher"} <= loggers
    # The access line of the pause, as uvicorn writes it, inside the JSON message.
    assert any("POST /v1/agents/a1/state" in e["message"] for e in entries)
