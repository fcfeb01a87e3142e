"""The `aura` command: serve, database migrations, users and tokens."""

from __future__ import annotations

import os
import signal
import sys

import click

from aura.db import describe_url
from aura.mongo import describe_uri
from aura.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise click.ClickException("DATABASE_URL is not set")
    return settings.database_url.get_secret_value()


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@click.group()
def main() -> None:
    """Aura: users, Sanctum-compatible tokens and chat history in one service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve Aura; with no DATABASE_URL and MONGO_URI, start embedded databases first."""
    import uvicorn

    from aura import migrate
    from aura.embedded import EmbeddedServers

    settings = _settings()
    if (settings.database_url is None) != (settings.mongo_uri is None):
        raise click.ClickException("set both DATABASE_URL and MONGO_URI, or neither")

    # SIGTERM before the server runs must still stop what was started.
    signal.signal(signal.SIGTERM, _raise_exit)
    embedded = EmbeddedServers(settings.aura_data_dir) if settings.embedded else None
    try:
        if embedded is not None:
            click.echo(f"Starting embedded databases under {settings.aura_data_dir.resolve()}")
            embedded.start()
            os.environ["DATABASE_URL"] = embedded.database_url
            os.environ["MONGO_URI"] = embedded.mongo_uri
            migrate.upgrade(embedded.database_url)
            database_url, mongo_uri = embedded.database_url, embedded.mongo_uri
        else:
            database_url = _database_url(settings)
            mongo_uri = settings.mongo_uri.get_secret_value()
            if migrate.pending(database_url):
                raise click.ClickException(
                    "the database is behind this version's migrations: run `aura db upgrade`"
                )
        settings.signing_key  # noqa: B018  (creates the development key before workers race)
        click.echo(f"PostgreSQL: {describe_url(database_url)}")
        click.echo(f"MongoDB:    {describe_uri(mongo_uri)} (database {settings.mongo_db})")
        click.echo(f"Aura listening on http://{host}:{port} with {workers} worker(s)")
        uvicorn.run(
            "aura.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            log_level=settings.log_level.lower(),
            access_log=False,
            proxy_headers=False,
        )
    finally:
        if embedded is not None:
            embedded.stop()
            click.echo("Embedded databases stopped")


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply migrations; on a Laravel database, adopt its tables without changing them."""
    from aura import migrate

    migrate.upgrade(_database_url(_settings()), revision)
    click.echo("Database is up to date")


@db.command()
def current() -> None:
    """Print the applied and the expected migration revisions."""
    from aura import migrate

    url = _database_url(_settings())
    applied = ", ".join(sorted(migrate.current_heads(url))) or "none"
    expected = ", ".join(sorted(migrate.expected_heads(url)))
    click.echo(f"applied: {applied}\nexpected: {expected}")
    if migrate.pending(url):
        sys.exit(1)
