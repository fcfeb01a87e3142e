"""Alembic environment: metadata from Aura's tables, URL from settings."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import aura.accounts.models  # noqa: F401  (registers the tables on the metadata)
import aura.tokens.models  # noqa: F401
from aura.db import async_url, metadata
from aura.settings import Settings

AURA_TABLES = {"users", "password_reset_tokens", "sessions", "personal_access_tokens"}


def include_object(obj, name, type_, reflected, compare_to):
    """Only Aura's four tables are Aura's: everything else in a Laravel database is left alone."""
    if type_ == "table":
        return name in AURA_TABLES
    return True


def database_url() -> str:
    url = context.config.attributes.get("url")
    if url is None:
        settings = Settings()
        if settings.database_url is None:
            raise SystemExit("DATABASE_URL is not set")
        url = settings.database_url.get_secret_value()
    return async_url(url)


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
