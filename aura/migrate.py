"""Run and inspect Alembic migrations from Aura's own commands."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from aura import resource_path
from aura.db import async_url


def alembic_config(url: str) -> Config:
    config = Config(str(resource_path("alembic.ini")))
    config.set_main_option("script_location", str(resource_path("migrations")))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def _sync_url(url: str) -> str:
    # psycopg 3 serves both drivers; the sync engine is enough to read the version table.
    return async_url(url)


def current_heads(url: str) -> set[str]:
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def expected_heads(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def pending(url: str) -> bool:
    """True when the database is behind the migrations this code ships."""
    return current_heads(url) != expected_heads(url)
