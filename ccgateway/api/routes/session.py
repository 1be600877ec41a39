"""A person's session: sign in (the cookie), who am I, sign out, change my password."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from ccgateway.api.deps import Sessions, SignedIn, check_csrf, own_origin
from ccgateway.api.errors import CsrfRefused, Unauthenticated
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import Input
from ccgateway.api.sessions import SESSION_COOKIE, ActiveSession, SessionManager

router = APIRouter(prefix="/v1/session", tags=["session"], route_class=GuardedRoute)


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class PasswordIn(Input):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024, description="at least 10 characters")


class SessionOut(BaseModel):
    username: str
    role: str
    agent_id: str | None
    device: str | None
    display_name: str
    csrf_token: str = Field(description="send it as X-CSRF-Token with every change")
    idle_timeout_s: float | None = Field(description="null: the session never times out")

    @classmethod
    def of(cls, active: ActiveSession) -> SessionOut:
        user = active.user
        return cls(
            username=user.username,
            role=user.role,
            agent_id=user.agent_id,
            device=user.device,
            display_name=user.display_name,
            csrf_token=active.csrf_token,
            idle_timeout_s=active.idle_timeout_s,
        )


@router.post("")
async def sign_in(
    body: LoginIn, request: Request, response: Response, sessions: Sessions
) -> SessionOut:
    """Sign in: the session's cookie (HttpOnly, SameSite=Strict, Secure over https) and its
    CSRF token. A wrong name or password is 401 either way; after repeated failures for one
    name or one address, 429 with Retry-After."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != own_origin(request):
        raise CsrfRefused(f"a sign-in from {origin!r} is refused")  # login CSRF
    client = request.client.host if request.client else "unknown"
    token, active = await asyncio.to_thread(sessions.login, body.username, body.password, client)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new sign-in replaces this browser's old session
        await asyncio.to_thread(sessions.logout, old)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return SessionOut.of(active)


@router.get("")
async def who_am_i(request: Request, sessions: Sessions) -> SessionOut:
    """The cookie's session (401 without one); its idle timer starts again."""
    return SessionOut.of(await _session(request, sessions))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, response: Response, sessions: Sessions) -> None:
    """End the cookie's session and clear the cookie (204 with no session, too)."""
    try:
        active = await _session(request, sessions)
    except Unauthenticated:
        active = None
    if active is not None:
        check_csrf(request, active.csrf_token)
        await asyncio.to_thread(sessions.logout, request.cookies[SESSION_COOKIE])
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordIn, request: Request, sessions: Sessions, active: SignedIn
) -> None:
    """A new password for the signed-in person; every other session of theirs ends."""
    check_csrf(request, active.csrf_token)
    token = request.cookies[SESSION_COOKIE]
    client = request.client.host if request.client else "unknown"
    await asyncio.to_thread(sessions.change_password, token, body.current, body.new, client)


async def _session(request: Request, sessions: SessionManager) -> ActiveSession:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("not signed in: POST /v1/session first")
    return await asyncio.to_thread(sessions.session, token)
