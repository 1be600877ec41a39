"""People's accounts (admin only): who may sign in, with which role, for which agent; the
password hashes never leave the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import ClassVar, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from ccgateway.api.deps import AccountManager, Service, Sessions
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import Input, Patch
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.ports import UserInfo
from ccgateway.services.center_service import CenterService

router = APIRouter(prefix="/v1/users", tags=["users"], route_class=GuardedRoute)

RoleName = Literal["admin", "supervisor", "agent", "wallboard"]
PASSWORD = "at least 10 characters; only its argon2id hash is stored"
DEVICE = "the phone a supervisor listens, whispers or barges from, e.g. PJSIP/sup1"


class UserIn(Input):
    username: str = Field(
        min_length=1, max_length=64, description="1-64 of A-Z, a-z, 0-9, '.', '_', '@', '-'"
    )
    password: str = Field(max_length=1024, description=PASSWORD)
    role: RoleName
    agent_id: str | None = Field(None, max_length=64, description="exactly for role agent")
    device: str | None = Field(None, max_length=120, description=DEVICE)
    display_name: str = Field("", max_length=200)


class UserPatch(Patch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"agent_id", "device"})

    password: str | None = Field(None, max_length=1024, description=PASSWORD)
    role: RoleName | None = None
    agent_id: str | None = Field(None, max_length=64)
    device: str | None = Field(None, max_length=120)
    display_name: str | None = Field(None, max_length=200)


class UserOut(BaseModel):
    username: str
    role: str
    agent_id: str | None
    device: str | None
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, user: UserInfo) -> UserOut:
        return cls(
            username=user.username,
            role=user.role,
            agent_id=user.agent_id,
            device=user.device,
            display_name=user.display_name,
            created_at=datetime.fromtimestamp(user.created_at, UTC),
        )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserIn, service: Service, sessions: Sessions, _: AccountManager
) -> UserOut:
    """A new account; an agent's names an existing agent (422 otherwise)."""
    _agent_must_exist(service, body.agent_id)
    user = await asyncio.to_thread(
        sessions.accounts.add,
        body.username,
        body.password,
        body.role,
        body.agent_id,
        body.device,
        body.display_name,
    )
    return UserOut.of(user)


@router.get("")
async def list_users(sessions: Sessions, _: AccountManager) -> list[UserOut]:
    return [UserOut.of(u) for u in await asyncio.to_thread(sessions.accounts.list)]


@router.get("/{username}")
async def get_user(username: str, sessions: Sessions, _: AccountManager) -> UserOut:
    return UserOut.of(await asyncio.to_thread(sessions.accounts.get, username))


@router.patch("/{username}")
async def update_user(
    username: str, body: UserPatch, service: Service, sessions: Sessions, _: AccountManager
) -> UserOut:
    """Change the given fields; a new password ends every session of the account."""
    changes = body.changes()
    _agent_must_exist(service, changes.get("agent_id"))
    return UserOut.of(await asyncio.to_thread(sessions.accounts.change, username, changes))


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(username: str, sessions: Sessions, _: AccountManager) -> None:
    """The account and every session of it."""
    await asyncio.to_thread(sessions.accounts.remove, username)


def _agent_must_exist(service: CenterService, agent_id: str | None) -> None:
    if agent_id is None:
        return
    try:
        service.agent(agent_id)
    except NotFound as exc:  # a reference in the body: 422, as for keys
        raise InvalidValue(f"no agent {agent_id!r} for this user") from exc
