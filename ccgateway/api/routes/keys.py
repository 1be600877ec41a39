from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, status

from ccgateway.api.deps import KeyManager, Keys, Service
from ccgateway.api.schemas import KeyCreated, KeyIn, KeyOut
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.ports import KeyInfo

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_key(body: KeyIn, keys: Keys, service: Service, _: KeyManager) -> KeyCreated:
    """A new API key; the key itself is in this answer only."""
    if body.role == "agent":
        if body.agent_id is None:
            raise InvalidValue("a key with role agent needs agent_id")
        service.agent(body.agent_id)  # NotFound if there is no such agent
    elif body.agent_id is not None:
        raise InvalidValue("only keys with role agent belong to an agent")
    info, key = await asyncio.to_thread(keys.create, body.name, body.role, body.agent_id)
    return KeyCreated(**_out(info).model_dump(), key=key)


@router.get("")
async def list_keys(keys: Keys, _: KeyManager) -> list[KeyOut]:
    return [_out(k) for k in await asyncio.to_thread(keys.list)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_key(key_id: str, keys: Keys, _: KeyManager) -> None:
    if not await asyncio.to_thread(keys.delete, key_id):
        raise NotFound(f"no key {key_id!r}")


def _out(info: KeyInfo) -> KeyOut:
    return KeyOut(
        id=info.id,
        name=info.name,
        role=info.role,
        agent_id=info.agent_id,
        created_at=datetime.fromtimestamp(info.created_at, UTC),
    )
