"""Helpers for the tests of a person's own sessions, password, deletion and export."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests import servers
from tests.identity import PASSWORD, prime_csrf

SESSION_COOKIE = "aura_session"


async def sign_in(client, agent: str, email: str = "alice@example.test",
                  password: str = PASSWORD) -> dict[str, str]:
    """Log in from a fresh cookie jar, as another device would; returns that device's cookies."""
    client.cookies.clear()
    xsrf = await prime_csrf(client)
    response = await client.post(
        "/api/auth/login", json={"email": email, "password": password},
        headers={"X-XSRF-TOKEN": xsrf, "User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    return dict(client.cookies)


def use(client, cookies: dict[str, str]) -> None:
    """Make the client speak as the device holding `cookies`."""
    client.cookies.clear()
    client.cookies.update(cookies)


async def status_as(client, device: dict[str, str]) -> int:
    """The status `GET /api/auth/me` answers the device holding these cookies."""
    use(client, device)
    return (await client.get("/api/auth/me")).status_code


def xsrf(client) -> dict[str, str]:
    return {"X-XSRF-TOKEN": client.cookies.get("XSRF-TOKEN")}


async def sessions_of(client) -> list[dict]:
    response = await client.get("/api/auth/sessions")
    assert response.status_code == 200, response.text
    return response.json()["sessions"]


def sql(database_url: str, statement: str, *params) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def rows_referring_to(database_url: str, user_id: int) -> dict[str, int]:
    """How many rows of each identity table still refer to the user."""
    return {
        "users": sql(database_url, "SELECT count(*) FROM users WHERE id = %s", user_id)[0][0],
        "sessions": sql(
            database_url, "SELECT count(*) FROM sessions WHERE user_id = %s", user_id
        )[0][0],
        "personal_access_tokens": sql(
            database_url, "SELECT count(*) FROM personal_access_tokens WHERE tokenable_id = %s",
            user_id,
        )[0][0],
    }


@pytest.fixture
def stoppable_mongo() -> Iterator[servers.Secantus]:
    """A SecantusDB of the test's own, which it may stop and start."""
    server = servers.Secantus.create()
    yield server
    server.stop()
