"""Aura on databases Laravel wrote: the upgrade adopts them, users and tokens keep working.

Each test loads a fixture from ../shared/fixtures into a fresh database with psql.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import bcrypt
import pytest
from litestar.testing import AsyncTestClient

from aura import migrate
from aura.accounts.passwords import hash_password
from aura.app import create_app
from aura.settings import Settings
from tests import laravel_db
from tests.conftest import replace_settings
from tests.identity import PASSWORD, bearer, login, mint, register
from tests.laravel_db import LARAVEL_8, LARAVEL_11, LARAVEL_APP

# What the upgrade adds to every Laravel database: Alembic's record of the applied revision.
ALEMBIC_VERSION = {
    ("relation", "public", "alembic_version", "r"),
    ("column", "public", "alembic_version", "version_num", "character varying(32)", True, None),
    ("constraint", "public", "alembic_version", "alembic_version_pkc", "PRIMARY KEY (version_num)"),
    (
        "index",
        "public",
        "alembic_version",
        "alembic_version_pkc",
        "CREATE UNIQUE INDEX alembic_version_pkc ON public.alembic_version"
        " USING btree (version_num)",
    ),
}
# Sanctum 2 left this column out; Sanctum 3's upgrade guide adds it, and so does Aura.
EXPIRES_AT = (
    "column", "public", "personal_access_tokens", "expires_at",
    "timestamp(0) without time zone", False, None,
)

FIXTURES = {"laravel-app": LARAVEL_APP, "laravel-8": LARAVEL_8, "laravel-11": LARAVEL_11}
ADDITIONS = {
    "laravel-app": ALEMBIC_VERSION,
    "laravel-8": ALEMBIC_VERSION | {EXPIRES_AT},
    "laravel-11": ALEMBIC_VERSION,
}


@dataclass(frozen=True)
class Adoption:
    """Snapshots of one fixture database before, after one and after a second upgrade."""

    fixture: str
    url: str
    catalogue: tuple[set, set, set]
    rows: tuple[dict, dict, dict]


@pytest.fixture(scope="module", params=list(FIXTURES))
def adoption(request, admin_database_url) -> Iterator[Adoption]:
    with laravel_db.laravel_database(admin_database_url, FIXTURES[request.param]) as url:
        snapshots = []
        for upgrades in range(3):
            if upgrades:
                migrate.upgrade(url)
            snapshots.append((laravel_db.catalogue(url), laravel_db.rows(url)))
        catalogues, rows = zip(*snapshots)
        yield Adoption(request.param, url, catalogues, rows)


def test_upgrade_adds_only_the_documented_objects(adoption):
    before, after, _ = adoption.catalogue

    assert after - before == ADDITIONS[adoption.fixture]


def test_upgrade_removes_or_alters_nothing_in_any_schema(adoption):
    before, after, _ = adoption.catalogue

    assert before - after == set()


def test_upgrade_keeps_every_row_laravel_wrote(adoption):
    before, after, _ = adoption.rows

    assert laravel_db.changed(before, after) == {"public.alembic_version"}


def test_upgrade_records_the_baseline_as_present(adoption):
    applied = migrate.current_heads(adoption.url)

    assert applied == migrate.expected_heads(adoption.url)


def test_upgrade_twice_changes_nothing_the_second_time(adoption):
    _, once, twice = zip(adoption.catalogue, adoption.rows)

    assert twice == once


# --- the Laravel application's own database: its users and tokens -----------------------

ALICE = ("alice@example.test", "correct horse battery staple")
BOB = ("bob@example.test", "Tr0ub4dor&3")
NANDU_EMAIL = "nandu@example.test"
# 48 characters, 78 UTF-8 bytes: Laravel hashed only the first 72.
NANDU_PASSWORD = "ñandú-🔥-" * 6
TOKEN_1 = "1|XHhX1VINcUhwADNIDPgHqHeYVlvxk6rcd6zzzfNx5950976d"
TOKEN_2 = "2|VrzWiZ30P4jasqOgvlpjhs6KtIAcB5G09FxnpFZX72b1a447"
TOKEN_3 = "3|NU4X6s7L0wO68bmuLVOnE5qLvHuxB8jsrq64zORba2a9d9d6"
TOKEN_5 = "5|aura_GrEXw5jAiA6jY15tDjV6yu8ScjTesUIT2f5QEYuZb22c1ba9"


@pytest.fixture(scope="module")
def adopted_laravel_app(admin_database_url):
    """The Laravel application's database, adopted by `aura db upgrade`."""
    with laravel_db.laravel_database(admin_database_url, LARAVEL_APP) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def laravel_app_url(adopted_laravel_app):
    """The adopted database with Laravel's rows as Laravel wrote them."""
    laravel_db.restore_laravel_app_rows(adopted_laravel_app)
    return adopted_laravel_app


