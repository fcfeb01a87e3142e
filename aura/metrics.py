"""Prometheus metrics at `/metrics`: Litestar's request metrics plus what only Aura knows.

Litestar's PrometheusMiddleware counts requests and their latency by route template and
status. Aura adds why the guard refused a request and how busy the PostgreSQL pool is. Labels
hold route templates and fixed words only: never a user id, an email, a path parameter or a
token. With several worker processes, `aura serve` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory so that any worker answers `/metrics` for all of them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.enums import ScopeType
from litestar.plugins.prometheus import (
    PrometheusConfig,
    PrometheusController,
    PrometheusMiddleware,
)
from litestar.types import Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# missing: no credentials; malformed: an Authorization header that is not a usable bearer;
# unknown: no stored token matches (Sanctum deletes revoked tokens, so a revoked token that a
# client still sends lands here too); expired; revoked: the token's user is gone;
# ability: authenticated, but the token lacks the route's ability.
AUTH_FAILURE_REASONS = ("missing", "malformed", "unknown", "expired", "revoked", "ability")

AUTH_FAILURES = Counter(
    "aura_auth_failures_total", "Requests refused by the guard, by reason.", ["reason"]
)
for _reason in AUTH_FAILURE_REASONS:
    AUTH_FAILURES.labels(_reason)

DB_POOL_IN_USE = Gauge(
    "aura_db_pool_connections_in_use",
    "PostgreSQL connections checked out of the pools right now.",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "aura_db_pool_connections_max",
    "Most PostgreSQL connections the pools may hold (2 x DB_POOL_SIZE + DB_MAX_OVERFLOW).",
    multiprocess_mode="livesum",
)


def count_auth_failure(reason: str) -> None:
    AUTH_FAILURES.labels(reason).inc()


@asynccontextmanager
async def pool_connection(pool: AsyncConnectionPool) -> AsyncIterator[AsyncConnection]:
    """A connection from the guard's pool, counted in the same gauge as the engine's."""
    async with pool.connection() as connection:
        DB_POOL_IN_USE.inc()
        try:
            yield connection
        finally:
            DB_POOL_IN_USE.dec()


def instrument_pool(engine: AsyncEngine, capacity: int) -> None:
    """Follow the engine's pool through SQLAlchemy's checkout and checkin events; `capacity`
    counts the guard's pool too."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DB_POOL_IN_USE.dec())
    DB_POOL_CAPACITY.set(capacity)


class AuraPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's middleware and metrics, seeing the real status of errors raised by inner
    middleware, and looking each labelled series up once.

    Litestar turns an exception raised by middleware (CSRF's 419, a session store outage's 503)
    into a response only outside all middleware, where this one would count it as a 200.
    Wrapping the inner app the way Litestar wraps each route handler fixes that.

    Litestar's own `__call__` builds a request object and calls prometheus_client's `labels()`
    four times per request, which was the largest part of what metrics cost a chat request.
    This one records the same series under the same names and labels, keeping each labelled
    child after its first use (routes, methods and statuses are few). It supports what
    `prometheus_config()` asks for; extra labels and exemplars are not used.
    """

    def __init__(self, app, config: PrometheusConfig) -> None:
        if config.labels or config.exemplars or config.excluded_http_methods:
            raise ValueError("AuraPrometheusMiddleware records no extra labels or exemplars")
        super().__init__(wrap_in_exception_handler(app), config)
        self._series: dict[tuple, Any] = {}

    def _child(self, kind: str, method: str, path: str, status: int) -> Any:
        key = (kind, method, path, status)
        child = self._series.get(key)
        if child is None:
            labels = {"method": method, "path": path, "status_code": status,
                      "app_name": self._config.app_name}
            metric = {
                "in_progress": self.requests_in_progress, "count": self.request_count,
                "time": self.request_time, "errors": self.requests_error_count,
            }[kind](labels)
            child = self._series[key] = metric.labels(*labels.values())
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        method, path = scope["method"], scope["path_template"]
        started = time.perf_counter()
        status, duration = 200, 0.0

        async def timed_send(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        in_progress = self._child("in_progress", method, path, 200)
        in_progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            in_progress.dec()
            if status >= 500:
                self._child("errors", method, path, status).inc()
            self._child("count", method, path, status).inc()
            self._child("time", method, path, status).observe(duration)


def prometheus_config() -> PrometheusConfig:
    # group_path: label by route template (`/chat/conversations/{conversation_id}`), never by
    # the concrete path, which would carry ids and grow without bound.
    return PrometheusConfig(
        app_name="aura",
        prefix="aura",
        group_path=True,
        middleware_class=AuraPrometheusMiddleware,
    )


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def share_between_workers() -> None:
    """Make every worker write its metrics to one fresh directory, removed at exit.

    Call in the parent before the workers start: prometheus_client reads the variable when a
    worker imports it. A directory the operator set already is left as it is.
    """
    if MULTIPROC_ENV in os.environ:
        return
    directory = tempfile.mkdtemp(prefix="aura-metrics-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ[MULTIPROC_ENV] = directory
