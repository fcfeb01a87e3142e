"""`aura user list|disable|enable` and `aura session prune` against the real database."""

import asyncio
import time

import psycopg
from click.testing import CliRunner

from aura.cli import main
from tests.identity import bearer, login, register, user_with_token


def _invoke(database_url, *args):
    env = {"DATABASE_URL": database_url, "AURA_ENV": "development"}
    return CliRunner().invoke(main, list(args), env=env)


async def _aura(database_url, *args):
    """Run a command in a thread: it has its own event loop, as it does from a shell."""
    result = await asyncio.to_thread(_invoke, database_url, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _sql(database_url, sql, *params):
    with psycopg.connect(database_url, autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


async def test_a_disabled_user_cannot_log_in_and_its_token_and_session_stop_working(
    client, database_url
):
    _, token = await user_with_token(client)
    await login(client)
    assert (await client.get("/api/auth/me")).status_code == 200

    output = await _aura(database_url, "user", "disable", "ALICE@example.test")

    assert "deleted 1 token(s)" in output
    assert _sql(database_url, "SELECT count(*) FROM sessions WHERE user_id = 1") == [(0,)]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401
    assert (await client.get("/api/auth/me")).status_code == 401
    client.cookies.clear()
    assert (await login(client)).status_code == 401


async def test_disabling_keeps_the_hash_so_enable_restores_the_old_password(
    client, database_url
):
    await register(client)
    client.cookies.clear()
    [(original,)] = _sql(database_url, "SELECT password FROM users")

    await _aura(database_url, "user", "disable", "alice@example.test")
    [(locked,)] = _sql(database_url, "SELECT password FROM users")
    output = await _aura(database_url, "user", "enable", "alice@example.test")

    assert locked == "!" + original
    assert "enabled" in output
    assert (await login(client)).status_code == 200


async def test_disabling_twice_changes_nothing_more(client, database_url):
    await register(client)
    await _aura(database_url, "user", "disable", "alice@example.test")

    output = await _aura(database_url, "user", "disable", "alice@example.test")

    assert "was already disabled" in output
    assert _sql(database_url, "SELECT left(password, 2) FROM users") == [("!$",)]


async def test_enable_leaves_an_account_whose_mark_keeps_no_hash(client, database_url):
    await register(client)
    _sql(database_url, "UPDATE users SET password = '!deleted'")

    output = await _aura(database_url, "user", "enable", "alice@example.test")

    assert "was not disabled" in output
    assert _sql(database_url, "SELECT password FROM users") == [("!deleted",)]


def test_disabling_an_unknown_email_fails_cleanly(database_url):
    result = _invoke(database_url, "user", "disable", "nobody@example.test")

    assert result.exit_code == 1
    assert "no user has that email" in result.output


async def test_user_list_shows_status_and_counts_without_secrets(client, database_url):
    _, token = await user_with_token(client)
    await register(client, email="bob@example.test", name="Bob")
    client.cookies.clear()
    await _aura(database_url, "user", "disable", "bob@example.test")

    output = await _aura(database_url, "user", "list")

    alice, bob = (line.split() for line in output.splitlines()[1:3])
    assert alice == ["1", "alice@example.test", "active", "1", "1", "Alice"]
    assert bob == ["2", "bob@example.test", "disabled", "0", "0", "Bob"]
    assert output.splitlines()[-1] == "2 user(s)"
    assert "$2y$" not in output and token.split("|")[1] not in output


async def test_session_prune_removes_only_sessions_idle_past_the_lifetime(client, database_url):
    await register(client)
    client.cookies.clear()
    await register(client, email="bob@example.test")
    stale = int(time.time()) - 121 * 60
    _sql(database_url, "UPDATE sessions SET last_activity = %s WHERE user_id = 1", stale)

    output = await _aura(database_url, "session", "prune")

    assert output.strip() == "Pruned 1 expired session(s)"
    assert _sql(database_url, "SELECT user_id FROM sessions WHERE user_id IS NOT NULL") == [(2,)]
