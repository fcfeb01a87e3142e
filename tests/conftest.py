"""Fixtures: a real PostgreSQL and a real MongoDB-wire server for the whole session.

PostgreSQL is the one named by AURA_TEST_DATABASE_URL (CI points it at the machine's server),
otherwise an embedded one. Each test starts from empty tables and collections.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pymongo import MongoClient
from pymongo.database import Database

from aura import migrate
from aura.app import create_app
from aura.settings import Settings
from tests import servers

AURA_TABLES = "users, sessions, personal_access_tokens, password_reset_tokens"


@pytest.fixture(scope="session")
def admin_database_url() -> Iterator[str]:
    url = os.environ.get("AURA_TEST_DATABASE_URL")
    if url:
        yield url
        return
    embedded = servers.EmbeddedPostgres()
    yield embedded.url()
    embedded.cleanup()


@pytest.fixture(scope="session")
def database_url(admin_database_url: str) -> Iterator[str]:
    name = servers.test_database_name()
    servers.create_database(admin_database_url, name)
    url = servers.database_url(admin_database_url, name)
    migrate.upgrade(url)
    yield url
    servers.drop_database(admin_database_url, name)


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[servers.Secantus]:
    server = servers.Secantus.create()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stoppable_postgres() -> Iterator[tuple[servers.EmbeddedPostgres, str]]:
    """A migrated embedded PostgreSQL of its own, for tests that stop and start it."""
    server = servers.EmbeddedPostgres()
    servers.create_database(server.url(), "aura")
    url = server.url("aura")
    migrate.upgrade(url)
    yield server, url
    server.cleanup()


@pytest.fixture
def settings(database_url: str, mongo_server: servers.Secantus, tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        mongo_uri=mongo_server.uri,
        mongo_db="aura_test",
        aura_data_dir=tmp_path,
        secret_key="test-secret-key-that-is-long-enough-for-tests",
        bcrypt_rounds=4,
    )


def replace_settings(settings: Settings, **changes) -> Settings:
    """A validated copy of `settings` with some values changed."""
    return Settings(_env_file=None, **{**settings.model_dump(), **changes})


@pytest.fixture(autouse=True)
def clean_databases(request: pytest.FixtureRequest) -> None:
    """Empty Aura's tables and collections before each test that uses the databases."""
    if "database_url" in request.fixturenames:
        with psycopg.connect(request.getfixturevalue("database_url"), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {AURA_TABLES} RESTART IDENTITY")
    if "mongo_server" in request.fixturenames:
        client = MongoClient(request.getfixturevalue("mongo_server").uri)
        for name in ("conversations", "messages"):
            client["aura_test"][name].delete_many({})
        client.close()


@pytest.fixture
def mongo_db(mongo_server: servers.Secantus) -> Iterator[Database]:
    """The test database through a plain client, to arrange and inspect data behind Aura."""
    client = MongoClient(mongo_server.uri, tz_aware=True)
    yield client["aura_test"]
    client.close()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
