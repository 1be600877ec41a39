"""Every error the API returns, in one table: exception class -> HTTP status and error id.

Bodies are `{"error_id": ..., "message": ..., "details": ...}`; the error ids are stable.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ccgateway.domain.errors import Conflict, DomainError, InvalidTransition, InvalidValue, NotFound


class ApiError(Exception):
    """An error raised by the API layer itself (authentication, roles)."""

    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_id = status, error_id


def unauthenticated(message: str = "a valid 'Authorization: Bearer <key>' is required") -> ApiError:
    return ApiError(401, "unauthenticated", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


DOMAIN_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "not-found"),
    Conflict: (409, "conflict"),
    InvalidTransition: (409, "invalid-transition"),
    InvalidValue: (422, "invalid-value"),
}


def error_body(error_id: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error_id": error_id, "message": message, "details": details}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        for cls in type(exc).__mro__:
            if cls in DOMAIN_ERRORS:
                status, error_id = DOMAIN_ERRORS[cls]
                return JSONResponse(error_body(error_id, str(exc)), status)
        return JSONResponse(error_body("invalid-value", str(exc)), 422)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.error_id, str(exc)), exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        return JSONResponse(error_body("invalid-request", summary, details), 422)
