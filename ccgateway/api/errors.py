"""Every error the API returns, in one table: exception class -> HTTP status and error id.

    DomainError (domain/errors.py)
    ├── NotFound                404 not-found
    ├── Conflict                409 conflict
    ├── InvalidTransition       409 invalid-transition
    └── InvalidValue            422 invalid-value       a value breaks a rule of the model
        └── UnsafeAddress       422 unsafe-address      a webhook URL on this host or a
                                                        private network (domain/webhooks.py)
    RequestValidationError      422 invalid-request     malformed JSON, a wrong type, a missing
                                                        or unknown field; details list each one
    ApiError (this module)
    ├── Unauthenticated         401 unauthenticated     no key or session, or not one we know
    ├── Forbidden               403 forbidden           the key's role may not do this
    ├── CsrfRefused             403 csrf-refused        a change made with the session cookie
    │                                                   without its X-CSRF-Token, or from
    │                                                   another origin
    └── TooManyAttempts         429 too-many-attempts   failed logins: wait Retry-After seconds
    NoPrivacyKey                503 no-privacy-key      erasure without a configured privacy key
    DatabaseUnavailable         503 database-unavailable the database is away (restarting,
                                                        failing over): history and changes
                                                        wait for it; routing goes on
    HTTPException (Starlette)   its status: not-found (no such path), method-not-allowed
    anything else               500 internal            logged; no detail leaves the server

Bodies are `{"error_id": ..., "message": ..., "details": ...}`; the error ids are stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ccgateway.domain.errors import Conflict, DomainError, InvalidTransition, InvalidValue, NotFound
from ccgateway.domain.webhooks import UnsafeAddress
from ccgateway.ports import DatabaseUnavailable
from ccgateway.services.privacy_service import NoPrivacyKey


class ApiError(Exception):
    """An error of the API layer itself: who is calling, and whether they may."""


class Unauthenticated(ApiError):
    def __init__(self, message: str = "a valid 'Authorization: Bearer <key>' is required") -> None:
        super().__init__(message)


class Forbidden(ApiError):
    pass


class CsrfRefused(ApiError):
    pass


class TooManyAttempts(ApiError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


ERRORS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not-found"),
    Conflict: (409, "conflict"),
    InvalidTransition: (409, "invalid-transition"),
    InvalidValue: (422, "invalid-value"),
    UnsafeAddress: (422, "unsafe-address"),
    RequestValidationError: (422, "invalid-request"),
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    CsrfRefused: (403, "csrf-refused"),
    TooManyAttempts: (429, "too-many-attempts"),
    NoPrivacyKey: (503, "no-privacy-key"),
    DatabaseUnavailable: (503, "database-unavailable"),
}
# Starlette's own refusals, before any route runs.
HTTP_ERROR_IDS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}
INTERNAL = (500, "internal")


def error_body(error_id: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error_id": error_id, "message": message, "details": details}


def status_and_id(exc: Exception) -> tuple[int, str]:
    """The table's entry for `exc` or its nearest listed base class."""
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    if isinstance(exc, HTTPException):
        return exc.status_code, HTTP_ERROR_IDS.get(exc.status_code, "http-error")
    return INTERNAL


def install_error_handlers(app: FastAPI) -> None:
    async def respond(_: Request, exc: Exception) -> JSONResponse:
        status, error_id = status_and_id(exc)
        headers: Mapping[str, str] | None = None
        details: Any = None
        if isinstance(exc, RequestValidationError):
            details = [
                {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                for e in exc.errors()
            ]
            message = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        elif isinstance(exc, HTTPException):
            message, headers = str(exc.detail), exc.headers
        elif status == INTERNAL[0]:
            message = "internal error: the controller's log has the details"
        else:
            message = str(exc)
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if isinstance(exc, DatabaseUnavailable):
            headers = {"Retry-After": "5"}
        return JSONResponse(error_body(error_id, message, details), status, headers=headers)

    handled = (DomainError, ApiError, DatabaseUnavailable, RequestValidationError, HTTPException)
    for cls in (*handled, Exception):
        app.add_exception_handler(cls, respond)
