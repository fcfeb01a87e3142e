"""Structured logs: one JSON line per request, and every other log line in the same shape.

Litestar's structlog plugin configures structlog and the standard library together, so that
Aura's own events, Litestar's and those of libraries come out as JSON lines on stderr. The
request line is built from a fixed list of fields (request id, method, route template, status,
duration, user id and token id): headers, cookies, bodies and concrete paths never enter it,
so no token, session id or password can either. A filter drops such keys from every event as
a second line of defence.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import sys
import time

import structlog
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.logging.config import LoggingConfig, StructlogEventFilter, StructLoggingConfig
from litestar.middleware.logging import LoggingMiddleware, LoggingMiddlewareConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from litestar.types import Message, Receive, Scope, Send

from aura.errors import EXCEPTION_HANDLERS
from aura.tokens.guard import PRINCIPAL_KEY

REQUEST_LOGGER = "aura.request"
REQUEST_ID_HEADER = b"x-request-id"
# Keys that would carry a secret or a body if some code ever logged them; dropped from every
# event before it is rendered.
SECRET_KEYS = (
    "authorization", "cookie", "cookies", "headers", "body", "password", "token",
    "plain_text", "session", "session_id", "remember_token",
)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written, not when logging was set up.

    Test runners and process managers may swap sys.stderr after the app was built; a handler
    holding the old stream would write where nobody reads.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        return None


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _stdlib_config(level: str) -> LoggingConfig:
    """Every record, structlog's included, goes through one handler and one JSON renderer."""
    handler = {"()": StderrHandler, "formatter": "standard"}
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [*_shared_processors(), structlog.stdlib.ExtraAdder()],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            StructlogEventFilter(SECRET_KEYS),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    }
    return LoggingConfig(
        formatters={"standard": formatter},
        # Both of Litestar's handler names are defined, so that its thread-backed queue
        # handler is never created: lines are written synchronously and in order.
        handlers={"console": handler, "queue_listener": handler},
        loggers={"litestar": {"level": level, "handlers": [], "propagate": True}},
        root={"handlers": ["console"], "level": level},
    )


def _log_unexpected(logger, scope: Scope, _traceback: list[str]) -> None:
    """Log the traceback of an error no handler in aura.errors expects: that is a bug."""
    error = sys.exc_info()[1]
    if isinstance(error, tuple(EXCEPTION_HANDLERS)):
        return
    logger.error("unhandled_exception", route=scope.get("path_template"), exc_info=True)


def structlog_config(level: str) -> StructLoggingConfig:
    return StructLoggingConfig(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        standard_lib_logging_config=_stdlib_config(level),
        log_exceptions="always",
        exception_logging_handler=_log_unexpected,
        pretty_print_tty=False,
    )


class RequestLogMiddleware(LoggingMiddleware):
    """One line per request, written when the response has been sent.

    It wraps the whole application, so that every response is logged with its real status:
    a 419 from the CSRF middleware, a 503 from the session store, a 404 for a path no route
    matches and a CORS preflight alike. Each request gets an id, bound to every line logged
    while it runs and returned in `X-Request-ID`.
    """

    def __init__(self, app, config: LoggingMiddlewareConfig) -> None:
        super().__init__(app, config)
        # Request ids need to be unique, not secret: a random prefix drawn once per process
        # and a counter, instead of a uuid4 (a getrandom system call) on every request.
        self._id_prefix = secrets.token_hex(12)
        self._id_counter = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not hasattr(self, "logger"):
            self.logger = scope["litestar_app"].get_logger(self.config.logger_name)
        request_id = f"{self._id_prefix}{next(self._id_counter) & 0xFFFFFFFF:08x}"
        started = time.perf_counter()
        status = 0

        async def logging_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()), (REQUEST_ID_HEADER, request_id.encode())
                ]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                self._log_line(scope, status, started)
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, logging_send)
        except BaseException:
            # Only a failure of the error handling itself gets here; the server answers 500.
            self._log_line(scope, 500, started)
            raise
        finally:
            structlog.contextvars.reset_contextvars(**bound)

    def _log_line(self, scope: Scope, status: int, started: float) -> None:
        if status < 500 and not self.logger.isEnabledFor(logging.INFO):
            return  # LOG_LEVEL=WARNING or above: skip building a line that would be dropped
        principal = scope.get(PRINCIPAL_KEY)
        log = self.logger.error if status >= 500 else self.logger.info
        log(
            "request",
            method=scope["method"],
            route=scope.get("path_template") or None,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            user_id=principal.user_id if principal else None,
            token_id=principal.token_id if principal else None,
        )


class AuraStructlogPlugin(StructlogPlugin):
    """Litestar's plugin, with the request log wrapped around the whole application.

    The plugin would append its middleware to the route middleware, inside the CSRF and
    session middleware, where the requests they refuse go unlogged, and requests that match
    no route never reach it. At startup the app's ASGI handler (router, CORS) is wrapped
    instead.
    """

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config = super().on_app_init(app_config)
        app_config.on_startup.append(self._log_every_request)
        return app_config

    def _log_every_request(self, app: Litestar) -> None:
        if not isinstance(app.asgi_handler, RequestLogMiddleware):
            config = self._config.middleware_logging_config
            app.asgi_handler = RequestLogMiddleware(app.asgi_handler, config)


def logging_plugin(level: str = "INFO") -> AuraStructlogPlugin:
    return AuraStructlogPlugin(
        StructlogConfig(
            structlog_logging_config=structlog_config(level.upper()),
            middleware_logging_config=LoggingMiddlewareConfig(
                logger_name=REQUEST_LOGGER,
                request_log_fields=(),
                response_log_fields=("status_code",),
                middleware_class=RequestLogMiddleware,
            ),
            enable_middleware_logging=False,
        )
    )
