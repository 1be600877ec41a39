"""A request's own path through the API: nothing of ours sent to a worker thread that need not
be (FastAPI runs a plain `def` dependency or route in its thread pool; a hop costs more CPU
than a cheap route itself), the admin key checked on the loop, a stored key looked up once,
in a thread; and, served over real HTTP, the roles, the error bodies and the security
headers as before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute

import ccgateway.api.routes
from ccgateway.api.auth import Authenticator, Role
from ccgateway.api.errors import Unauthenticated
from ccgateway.ports import KeyInfo
from ccgateway.ui.security import CONTENT_SECURITY_POLICY
from tests.installed.conftest import ServedController
from tests.services.stack import Stack


def _route_modules() -> list[str]:
    package = ccgateway.api.routes
    return [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _runs_in_a_thread(call: Callable[..., Any]) -> bool:
    """As FastAPI decides: anything but a coroutine (or async generator) function, or an
    object whose __call__ is one, is run in its thread pool."""
    if inspect.isclass(call):
        return True
    target = call if inspect.isroutine(call) else call.__call__  # type: ignore[operator]
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


@pytest.mark.parametrize("module", _route_modules())
def test_no_route_or_dependency_of_ours_runs_in_a_worker_thread(module: str) -> None:
    # Blocking work goes to a thread explicitly (asyncio.to_thread), never by FastAPI's
    # choice: a plain `def` here would hop to a thread on every request.
    routes = importlib.import_module(module).router.routes
    assert routes, module
    sync = sorted(
        {
            f"{route.path}: {getattr(d.call, '__qualname__', d.call)}"
            for route in routes
            if isinstance(route, APIRoute | APIWebSocketRoute)
            for d in _dependants(route.dependant)
            if d.call is not None and _runs_in_a_thread(d.call)
        }
    )
    assert not sync, sync


def test_the_thread_check_sees_a_plain_def() -> None:
    def plain() -> None: ...

    async def awaited() -> None: ...

    class Called:
        async def __call__(self) -> None: ...

    assert _runs_in_a_thread(plain)
    assert not _runs_in_a_thread(awaited)
    assert not _runs_in_a_thread(Called())


class _Keys:
    """A key store that knows one wallboard key and notes the thread of every lookup."""

    def __init__(self) -> None:
        self.lookups: list[threading.Thread] = []

    def find(self, plaintext: str) -> KeyInfo | None:
        self.lookups.append(threading.current_thread())
        return KeyInfo("k1", "tv", "wallboard", None, 0.0) if plaintext == "tv-key" else None

    def create(self, name: str, role: str, agent_id: str | None) -> tuple[KeyInfo, str]:
        raise NotImplementedError

    def list(self) -> list[KeyInfo]:
        raise NotImplementedError

    def delete(self, key_id: str) -> bool:
        raise NotImplementedError


def test_the_admin_key_is_known_without_the_store() -> None:
    keys = _Keys()
    authenticator = Authenticator("the-admin-key-0123456789", keys)
    admin = authenticator.admin("the-admin-key-0123456789")
    assert admin is not None and admin.role is Role.ADMIN and admin.key_id == "config"
    assert authenticator.admin("tv-key") is None
    assert keys.lookups == []
    assert authenticator.stored("tv-key").role is Role.WALLBOARD
    with pytest.raises(Unauthenticated):
        authenticator.stored("the-admin-key-0123456789")  # not a stored key
    assert authenticator.from_key("the-admin-key-0123456789").role is Role.ADMIN
    assert authenticator.from_key("tv-key").role is Role.WALLBOARD
    with pytest.raises(Unauthenticated):
        authenticator.from_key("wrong")


async def test_a_stored_key_is_looked_up_once_in_a_thread_and_the_admin_key_never(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallboard = await stack.ok("POST", "/v1/keys", {"name": "tv", "role": "wallboard"})
    lookups: list[threading.Thread] = []
    find = stack.keys.find

    def watched(plaintext: str) -> KeyInfo | None:
        lookups.append(threading.current_thread())
        return find(plaintext)

    monkeypatch.setattr(stack.keys, "find", watched)
    assert (await stack.call("GET", "/v1/agents"))[0] == 200
    assert lookups == []
    assert (await stack.call("GET", "/v1/agents", key=wallboard["key"]))[0] == 200
    assert len(lookups) == 1  # GuardedRoute's check and the route's dependency share it
    assert lookups[0] is not threading.main_thread()
    assert (await stack.error("GET", "/v1/skills", key=wallboard["key"]))[:2] == (
        403,
        "forbidden",
    )
    assert (await stack.error("GET", "/v1/agents", key="not-a-key"))[:2] == (
        401,
        "unauthenticated",
    )


def _assert_secured(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_floor_reads_served_over_http(tmp_path: Path) -> None:
    served = ServedController(tmp_path)
    served.start()
    try:
        _floor_reads(served)
    finally:
        served.close()


def _floor_reads(served: ServedController) -> None:
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as admin:
        assert admin.post("/v1/skills", json={"id": "sales", "name": "Sales"}).status_code == 201
        queue = {"id": "q", "name": "Q", "extension": "500", "requires": {"sales": 1}}
        assert admin.post("/v1/queues", json=queue).status_code == 201
        agent = {"id": "a1", "name": "A1", "device": "PJSIP/a1", "skills": {"sales": 1}}
        assert admin.post("/v1/agents", json=agent).status_code == 201
        created = admin.post("/v1/keys", json={"name": "tv", "role": "wallboard"})
        wallboard = {"Authorization": f"Bearer {created.json()['key']}"}
        for path in ("/v1/agents", "/v1/queues/q/status"):
            for headers in (served.auth, wallboard):
                response = admin.get(path, headers=headers)
                assert response.status_code == 200, response.text
                _assert_secured(response)
        assert [a["id"] for a in admin.get("/v1/agents").json()] == ["a1"]
        refused = [
            (admin.get("/v1/skills", headers=wallboard), 403, "forbidden"),
            (admin.get("/v1/agents", headers={"Authorization": "Bearer nope"}), 401, None),
            (admin.get("/v1/agents", headers={"Authorization": ""}), 401, None),
            (admin.get("/v1/queues/none/status"), 404, "not-found"),
        ]
        for response, status, error_id in refused:
            assert response.status_code == status, response.text
            assert response.json()["error_id"] == (error_id or "unauthenticated")
            _assert_secured(response)
        assert refused[1][0].headers["www-authenticate"] == "Bearer"
