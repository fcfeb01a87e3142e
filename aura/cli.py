"""The `aura` command: serve, database migrations, users and tokens."""

from __future__ import annotations

import os
import signal
import sys

import click

from aura import admin
from aura.accounts.commands import account
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
        if workers > 1:
            from aura.metrics import share_between_workers

            share_between_workers()
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
            # A worker that has not answered the supervisor within this is replaced; 5 s (the
            # default) is shorter than a cold start on a busy or CPU-limited host.
            timeout_worker_healthcheck=30,
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


@db.command()
@click.option("--check", is_flag=True, help="Only report; change nothing.")
def adopt(check: bool) -> None:
    """Report what Aura finds in an existing Laravel database; without --check, upgrade it."""
    from aura import adopt as adoption
    from aura import migrate

    url = _database_url(_settings())
    report = adoption.inspect_database(url)
    click.echo(report.render())
    if not report.ok:
        sys.exit(1)
    if not check:
        migrate.upgrade(url)
        click.echo("Database is up to date")


def _run(coro_factory):
    """Run an async admin task against DATABASE_URL with a short-lived engine."""
    import asyncio

    from aura.db import create_engine

    settings = _settings()
    _database_url(settings)

    async def runner():
        engine = create_engine(settings)
        try:
            return await coro_factory(engine, settings)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
def user_create(email: str, name: str) -> None:
    """Create a user; the password is prompted for, or read from the first line of stdin.

    It is never an option, so that it stays out of shell history and process listings.
    """
    from aura.accounts import service
    from aura.errors import ValidationFailed
    from aura.validation import Checker

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    checker = Checker({"email": email, "name": name, "password": password})
    checker.email()
    checker.string("name", max_length=255)
    if len(password) < 8 or len(password.encode()) > 72:
        checker.fail("password", "The password must be 8 characters to 72 bytes long.")
    try:
        checker.check()
        user_id = _run(lambda engine, s: service.create_user(
            engine, name=name.strip(), email=email.strip(), password=password,
            rounds=s.bcrypt_rounds,
        ))
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(m for msgs in exc.errors.values() for m in msgs))
    click.echo(f"Created user {user_id}")


@main.group()
def token() -> None:
    """Manage personal access tokens."""


@token.command("create")
@click.option("--email", required=True)
@click.option("--name", default="chat", show_default=True)
@click.option("--ability", "abilities", multiple=True, help="Repeat for several; default *.")
@click.option("--expires-in", default=None, help="Minutes, or like 90m, 12h, 30d, 2w.")
def token_create(email: str, name: str, abilities: tuple[str, ...], expires_in: str | None) -> None:
    """Mint a token for a user and print `id|secret` once."""
    from aura.errors import ValidationFailed
    from aura.tokens import service

    try:
        name, ability_list, duration = service.read_mint_options(
            {"name": name, "abilities": list(abilities) or ["*"], "expires_in": expires_in}
        )
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(m for msgs in exc.errors.values() for m in msgs))

    async def mint(engine, settings):
        user_id = await _user_id_by_email(engine, email)
        return await service.mint(engine, settings, user_id, name, ability_list, duration)

    click.echo(_run(mint).plain_text)


async def _user_id_by_email(engine, email: str) -> int:
    from aura.accounts.service import user_id_for_email

    user_id = await user_id_for_email(engine, email)
    if user_id is None:
        raise click.ClickException("no user has that email")
    return user_id


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
def token_revoke(token_id: int) -> None:
    """Revoke one token by its id."""
    from aura.tokens import repository

    async def revoke(engine, _settings):
        async with engine.begin() as connection:
            return await repository.delete_token(connection, token_id)

    if not _run(revoke):
        raise click.ClickException(f"no token {token_id}")
    click.echo(f"Revoked token {token_id}")


@token.command("prune")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(0))
def token_prune(hours: int) -> None:
    """Delete tokens expired for more than HOURS (Sanctum's sanctum:prune-expired)."""
    from aura.tokens import repository

    async def prune(engine, settings):
        async with engine.begin() as connection:
            return await repository.prune(connection, settings.sanctum_expiration, hours)

    click.echo(f"Pruned {_run(prune)} expired token(s)")


# `aura user list|disable|enable` and `aura session prune` live in aura/admin.py.
admin.register(main, user)
# `aura account purge` lives in aura/accounts/commands.py.
main.add_command(account)

if __name__ == "__main__":
    main()