@asynccontextmanager
async def aura_on(settings: Settings, url: str, **changes) -> AsyncIterator[AsyncTestClient]:
    """An Aura app on `url`; Laravel hashed laravel-app's passwords at cost 12."""
    changes = {"bcrypt_rounds": 12, **changes}
    changed = replace_settings(settings, database_url=url, **changes)
    async with AsyncTestClient(app=create_app(changed)) as client:
        yield client


@pytest.fixture
async def laravel_client(settings, laravel_app_url) -> AsyncIterator[AsyncTestClient]:
    async with aura_on(settings, laravel_app_url) as client:
        yield client


def _password_hash(url: str, email: str) -> str:
    return laravel_db.query(url, "SELECT password FROM users WHERE email = %s", email)[0][0]


def _set_password_hash(url: str, email: str, hashed: str) -> None:
    laravel_db.query(url, "UPDATE users SET password = %s WHERE email = %s", hashed, email)


def _token_ids(url: str) -> list[int]:
    return [row[0] for row in laravel_db.query(url, "SELECT id FROM personal_access_tokens")]


@pytest.mark.parametrize("email, password", [ALICE, BOB], ids=["alice", "bob"])
async def test_laravel_users_log_in_with_their_passwords(laravel_client, email, password):
    response = await login(laravel_client, email, password)

    assert response.status_code == 200
    assert response.json()["user"]["email"] == email


async def test_a_wrong_password_for_a_laravel_user_is_refused(laravel_client):
    response = await login(laravel_client, ALICE[0], "correct horse battery stapler")

    assert response.status_code == 401


async def test_nandu_logs_in_with_his_78_byte_password(laravel_client):
    response = await login(laravel_client, NANDU_EMAIL, NANDU_PASSWORD)

    assert response.status_code == 200
    assert response.json()["user"]["name"] == "Ñandú Ünïcode"


async def test_nandu_logs_in_with_the_first_72_bytes_of_his_password(laravel_client):
    first_72 = NANDU_PASSWORD.encode()[:72].decode()

    response = await login(laravel_client, NANDU_EMAIL, first_72)

    assert response.status_code == 200


async def test_the_user_json_shows_avatar_url_because_the_column_exists(laravel_client):
    response = await laravel_client.get("/api/user", headers=bearer(TOKEN_1))

    assert response.json() == {
        "id": 1,
        "name": "Alice Example",
        "email": "alice@example.test",
        "email_verified_at": None,
        "avatar_url": None,
    }


async def test_token_1_reads_and_writes_alices_chat(laravel_client):
    started = await laravel_client.post(
        "/chat/start", json={"title": "Hi"}, headers=bearer(TOKEN_1)
    )

    history = await laravel_client.get("/chat/history", headers=bearer(TOKEN_1))

    assert started.status_code == 201
    assert [c["id"] for c in history.json()["conversations"]] == [started.json()["id"]]


async def test_token_2_reads_chat_history_but_is_refused_on_writes(laravel_client):
    history = await laravel_client.get("/chat/history", headers=bearer(TOKEN_2))

    started = await laravel_client.post("/chat/start", json={}, headers=bearer(TOKEN_2))

    assert history.status_code == 200
    assert started.status_code == 403
    assert started.json() == {"message": "Invalid ability provided."}


async def test_using_token_1_records_last_used_at_as_laravel_does(laravel_client, laravel_app_url):
    last_used = "SELECT last_used_at FROM personal_access_tokens WHERE id = 1"
    before = laravel_db.query(laravel_app_url, last_used)[0][0]

    response = await laravel_client.get("/api/user", headers=bearer(TOKEN_1))

    assert response.status_code == 200
    assert laravel_db.query(laravel_app_url, last_used)[0][0] > before


