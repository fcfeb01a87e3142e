"""Sanctum-compatible personal access tokens: format, storage, validation, revocation."""

import asyncio
import hashlib
import re
import zlib

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from aura.app import create_app
from aura.tokens.scheme import BearerToken, NewAccessToken, parse_bearer
from tests.conftest import replace_settings
from tests.identity import (
    bearer,
    insert_token_row,
    laravel_secret,
    mint,
    register,
    user_with_token,
)


def _row(database_url, token_id):
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT tokenable_type, tokenable_id, name, token, abilities, last_used_at,"
            " expires_at, created_at FROM personal_access_tokens WHERE id = %s", (token_id,)
        ).fetchone()


async def test_register_login_mint_use_revoke_in_one_flow(client):
    user_id = (await register(client)).json()["user"]["id"]
    token = await mint(client)
    client.cookies.clear()

    me = await client.get("/api/user", headers=bearer(token))
    revoked = await client.post("/api/auth/token/revoke", headers=bearer(token))
    after = await client.get("/api/user", headers=bearer(token))

    assert me.status_code == 200
    assert me.json()["id"] == user_id
    assert revoked.json() == {"revoked": True}
    assert after.status_code == 401
    assert after.json() == {"message": "Unauthenticated."}


async def test_minted_token_is_stored_exactly_as_sanctum_stores_it(client, database_url):
    user_id, token = await user_with_token(client)
    token_id, secret = token.split("|", 1)

    row = _row(database_url, int(token_id))

    assert re.fullmatch(r"[A-Za-z0-9]{40}[0-9a-f]{8}", secret)
    assert secret[40:] == f"{zlib.crc32(secret[:40].encode()):08x}"
    assert row[0] == "App\\Models\\User"
    assert row[1] == user_id
    assert row[2] == "chat"
    assert row[3] == hashlib.sha256(secret.encode()).hexdigest()
    assert row[4] == '["*"]'
    assert row[7].microsecond == 0


async def test_minting_replaces_the_users_tokens_of_the_same_name_only(client, database_url):
    await register(client)
    first = await mint(client)
    other = await mint(client, name="cli")

    second = await mint(client)

    client.cookies.clear()
    assert (await client.get("/api/user", headers=bearer(first))).status_code == 401
    assert (await client.get("/api/user", headers=bearer(second))).status_code == 200
    assert (await client.get("/api/user", headers=bearer(other))).status_code == 200


async def test_a_token_row_written_by_laravel_authenticates(client, database_url):
    user_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    secret = laravel_secret("XHhX1VINcUhwADNIDPgHqHeYVlvxk6rcd6zzzfNx")
    token_id = insert_token_row(database_url, user_id, secret)

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))

    assert response.status_code == 200
    assert response.json()["id"] == user_id


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 40,  # Sanctum 2/3: 40 characters without checksum
        "aura_" + laravel_secret("GrEXw5jAiA6jY15tDjV6yu8ScjTesUIT2f5QEYuZ"),  # with a prefix
    ],
)
async def test_legacy_and_prefixed_secrets_authenticate(client, database_url, secret):
    user_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    token_id = insert_token_row(database_url, user_id, secret)

    with_id = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))
    bare = await client.get("/api/user", headers=bearer(secret))

    assert with_id.status_code == 200
    assert bare.status_code == 200


async def test_the_configured_prefix_starts_new_secrets(settings):
    app = create_app(replace_settings(settings, sanctum_token_prefix="aura_"))
    async with AsyncTestClient(app=app) as client:
        _, token = await user_with_token(client)

        response = await client.get("/api/user", headers=bearer(token))

    assert token.split("|", 1)[1].startswith("aura_")
    assert response.status_code == 200


async def test_the_secret_alone_without_id_authenticates(client):
    _, token = await user_with_token(client)

    response = await client.get("/api/user", headers=bearer(token.split("|", 1)[1]))

    assert response.status_code == 200


async def test_scheme_is_case_insensitive_and_text_after_a_comma_is_ignored(client):
    _, token = await user_with_token(client)

    response = await client.get("/api/user", headers={"Authorization": f"bearer {token}, x"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        'Bearer "5|x',
        "Bearer 5a|x",
        "Bearer |x",
        "Bearer 5|",
        "Bearer 99999999999999999999|x",
        "Bearer ١|x",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "",
        "Bearer " + "x" * 8192,
        "Bearer 1|" + "x" * 8192,
        "Bearer \x7f|x",
    ],
)
async def test_malformed_authorization_headers_are_401_never_500(client, header):
    await user_with_token(client)

    response = await client.get("/api/user", headers={"Authorization": header.encode()})

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


async def test_a_wrong_secret_for_an_existing_id_is_401(client):
    _, token = await user_with_token(client)
    token_id = token.split("|")[0]

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{'b' * 48}"))

    assert response.status_code == 401


async def test_token_with_past_expires_at_is_rejected(client, database_url):
    user_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    secret = laravel_secret("N" * 40)
    token_id = insert_token_row(
        database_url, user_id, secret, expires_at="2026-01-01 00:00:00"
    )

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))

    assert response.status_code == 401
    assert _row(database_url, token_id)[5] is None


async def test_token_older_than_the_global_expiration_is_rejected(settings, database_url):
    app = create_app(replace_settings(settings, sanctum_expiration=60))
    async with AsyncTestClient(app=app) as client:
        user_id = (await register(client)).json()["user"]["id"]
        client.cookies.clear()
        old = laravel_secret("O" * 40)
        fresh = laravel_secret("F" * 40)
        old_id = insert_token_row(database_url, user_id, old,
                                  created_at="now() - interval '61 minutes'")
        fresh_id = insert_token_row(database_url, user_id, fresh,
                                    created_at="now() - interval '59 minutes'")

        expired = await client.get("/api/user", headers=bearer(f"{old_id}|{old}"))
        valid = await client.get("/api/user", headers=bearer(f"{fresh_id}|{fresh}"))

    assert expired.status_code == 401
    assert valid.status_code == 200


