"""Domain errors and the one table that turns every error into an HTTP response.

Bodies follow Laravel's shape (`{"message": ...}`, plus `errors` on validation) because the
existing frontend reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger(__name__)


class AuraError(Exception):
    status_code = 400
    message = "Bad Request."
    headers: Mapping[str, str] = {}

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message

    def body(self) -> dict:
        return {"message": self.message}


class Unauthenticated(AuraError):
    status_code = 401
    message = "Unauthenticated."


class MissingAbility(AuraError):
    status_code = 403
    message = "Invalid ability provided."


class NotFound(AuraError):
    status_code = 404
    message = "Not Found."


class CsrfMismatch(AuraError):
    status_code = 419
    message = "CSRF token mismatch."


class ValidationFailed(AuraError):
    status_code = 422
    message = "The given data was invalid."

    def __init__(self, errors: Mapping[str, list[str]], message: str | None = None) -> None:
        self.errors = {field: list(msgs) for field, msgs in errors.items()}
        first = next(iter(self.errors.values()), [None])[0]
        super().__init__(message or first or self.message)

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})

    def body(self) -> dict:
        return {"message": self.message, "errors": self.errors}


class TooManyAttempts(AuraError):
    status_code = 429
    message = "Too many attempts."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class ServiceUnavailable(AuraError):
    status_code = 503
    message = "Service Unavailable."
    headers = {"Retry-After": "5"}


def _json(status: int, body: dict, headers: Mapping[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, headers=dict(headers or {}))


def aura_error_handler(_: Request, exc: AuraError) -> Response:
    return _json(exc.status_code, exc.body(), exc.headers)


def _field_name(key: str | None) -> str:
    return key or "body"


def validation_handler(_: Request, exc: ValidationException) -> Response:
    """Litestar's own parsing errors (bad JSON, wrong types) in Laravel's 422 shape."""
    errors: dict[str, list[str]] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.setdefault(_field_name(item.get("key")), []).append(str(item.get("message")))
    if not errors:
        errors["body"] = [exc.detail or "The request body is invalid."]
    return _json(422, ValidationFailed(errors).body())


def http_exception_handler(_: Request, exc: HTTPException) -> Response:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("http_error", extra={"status": exc.status_code})
    detail = exc.detail if exc.detail and exc.status_code < 500 else "Server Error."
    return _json(exc.status_code, {"message": detail}, exc.headers)


def unavailable_handler(_: Request, exc: Exception) -> Response:
    """A database that is down or unreachable is a 503, never a 500."""
    logger.warning("dependency_unavailable", extra={"error": type(exc).__name__})
    return _json(503, ServiceUnavailable().body(), ServiceUnavailable.headers)


def dbapi_handler(request: Request, exc: DBAPIError) -> Response:
    if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
        return unavailable_handler(request, exc)
    logger.exception("database_error", exc_info=exc)
    return _json(500, {"message": "Server Error."})


EXCEPTION_HANDLERS = {
    AuraError: aura_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_exception_handler,
    DBAPIError: dbapi_handler,
    PoolTimeoutError: unavailable_handler,
    ConnectionFailure: unavailable_handler,
    ServerSelectionTimeoutError: unavailable_handler,
    ConnectionRefusedError: unavailable_handler,
    # The token guard talks to psycopg directly (aura.db.create_guard_pool); psycopg_pool
    # raises PoolTimeout, an OperationalError, when no connection frees up in time.
    psycopg.OperationalError: unavailable_handler,
}