async def test_expired_token_3_is_refused_and_not_marked_as_used(laravel_client, laravel_app_url):
    response = await laravel_client.get("/api/user", headers=bearer(TOKEN_3))

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}
    assert laravel_db.query(
        laravel_app_url, "SELECT last_used_at FROM personal_access_tokens WHERE id = 3"
    ) == [(None,)]


@pytest.mark.parametrize("prefix", ["", "aura_"], ids=["no-prefix", "prefix-aura_"])
async def test_prefixed_token_5_works_whatever_the_prefix_setting(
    settings, laravel_app_url, prefix
):
    async with aura_on(settings, laravel_app_url, sanctum_token_prefix=prefix) as client:
        response = await client.get("/api/user", headers=bearer(TOKEN_5))

    assert response.status_code == 200
    assert response.json()["id"] == 1


async def test_a_new_user_and_token_get_the_ids_after_laravels(laravel_client):
    registered = await register(laravel_client, "carol@example.test", "Carol")

    token = await mint(laravel_client)

    assert registered.status_code == 200
    assert registered.json()["user"]["id"] == 4
    assert token.startswith("6|")


async def test_hashes_aura_writes_start_with_2y_at_bcrypt_rounds(laravel_client, laravel_app_url):
    await register(laravel_client, "carol@example.test", "Carol")

    hashed = _password_hash(laravel_app_url, "carol@example.test")

    assert hashed.startswith("$2y$12$")


async def test_minting_with_a_session_replaces_alices_chat_token_like_laravel(
    laravel_client, laravel_app_url
):
    await login(laravel_client, *ALICE)

    token = await mint(laravel_client)

    laravel_client.cookies.clear()
    assert token.startswith("6|")
    assert sorted(_token_ids(laravel_app_url)) == [2, 3, 5, 6]
    assert (await laravel_client.get("/api/user", headers=bearer(TOKEN_1))).status_code == 401
    assert (await laravel_client.get("/api/user", headers=bearer(token))).status_code == 200


async def test_minting_with_token_1_deletes_token_1_itself_like_laravel(
    laravel_client, laravel_app_url
):
    response = await laravel_client.post("/api/auth/token", headers=bearer(TOKEN_1))

    token = response.json()["token"]
    assert response.json()["type"] == "Bearer"
    assert sorted(_token_ids(laravel_app_url)) == [2, 3, 5, 6]
    assert (await laravel_client.get("/api/user", headers=bearer(TOKEN_1))).status_code == 401
    assert (await laravel_client.get("/api/user", headers=bearer(token))).status_code == 200


async def test_a_token_aura_mints_is_stored_like_the_ones_laravel_wrote(
    laravel_client, laravel_app_url
):
    await login(laravel_client, *ALICE)

    token = await mint(laravel_client, name="reader2", abilities=["chat:read"])

    token_id, secret = token.split("|", 1)
    columns = "tokenable_type, tokenable_id, abilities, token"
    laravels, auras = (
        laravel_db.query(laravel_app_url, f"SELECT {columns} FROM personal_access_tokens"
                         " WHERE id = %s", number)[0]
        for number in (2, int(token_id))
    )
    assert auras[:3] == laravels[:3]
    assert auras[3] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret[40:] == f"{zlib.crc32(secret[:40].encode()):08x}"


@pytest.mark.parametrize("ident", ["2a", "2b"])
async def test_a_2a_or_2b_hash_is_rewritten_as_2y_on_login(laravel_client, laravel_app_url, ident):
    salt = bcrypt.gensalt(12, prefix=ident.encode())
    _set_password_hash(laravel_app_url, BOB[0], bcrypt.hashpw(BOB[1].encode(), salt).decode())

    response = await login(laravel_client, *BOB)

    hashed = _password_hash(laravel_app_url, BOB[0])
    assert response.status_code == 200
    assert hashed.startswith("$2y$12$")
    assert bcrypt.checkpw(BOB[1].encode(), hashed.replace("$2y$", "$2b$", 1).encode())