async def test_token_with_future_expires_in_works_until_then(client, database_url):
    await register(client)
    token = await mint(client, expires_in="30d")
    client.cookies.clear()

    response = await client.get("/api/user", headers=bearer(token))

    assert response.status_code == 200
    assert _row(database_url, int(token.split("|")[0]))[6] is not None


async def test_token_of_a_deleted_user_is_rejected(client, database_url):
    user_id, token = await user_with_token(client)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM users WHERE id = %s", (user_id,))

    response = await client.get("/api/user", headers=bearer(token))

    assert response.status_code == 401


async def test_token_of_another_tokenable_type_is_rejected(client, database_url):
    user_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    secret = laravel_secret("T" * 40)
    token_id = insert_token_row(database_url, user_id, secret, tokenable_type="App\\Models\\Team")

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))

    assert response.status_code == 401


@pytest.mark.parametrize("abilities", ['{"a": 1}', "not json", "[1, 2]", None])
async def test_malformed_abilities_grant_nothing_but_still_authenticate(
    client, database_url, abilities
):
    user_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    secret = laravel_secret("M" * 40)
    token_id = insert_token_row(database_url, user_id, secret, abilities=abilities)

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))

    assert response.status_code == 200


async def test_an_invalid_bearer_beside_a_valid_session_is_401(client):
    await register(client)

    response = await client.get("/api/user", headers=bearer("1|wrong"))

    assert response.status_code == 401


async def test_200_concurrent_requests_with_one_token_succeed_and_write_last_used_once(
    client, database_url
):
    _, token = await user_with_token(client)
    token_id = int(token.split("|")[0])
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE token_touches (n int);"
            " CREATE FUNCTION count_touch() RETURNS trigger AS"
            " $$ BEGIN INSERT INTO token_touches VALUES (1); RETURN NEW; END $$ LANGUAGE plpgsql;"
            " CREATE TRIGGER count_touch AFTER UPDATE ON personal_access_tokens"
            " FOR EACH ROW EXECUTE FUNCTION count_touch();"
        )
    try:
        responses = await asyncio.gather(
            *(client.get("/api/user", headers=bearer(token)) for _ in range(200))
        )

        with psycopg.connect(database_url) as connection:
            writes = connection.execute("SELECT count(*) FROM token_touches").fetchone()[0]
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "DROP TRIGGER count_touch ON personal_access_tokens;"
                " DROP FUNCTION count_touch(); DROP TABLE token_touches;"
            )

    assert [r.status_code for r in responses] == [200] * 200
    assert writes == 1
    assert _row(database_url, token_id)[5] is not None


async def test_tokens_list_shows_no_secret_or_hash_and_delete_revokes_one(client, database_url):
    await register(client)
    keep = await mint(client, name="keep")
    drop = await mint(client, name="drop", abilities=["chat:read"])
    client.cookies.clear()

    listing = await client.get("/api/auth/tokens", headers=bearer(keep))
    drop_id = drop.split("|")[0]
    deleted = await client.delete(f"/api/auth/tokens/{drop_id}", headers=bearer(keep))

    tokens = listing.json()["tokens"]
    assert [t["name"] for t in tokens] == ["keep", "drop"]
    assert tokens[1]["abilities"] == ["chat:read"]
    assert "token" not in tokens[0] and drop.split("|")[1] not in listing.text
    assert deleted.status_code == 200
    assert (await client.get("/api/user", headers=bearer(drop))).status_code == 401


async def test_deleting_another_users_token_is_404_and_keeps_it(client):
    _, alice = await user_with_token(client, email="alice@example.test")
    _, bob = await user_with_token(client, email="bob@example.test")

    response = await client.delete(f"/api/auth/tokens/{alice.split('|')[0]}", headers=bearer(bob))

    assert response.status_code == 404
    assert (await client.get("/api/user", headers=bearer(alice))).status_code == 200


@pytest.mark.parametrize("path_id", ["abc", "-1", "1e3", "9" * 30])
async def test_deleting_a_token_with_a_bad_id_is_422(client, path_id):
    _, token = await user_with_token(client)

    response = await client.delete(f"/api/auth/tokens/{path_id}", headers=bearer(token))

    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{"abilities": "*"}, {"abilities": []}, {"abilities": [1]}, {"expires_in": "soon"},
     {"expires_in": -5}, {"name": 5}, {"name": "x" * 300}],
)
async def test_minting_with_bad_options_is_422_and_stores_nothing(client, database_url, body):
    await register(client)

    response = await client.post(
        "/api/auth/token", json=body, headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]}
    )

    assert response.status_code == 422
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM personal_access_tokens").fetchone()[0] == 0


async def test_session_revoke_removes_the_users_tokens_of_that_name(client):
    await register(client)
    token = await mint(client)

    response = await client.post(
        "/api/auth/token/revoke", json={}, headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]}
    )

    client.cookies.clear()
    assert response.json() == {"revoked": True}
    assert (await client.get("/api/user", headers=bearer(token))).status_code == 401


def test_token_objects_never_show_their_secret():
    new = NewAccessToken(id=7, plain_text="7|supersecretvalue")
    presented = parse_bearer("Bearer 7|supersecretvalue")

    assert "supersecretvalue" not in repr(new) + str(new)
    assert "supersecretvalue" not in repr(presented)
    assert presented == BearerToken(7, "supersecretvalue")
