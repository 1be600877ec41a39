from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, status

from ccgateway.api.auth import Role, check_key_owner
from ccgateway.api.deps import KeyManager, Keys, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import KeyCreated, KeyIn, KeyOut
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.ports import KeyInfo

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=GuardedRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_key(body: KeyIn, keys: Keys, service: Service, _: KeyManager) -> KeyCreated:
    """A new API key; the key itself is in this answer only (only its hash is stored)."""
    check_key_owner(Role(body.role), body.agent_id)
    if body.agent_id is not None:
        try:
            service.agent(body.agent_id)
        except NotFound as exc:  # a reference in the body, like an unknown skill: 422
            raise InvalidValue(f"no agent {body.agent_id!r} to give a key to") from exc
    info, key = await asyncio.to_thread(keys.create, body.name, body.role, body.agent_id)
    return KeyCreated(**_out(info).model_dump(), key=key)


@router.get("")
async def list_keys(keys: Keys, _: KeyManager) -> list[KeyOut]:
    """Every stored key, without the keys themselves. The admin key of the settings is not
    listed and cannot be deleted here."""
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
