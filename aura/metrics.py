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

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.plugins.prometheus import (
    PrometheusConfig,
    PrometheusController,
    PrometheusMiddleware,
)
from prometheus_client import Counter, Gauge
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
    "PostgreSQL connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "aura_db_pool_connections_max",
    "Most PostgreSQL connections the pool may hold (DB_POOL_SIZE + DB_MAX_OVERFLOW).",
    multiprocess_mode="livesum",
)


def count_auth_failure(reason: str) -> None:
    AUTH_FAILURES.labels(reason).inc()


def instrument_pool(engine: AsyncEngine, capacity: int) -> None:
    """Follow the engine's pool through SQLAlchemy's checkout and checkin events."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DB_POOL_IN_USE.dec())
    DB_POOL_CAPACITY.set(capacity)


class AuraPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's middleware, seeing the real status of errors raised by inner middleware.

    Litestar turns an exception raised by middleware (CSRF's 419, a session store outage's 503)
    into a response only outside all middleware, where this one would count it as a 200.
    Wrapping the inner app the way Litestar wraps each route handler fixes that.
    """

    def __init__(self, app, config: PrometheusConfig) -> None:
        super().__init__(wrap_in_exception_handler(app), config)


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
