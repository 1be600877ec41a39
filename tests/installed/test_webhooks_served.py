"""Webhooks from `ccgateway serve` as installed, over real sockets, to a real receiver: a
delivery being retried survives a restart of the controller and arrives afterwards with the
same delivery id; `ccgateway webhooks` manages them through the running controller."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.installed.conftest import ServedController, entry_point
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec_installed-secret-0123456789"
QUICK_RETRIES = """
[webhooks]
allow_private = true
first_retry_s = 0.3
max_retry_s = 0.6
timeout_s = 2
"""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver(SECRET)
    found.start()
    yield found
    found.stop()


def api(served: ServedController, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method, served.base_url + path, json=body, headers=served.auth, timeout=10
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def make_agent_available(served: ServedController) -> None:
    api(served, "POST", "/v1/agents", {"id": "a1", "name": "A1", "device": "PJSIP/agent1"})
    api(served, "POST", "/v1/agents/a1/state", {"state": "available"})


def until(check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def test_a_delivery_being_retried_survives_a_restart(
    launch_controller: Callable[..., ServedController], receiver: WebhookReceiver
) -> None:
    served = launch_controller(extra_toml=QUICK_RETRIES)
    receiver.mode = "fail"
    body = {"url": receiver.url, "events": ["agent.state"], "secret": SECRET}
    webhook = api(served, "POST", "/v1/webhooks", body)
    make_agent_available(served)
    receiver.wait_for(lambda r: len(r.all()) >= 2)  # failed, and retried once at least
    [failing] = {r.delivery_id for r in receiver.all()}
    assert all(r.verified and r.status == 500 for r in receiver.all())
    served.restart()  # mid-retry
    receiver.mode = "ok"
    receiver.wait_for(lambda r: bool(r.delivered()))
    [delivered] = receiver.delivered()
    assert delivered.delivery_id == failing and delivered.verified
    assert delivered.event["data"] == {**delivered.event["data"], "agent_id": "a1",
                                       "state": "available"}  # fmt: skip
    path = f"/v1/webhooks/{webhook['id']}/deliveries?state=delivered"
    [stored] = until(lambda: api(served, "GET", path))
    assert stored["id"] == failing and stored["attempts"] >= 3


def ccgateway(served: ServedController, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(entry_point()), "webhooks", *args, "--config", str(served.config_path)],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=served.folder,
    )


def test_the_command_adds_lists_shows_dead_letters_redelivers_and_removes(
    launch_controller: Callable[..., ServedController], receiver: WebhookReceiver
) -> None:
    served = launch_controller(extra_toml=QUICK_RETRIES + "max_attempts = 1\n")
    secret_file = served.folder / "secret"
    secret_file.write_text(SECRET + "\n")
    receiver.mode = "fail"
    added = ccgateway(served, "add", receiver.url, "-e", "agent.state", "--secret-file",
                      str(secret_file))  # fmt: skip
    assert added.returncode == 0, added.stderr
    webhook_id = added.stdout.split()[1].rstrip(":")
    assert f"secret: {SECRET}" in added.stdout
    make_agent_available(served)
    dead_path = f"/v1/webhooks/{webhook_id}/deliveries?state=dead"
    [dead] = until(lambda: api(served, "GET", dead_path))
    shown = ccgateway(served, "dead", webhook_id)
    assert shown.returncode == 0 and dead["id"] in shown.stdout and "HTTP 500" in shown.stdout
    listed = ccgateway(served, "list")
    assert webhook_id in listed.stdout and "dead 1" in listed.stdout
    receiver.mode = "ok"
    again = ccgateway(served, "redeliver", webhook_id, dead["id"])
    assert again.returncode == 0, again.stderr
    receiver.wait_for(lambda r: bool(r.delivered()))
    assert [r.delivery_id for r in receiver.delivered()] == [dead["id"]]
    unknown = ccgateway(served, "redeliver", webhook_id, "whd_none")
    assert unknown.returncode == 1 and "not-found" in unknown.stderr
    removed = ccgateway(served, "remove", webhook_id)
    assert removed.returncode == 0, removed.stderr
    assert api(served, "GET", "/v1/webhooks") == []
    served.stop()
    offline = ccgateway(served, "list")
    assert offline.returncode == 1 and "no controller answers" in offline.stderr
