"""PostgreSQL access: the engine, the shared table metadata and URL handling."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aura.settings import Settings

metadata = MetaData()
# Guard connections opened before the first request, so that it does not wait for one.
GUARD_POOL_WARM = 2


def async_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as well as `postgresql+psycopg://`."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def describe_url(url: str) -> str:
    """A URL fit for printing: no password, no user."""
    parsed = make_url(async_url(url))
    if parsed.host:
        port = f":{parsed.port}" if parsed.port else ""
        return f"postgresql://{parsed.host}{port}/{parsed.database}"
    socket_dir = parsed.query.get("host") or "the default socket"
    return f"postgresql database {parsed.database} via socket in {socket_dir}"


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    raw = url or (settings.database_url.get_secret_value() if settings.database_url else None)
    if raw is None:
        raise RuntimeError("DATABASE_URL is not set")
    return create_async_engine(
        async_url(raw),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_connect_timeout,
        pool_recycle=1800,
        # Parameters carry password hashes, token hashes and session ids: keep them out of
        # error messages and logs.
        hide_parameters=True,
        connect_args={
            "connect_timeout": max(1, int(settings.db_connect_timeout)),
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
    )


def libpq_url(url: str) -> str:
    """The same database as a URL libpq reads (no `+psycopg` driver suffix)."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(
        hide_password=False
    )


def create_guard_pool(settings: Settings, url: str | None = None) -> AsyncConnectionPool:
    """psycopg's own pool, in autocommit, for the one query on every authenticated request.

    The token guard reads one row by primary key. Through SQLAlchemy's pool each checkout
    and checkin ran in a greenlet and switched autocommit on and off, several times the CPU
    of the query itself; psycopg_pool hands out a ready connection with no such layer. The
    rest of Aura keeps the engine. Up to DB_POOL_SIZE connections, a couple opened at start,
    the same connect and statement timeouts, and a wait for a free connection bounded by
    DB_CONNECT_TIMEOUT (psycopg_pool.PoolTimeout, which is a 503 like any outage).
    """
    raw = url or (settings.database_url.get_secret_value() if settings.database_url else None)
    if raw is None:
        raise RuntimeError("DATABASE_URL is not set")
    return AsyncConnectionPool(
        libpq_url(raw),
        kwargs={
            "autocommit": True,
            "connect_timeout": max(1, int(settings.db_connect_timeout)),
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
        min_size=min(GUARD_POOL_WARM, settings.db_pool_size),
        max_size=settings.db_pool_size,
        timeout=settings.db_connect_timeout,
        # A failed reconnect gives up after a few seconds instead of backing off for minutes,
        # so that the next request after an outage starts a fresh connect at once.
        reconnect_timeout=max(5.0, 2 * settings.db_connect_timeout),
        max_lifetime=1800,
        name="aura-guard",
        open=False,
    )
