"""A queue on FreeSWITCH naming a sound FreeSWITCH cannot play is refused when it is saved.

Before, such a queue was accepted and the sound was found wanting only at call time
(`FreeSwitchPbx.play_message` sent the caller to the fallback; a comfort sound failed in the
middle of the wait). Now the API answers 422 naming the setting and the sound, through the
real adapter's sound table (pbx/freeswitch/sounds.py, ports.ChecksSounds), against the
controller of test_routing_scenario (a server answering with the real transcripts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ccgateway.domain.model import Queue
from ccgateway.domain.queue_policy import ActionKind, Announcements, Limits, QueueAction
from ccgateway.domain.recording import RecordingPolicy
from tests.pbx.freeswitch.test_routing_scenario import Scenario, scenario

__all__ = ["scenario"]  # the fixture, used by name below
BASE = {"name": "Sounds", "requires": {"support": 1}, "pbx": "freeswitch"}


@pytest.fixture
async def api(scenario: tuple[Scenario, Any]) -> AsyncIterator[httpx.AsyncClient]:
    s, _ = scenario
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=s.controller.api),
        base_url="http://ccgw",
        headers={"Authorization": "Bearer scenario-admin-key-0123"},
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("setting", "body"),
    [
        ("announce.comfort", {"announce": {"comfort": "beep"}}),
        (
            "limits.on_closed",
            {"limits": {"on_closed": {"kind": "message", "target": "im-sorry&custom-closed"}}},
        ),
        (
            "limits.on_max_wait",
            {"limits": {"max_wait_s": 60, "on_max_wait": {"kind": "message", "target": "x/y"}}},
        ),
        ("recording.notice", {"recording": {"mode": "always", "notice": "this-is-recorded"}}),
    ],
)
async def test_a_sound_freeswitch_cannot_play_is_refused_naming_it(
    api: httpx.AsyncClient, setting: str, body: dict[str, Any]
) -> None:
    response = await api.post("/v1/queues", json=BASE | {"id": "bad", "extension": "5100"} | body)
    assert response.status_code == 422, response.text
    detail = response.text
    assert setting in detail and "on freeswitch" in detail and "no FreeSWITCH meaning" in detail
    assert (await api.get("/v1/queues/bad")).status_code == 404


async def test_sounds_with_a_freeswitch_meaning_are_accepted(api: httpx.AsyncClient) -> None:
    body = BASE | {
        "id": "good",
        "extension": "5101",
        "announce": {"comfort": "queue-thankyou"},
        "limits": {"on_closed": {"kind": "message", "target": "acme/closed.wav&goodbye"}},
        "recording": {"mode": "always", "notice": "conf-now-recording"},
    }
    response = await api.post("/v1/queues", json=body)
    assert response.status_code == 201, response.text


async def test_a_change_to_an_unplayable_sound_is_refused_and_the_queue_kept(
    api: httpx.AsyncClient,
) -> None:
    response = await api.patch("/v1/queues/fs-support", json={"announce": {"comfort": "beep"}})
    assert response.status_code == 422, response.text
    assert "announce.comfort" in response.text
    kept = (await api.get("/v1/queues/fs-support")).json()
    assert kept["announce"]["comfort"] is None


def test_a_queue_names_every_sound_it_may_play() -> None:
    queue = Queue(
        "q",
        "Q",
        "1",
        limits=Limits(
            on_full=QueueAction(ActionKind.MESSAGE, "a"),
            on_no_agents=QueueAction(ActionKind.VOICEMAIL, "200"),
            on_closed=QueueAction(ActionKind.MESSAGE, "b&c"),
        ),
        announce=Announcements(comfort="d"),
        recording=RecordingPolicy(notice="e"),
    )
    assert queue.sounds() == [
        ("limits.on_full", "a"),
        ("limits.on_closed", "b&c"),
        ("announce.comfort", "d"),
        ("recording.notice", "e"),
    ]
