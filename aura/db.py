"""PostgreSQL access: the engine, the shared table metadata and URL handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from aura.settings import Settings

metadata = MetaData()


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


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[psycopg.AsyncConnection]:
    """A connection from the engine's pool as the bare psycopg connection, in autocommit.

    For the one query on every authenticated request (the token guard): SQLAlchemy's
    Connection layer costs several times the CPU of the query itself there. The pool stays
    the engine's, so its size, recycling, metrics and fast failure when PostgreSQL is down
    are unchanged. Autocommit spares a BEGIN and a ROLLBACK round trip; it is switched off
    again before the connection goes back, and a connection left in any other state than
    idle is discarded rather than handed to the next user.
    """
    pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
    connection = pooled.driver_connection
    try:
        await connection.set_autocommit(True)
        yield connection
    finally:
        if connection.info.transaction_status == TransactionStatus.IDLE:
            await connection.set_autocommit(False)
        else:
            await greenlet_spawn(pooled.invalidate)
        await greenlet_spawn(pooled.close)
