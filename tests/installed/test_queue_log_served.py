"""The queue_log file of an installed controller (`ccgateway serve` in its own process, over
a real socket): an agent's pause over the API is a PAUSE line a reporting tool can read."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.installed.conftest import ServedController
from tests.queue_log_format import Event, read_queue_log

WAIT_S = 10.0  # generous: other test runs may share the machine


def lines_once(path: Path, done: Callable[[list[Event]], bool]) -> list[Event]:
    """The file's events once `done` holds for them (within WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    events: list[Event] = []
    while time.monotonic() < deadline:
        events = read_queue_log(path) if path.exists() else []
        if done(events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"not in {path} within {WAIT_S} s: {events}")


def test_a_pause_over_the_api_is_a_pause_line_in_the_file(
    launch_controller: Callable[..., ServedController], tmp_path: Path
) -> None:
    path = tmp_path / "ccgateway" / "queue_log"
    served = launch_controller(extra_toml=f'[queue_log]\nfile = "{path}"\n')
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        client.post("/v1/queues", json={"id": "sales", "name": "Sales", "extension": "200"})
        agent = {"id": "a1", "name": "A1", "device": "PJSIP/a1"}
        client.post("/v1/agents", json=agent).raise_for_status()
        for body in ({"state": "available"}, {"state": "paused", "reason": "lunch"}):
            client.post("/v1/agents/a1/state", json=body).raise_for_status()
        events = lines_once(path, lambda events: any(e.event == "PAUSE" for e in events))
    assert [e.event for e in events] == ["QUEUESTART", "ADDMEMBER", "PAUSEALL", "PAUSE"]
    pause = events[-1]
    assert (pause.callid, pause.queue, pause.agent, pause.data) == (
        "NONE",
        "sales",
        "Agent/a1",
        {"reason": "lunch"},
    )
    assert abs(pause.time - time.time()) < 600  # epoch seconds of the real clock
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # caller numbers: the owner's alone