async def test_a_cost_below_bcrypt_rounds_is_raised_on_login(laravel_client, laravel_app_url):
    _set_password_hash(laravel_app_url, BOB[0], hash_password(BOB[1], rounds=4))

    await login(laravel_client, *BOB)

    assert _password_hash(laravel_app_url, BOB[0]).startswith("$2y$12$")


async def test_a_rehash_on_login_keeps_every_other_user_column(laravel_client, laravel_app_url):
    laravel_db.query(
        laravel_app_url,
        "UPDATE users SET google_id = 'g-1', avatar_url = 'https://cdn.test/a.png',"
        " password = %s WHERE id = 1",
        hash_password(ALICE[1], rounds=4),
    )
    row = "SELECT to_jsonb(users) FROM users WHERE id = 1"
    before = laravel_db.query(laravel_app_url, row)[0][0]

    response = await login(laravel_client, *ALICE)

    after = laravel_db.query(laravel_app_url, row)[0][0]
    assert {name for name in before if before[name] != after[name]} == {"password"}
    assert response.json()["user"]["avatar_url"] == "https://cdn.test/a.png"


# --- other applications' Laravel databases ------------------------------------------------

# What using Aura may change in a Laravel database: its own rows and their sequences.
AURAS_ROWS = {
    "public.users",
    "public.users_id_seq",
    "public.personal_access_tokens",
    "public.personal_access_tokens_id_seq",
    "public.sessions",
}


@pytest.fixture(params=["laravel-8", "laravel-11"])
def other_app_url(request, admin_database_url) -> Iterator[str]:
    with laravel_db.laravel_database(admin_database_url, FIXTURES[request.param]) as url:
        migrate.upgrade(url)
        yield url


async def _register_log_in_mint_and_use(client) -> dict:
    """The SPA's whole journey; returns what the token reads back as the user."""
    await register(client, "dana@example.test", "Dana", PASSWORD)
    client.cookies.clear()
    assert (await login(client, "dana@example.test", PASSWORD)).status_code == 200
    token = await mint(client)
    client.cookies.clear()
    response = await client.get("/api/user", headers=bearer(token))
    assert response.status_code == 200
    return response.json()


async def test_a_user_registers_logs_in_and_uses_a_token_on_another_apps_database(
    settings, other_app_url
):
    async with aura_on(settings, other_app_url, bcrypt_rounds=4) as client:
        user = await _register_log_in_mint_and_use(client)

    assert user == {
        "id": 1,
        "name": "Dana",
        "email": "dana@example.test",
        "email_verified_at": None,
    }


async def test_using_aura_changes_nothing_but_its_own_rows(settings, other_app_url):
    catalogue, rows = laravel_db.catalogue(other_app_url), laravel_db.rows(other_app_url)

    async with aura_on(settings, other_app_url, bcrypt_rounds=4) as client:
        await _register_log_in_mint_and_use(client)

    assert laravel_db.catalogue(other_app_url) == catalogue
    assert laravel_db.changed(rows, laravel_db.rows(other_app_url)) == AURAS_ROWS


async def test_name_columns_of_type_text_work_for_users_and_tokens(settings, other_app_url):
    laravel_db.query(
        other_app_url,
        "ALTER TABLE users ALTER COLUMN name TYPE text;"
        " ALTER TABLE personal_access_tokens ALTER COLUMN name TYPE text",
    )

    async with aura_on(settings, other_app_url, bcrypt_rounds=4) as client:
        user = await _register_log_in_mint_and_use(client)

    assert user["name"] == "Dana"
    assert laravel_db.query(other_app_url, "SELECT name FROM personal_access_tokens") == [
        ("chat",)
    ]


@pytest.mark.parametrize(
    "breakage",
    [
        "ALTER TABLE users ADD COLUMN username varchar(255) NOT NULL",
        "INSERT INTO users (id, name, email, password) VALUES (1, 'Old', 'old@example.test', 'x')",
    ],
    ids=["not-null-column-aura-cannot-fill", "sequence-behind-the-rows"],
)
async def test_a_user_row_the_database_refuses_is_not_called_a_taken_email(
    settings, other_app_url, breakage
):
    laravel_db.query(other_app_url, breakage)

    async with aura_on(settings, other_app_url, bcrypt_rounds=4) as client:
        response = await register(client, "dana@example.test", "Dana", PASSWORD)

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error."}
