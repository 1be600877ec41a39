"""The API of a `ccgateway.testing` harness, as a client would call it (through ASGI)."""

from __future__ import annotations

from typing import Any

import httpx

from ccgateway.testing.harness import ADMIN_KEY, Harness


async def request(
    harness: Harness, method: str, path: str, body: Any = None, key: str = ADMIN_KEY
) -> httpx.Response:
    """One request with `Authorization: Bearer <key>` (the harness's admin key by default)."""
    transport = httpx.ASGITransport(app=harness.controller.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
        headers = {"Authorization": f"Bearer {key}"}
        return await client.request(method, path, json=body, headers=headers)
