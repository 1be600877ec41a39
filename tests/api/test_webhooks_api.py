"""/v1/webhooks on the real controller (build_harness): admins only, the secret shown once,
clear refusals, the deliveries' listing, the cascade on deletion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ccgateway.settings import WebhookSettings
from ccgateway.testing import Harness, build_harness, hermetic_settings
from tests.harness_api import request

URL = "http://127.0.0.1:9/hooks"  # allowed here; nothing is sent in these tests


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    settings = hermetic_settings()
    settings.webhooks = WebhookSettings(allow_private=True)
    built = build_harness(settings)
    async with built.running() as h:
        yield h
    assert built.controller.webhooks is not None
    await built.controller.webhooks.close()


async def ok(h: Harness, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    response = await request(h, method, path, body, **({"key": key} if key else {}))
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def refused(h: Harness, method: str, path: str, body: Any = None) -> tuple[int, str, str]:
    response = await request(h, method, path, body)
    assert response.status_code >= 400, response.text
    answer = response.json()
    return response.status_code, answer["error_id"], answer["message"]


async def test_the_secret_is_shown_once_and_changes_are_kept(harness: Harness) -> None:
    created = await ok(harness, "POST", "/v1/webhooks",
                       {"url": URL, "events": ["call.ended", "agent.state"],
                        "description": "CRM"})  # fmt: skip
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["id"].startswith("wh_") and created["pending"] == 0
    shown = await ok(harness, "GET", f"/v1/webhooks/{created['id']}")
    assert "secret" not in shown and shown["events"] == ["call.ended", "agent.state"]
    assert "secret" not in (await ok(harness, "GET", "/v1/webhooks"))[0]
    patch = {"active": False, "events": ["*"], "secret": "a-new-secret-of-mine"}
    changed = await ok(harness, "PATCH", f"/v1/webhooks/{created['id']}", patch)
    assert (changed["active"], changed["events"]) == (False, ["*"]) and "secret" not in changed
    mine = {"url": URL, "events": ["task.state"], "secret": "my-own-secret-0123"}
    own = await ok(harness, "POST", "/v1/webhooks", mine)
    assert own["secret"] == "my-own-secret-0123"


@pytest.mark.parametrize(
    ("body", "status", "error_id", "says"),
    [
        ({"url": "ftp://x.example/", "events": ["call.ended"]}, 422, "invalid-value", "http"),
        (
            {"url": "http://u:p@x.example/", "events": ["call.ended"]},
            422,
            "invalid-value",
            "user or password",
        ),
        ({"url": URL, "events": ["call.exploded"]}, 422, "invalid-value", "unknown event"),
        ({"url": URL, "events": []}, 422, "invalid-request", "events"),
        (
            {"url": URL, "events": ["call.ended"], "secret": "short"},
            422,
            "invalid-request",
            "secret",
        ),
        (
            {"url": URL, "events": ["call.ended"], "secret": "has spaces in it, no"},
            422,
            "invalid-value",
            "no spaces",
        ),
        (
            {"url": "http://no-such-host.invalid/", "events": ["call.ended"]},
            422,
            "invalid-value",
            "does not resolve",
        ),
    ],
)
async def test_bad_webhooks_are_refused_saying_why(
    harness: Harness, body: dict[str, Any], status: int, error_id: str, says: str
) -> None:
    got = await refused(harness, "POST", "/v1/webhooks", body)
    assert got[:2] == (status, error_id) and says in got[2], got


async def test_only_admins_manage_webhooks(harness: Harness) -> None:
    supervisor = await ok(harness, "POST", "/v1/keys", {"name": "sup", "role": "supervisor"})
    for method, path in (("GET", "/v1/webhooks"), ("POST", "/v1/webhooks")):
        body = {"url": URL, "events": ["call.ended"]} if method == "POST" else None
        response = await request(harness, method, path, body, key=supervisor["key"])
        assert response.status_code == 403, response.text


async def test_deliveries_are_listed_by_state_and_go_with_their_webhook(
    harness: Harness,
) -> None:
    created = await ok(harness, "POST", "/v1/webhooks", {"url": URL, "events": ["*"]})
    path = f"/v1/webhooks/{created['id']}"
    ping = await ok(harness, "POST", f"{path}/test")
    assert ping["event_type"] == "ping" and ping["state"] == "pending"
    assert harness.controller.webhooks is not None
    await harness.controller.webhooks.step(wait=False)  # saved (port 9 refuses: pending)
    [listed] = await ok(harness, "GET", f"{path}/deliveries?state=pending")
    assert listed["id"] == ping["id"] and listed["payload"]["type"] == "ping"
    assert await ok(harness, "GET", f"{path}/deliveries?state=dead") == []
    assert (await refused(harness, "GET", f"{path}/deliveries?state=lost"))[0] == 422
    no_such = await refused(harness, "POST", f"{path}/deliveries/whd_none/redeliver")
    assert no_such[:2] == (404, "not-found")
    assert (await request(harness, "DELETE", path)).status_code == 204
    assert (await refused(harness, "GET", path))[:2] == (404, "not-found")
    assert (await refused(harness, "GET", f"{path}/deliveries"))[:2] == (404, "not-found")
    assert (await refused(harness, "DELETE", path))[:2] == (404, "not-found")
