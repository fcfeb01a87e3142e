"""Operator commands on accounts: `aura user list|disable|enable` and `aura session prune`.

Laravel's `users` table has no column for a disabled account, and adding one would make the
schema differ from the one Laravel migrates. A disabled account is marked in the password
column instead, the way `passwd -l` locks a Unix account: `!` goes before the hash. No bcrypt
hash starts with `!`, so every password is refused, and the original hash stays for
`aura user enable`. Disabling also deletes the user's tokens and sessions in the same
transaction, so that nothing already issued keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aura.accounts.models import sessions, users
from aura.tokens.models import personal_access_tokens as tokens

DISABLED_MARK = "!"


@dataclass(frozen=True, slots=True)
class Disabled:
    user_id: int
    was_disabled: bool
    tokens: int
    sessions: int


async def list_users(engine: AsyncEngine, tokenable_type: str):
    """Yield (id, email, name, disabled, tokens, sessions), oldest account first."""
    token_count = select(func.count()).where(
        tokens.c.tokenable_id == users.c.id, tokens.c.tokenable_type == tokenable_type
    )
    session_count = select(func.count()).where(sessions.c.user_id == users.c.id)
    query = select(
        users.c.id, users.c.email, users.c.name, users.c.password.startswith(DISABLED_MARK),
        token_count.scalar_subquery(), session_count.scalar_subquery(),
    ).order_by(users.c.id)
    async with engine.connect() as connection:
        # Streamed: a large users table is printed without loading it whole.
        async for row in await connection.stream(query):
            yield tuple(row)


async def disable_user(engine: AsyncEngine, user_id: int, tokenable_type: str) -> Disabled:
    """Lock the password, then delete the user's tokens and sessions, in one transaction."""
    async with engine.begin() as connection:
        locked = await connection.execute(
            update(users)
            .where(users.c.id == user_id, ~users.c.password.startswith(DISABLED_MARK))
            .values(password=DISABLED_MARK + users.c.password)
        )
        dropped_tokens = await connection.execute(
            delete(tokens).where(
                tokens.c.tokenable_id == user_id, tokens.c.tokenable_type == tokenable_type
            )
        )
        dropped_sessions = await connection.execute(
            delete(sessions).where(sessions.c.user_id == user_id)
        )
    return Disabled(
        user_id, locked.rowcount == 0, dropped_tokens.rowcount, dropped_sessions.rowcount
    )


async def enable_user(engine: AsyncEngine, user_id: int) -> bool:
    """Give the account its password back; False when it was not disabled.

    Only a mark in front of a kept hash (`!$2y$...`) is removed: an account marked for
    deletion carries the mark with no hash behind it, and stays as it is.
    """
    async with engine.begin() as connection:
        result = await connection.execute(
            update(users)
            .where(users.c.id == user_id, users.c.password.startswith(DISABLED_MARK + "$"))
            .values(password=func.substr(users.c.password, len(DISABLED_MARK) + 1))
        )
    return result.rowcount == 1


async def _user_id(engine: AsyncEngine, email: str) -> int:
    # Imported here: `aura.cli` imports this module, and every worker imports `aura.cli`.
    from aura.accounts.service import user_id_for_email

    user_id = await user_id_for_email(engine, email)
    if user_id is None:
        raise click.ClickException("no user has that email")
    return user_id


def _run(task):
    from aura.cli import _run as run_with_engine

    return run_with_engine(task)


@click.command("list")
def user_list() -> None:
    """List users with their status and how many tokens and sessions they hold."""

    async def show(engine, settings) -> int:
        click.echo(f"{'ID':>6}  {'EMAIL':<32} {'STATUS':<8} {'TOKENS':>6} {'SESSIONS':>8}  NAME")
        shown = 0
        async for user_id, email, name, disabled, n_tokens, n_sessions in list_users(
            engine, settings.sanctum_tokenable_type
        ):
            status = "disabled" if disabled else "active"
            click.echo(
                f"{user_id:>6}  {email:<32} {status:<8} {n_tokens:>6} {n_sessions:>8}  {name}"
            )
            shown += 1
        return shown

    click.echo(f"{_run(show)} user(s)")


@click.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Refuse EMAIL's logins and delete its tokens and sessions.

    `aura user enable` gives the password back; deleted tokens and sessions stay gone.
    """

    async def disable(engine, settings) -> Disabled:
        user_id = await _user_id(engine, email)
        return await disable_user(engine, user_id, settings.sanctum_tokenable_type)

    result = _run(disable)
    state = "was already disabled" if result.was_disabled else "disabled"
    click.echo(
        f"User {result.user_id} {state}; deleted {result.tokens} token(s) and "
        f"{result.sessions} session(s)"
    )


@click.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Let a disabled EMAIL log in again with its old password."""

    async def enable(engine, _settings) -> tuple[int, bool]:
        user_id = await _user_id(engine, email)
        return user_id, await enable_user(engine, user_id)

    user_id, changed = _run(enable)
    click.echo(f"User {user_id} {'enabled' if changed else 'was not disabled'}")


@click.group("session")
def session() -> None:
    """Manage login sessions (Laravel's `sessions` table)."""


@session.command("prune")
def session_prune() -> None:
    """Delete sessions idle for longer than SESSION_IDLE_MINUTES; safe to run on a schedule."""
    from aura.accounts.sessions import prune_sessions

    async def prune(engine, settings) -> int:
        return await prune_sessions(engine, settings.session_idle_minutes * 60)

    click.echo(f"Pruned {_run(prune)} expired session(s)")


def register(main: click.Group, user: click.Group) -> None:
    """Attach these commands to the `aura` command and its `user` group."""
    for command in (user_list, user_disable, user_enable):
        user.add_command(command)
    main.add_command(session)
