"""What the dialer's API tests share: a campaign's body, CSV lists of valid UK numbers, and
sending a file as a request's body."""

from __future__ import annotations

from typing import Any

import httpx

from tests.services.stack import ADMIN, Stack

# 2026-12-01 (a Tuesday) 12:00 UTC: inside the UK's calling window
NOON = 1_796_126_400.0

CAMPAIGN: dict[str, Any] = {
    "id": "renewals",
    "name": "Renewals",
    "purpose": "service",
    "rule_set_id": "uk",
    "mode": "progressive",
    "queue_id": "german",
    "caller_id": "+442079460999",
    "abandon_message": "ccgw-abandon",
}


def number(n: int) -> str:
    """A valid London fixed line (Ofcom's range for drama: never a real subscriber)."""
    return f"+4420794600{n:02d}"


def csv_of(*rows: str, header: str = "number,name") -> bytes:
    return ("\r\n".join((header, *rows)) + "\r\n").encode()


async def send(
    stack: Stack,
    method: str,
    path: str,
    content: bytes,
    content_type: str | None = "text/csv",
    key: str = ADMIN,
) -> tuple[int, Any]:
    """A file as the whole body; (status, JSON answer)."""
    assert stack.client is not None
    headers = {"Authorization": f"Bearer {key}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await stack.client.request(method, path, content=content, headers=headers)
    return response.status_code, response.json() if response.content else None


async def import_list(
    stack: Stack, campaign_id: str, list_id: str, data: bytes, key: str = ADMIN
) -> Any:
    path = f"/v1/campaigns/{campaign_id}/lists?list_id={list_id}&name=List+{list_id}"
    status, body = await send(stack, "POST", path, data, key=key)
    assert status == 201, (status, body)
    return body


async def agent_key(stack: Stack, agent_id: str) -> str:
    body = {"name": f"desk {agent_id}", "role": "agent", "agent_id": agent_id}
    return str((await stack.ok("POST", "/v1/keys", body))["key"])


async def screened_and_listed(client: httpx.AsyncClient, key: str, campaign_id: str) -> None:
    """The UK's TPS register screened (its rules want it first) and one contact, Bo, on
    `campaign_id`'s list l1."""
    auth = {"Authorization": f"Bearer {key}"}
    screened = await client.put("/v1/dnc/registers/tps", content=number(90).encode(), headers=auth)
    assert screened.status_code == 200, screened.text
    listed = await client.post(
        f"/v1/campaigns/{campaign_id}/lists?list_id=l1&name=L1",
        content=csv_of(f"{number(2)},Bo"),
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert listed.status_code == 201, listed.text
