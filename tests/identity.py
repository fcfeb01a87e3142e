"""Helpers that drive the identity endpoints the way the SPA does."""

from __future__ import annotations

import hashlib
import zlib

import psycopg

PASSWORD = "correct horse battery staple"


async def prime_csrf(client) -> str:
    """GET /sanctum/csrf-cookie and return the XSRF-TOKEN value to echo back."""
    await client.get("/sanctum/csrf-cookie")
    return client.cookies.get("XSRF-TOKEN")


async def register(client, email: str = "alice@example.test", name: str = "Alice",
                   password: str = PASSWORD):
    xsrf = await prime_csrf(client)
    return await client.post(
        "/api/auth/register",
        json={"name": name, "email": email, "password": password,
              "password_confirmation": password},
        headers={"X-XSRF-TOKEN": xsrf},
    )


async def login(client, email: str = "alice@example.test", password: str = PASSWORD):
    xsrf = await prime_csrf(client)
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password},
        headers={"X-XSRF-TOKEN": xsrf},
    )


async def mint(client, **body) -> str:
    """Mint a token with the client's session; returns `id|secret`."""
    response = await client.post(
        "/api/auth/token", json=body, headers={"X-XSRF-TOKEN": client.cookies.get("XSRF-TOKEN")}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def user_with_token(client, email: str = "alice@example.test", **body) -> tuple[int, str]:
    """Register a user, mint a token, and drop the cookies: the token alone authenticates."""
    user_id = (await register(client, email=email)).json()["user"]["id"]
    token = await mint(client, **body)
    client.cookies.clear()
    return user_id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def laravel_secret(body: str) -> str:
    """A secret as Sanctum 4 builds it: 40 characters and their CRC32b."""
    return f"{body}{zlib.crc32(body.encode()):08x}"


def insert_token_row(database_url: str, user_id: int, secret: str, *, abilities='["*"]',
                     tokenable_type="App\\Models\\User", expires_at=None,
                     created_at="now()") -> int:
    """Write a token row the way Laravel's createToken does, bypassing Aura."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        return connection.execute(
            "INSERT INTO personal_access_tokens (tokenable_type, tokenable_id, name, token,"
            " abilities, expires_at, created_at, updated_at)"
            f" VALUES (%s, %s, 'laravel', %s, %s, %s, {created_at}, now()) RETURNING id",
            (tokenable_type, user_id, hashlib.sha256(secret.encode()).hexdigest(), abilities,
             expires_at),
        ).fetchone()[0]
