"""`aura db adopt --check` on databases Laravel wrote: what it finds, what it plans, and that
it changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from aura import adopt, migrate
from aura.cli import main
from tests import laravel_db, servers
from tests.laravel_db import LARAVEL_8, LARAVEL_11, LARAVEL_APP

FIXTURES = {"laravel-app": LARAVEL_APP, "laravel-8": LARAVEL_8, "laravel-11": LARAVEL_11}
RECORD = "create alembic_version and record revision 0002, marking Aura's baseline as present"
ADD_EXPIRES_AT = (
    "add column personal_access_tokens.expires_at timestamp(0) null (Sanctum 3 guide)"
)


def _adopt(url: str, *args: str):
    return CliRunner().invoke(main, ["db", "adopt", *args], env={"DATABASE_URL": url})


@pytest.fixture(scope="module", params=list(FIXTURES))
def fixture_url(request, admin_database_url) -> Iterator[str]:
    """A fixture as Laravel left it; only tests that change nothing may use it."""
    with laravel_db.laravel_database(admin_database_url, FIXTURES[request.param]) as url:
        yield url


@pytest.fixture
def laravel_8_url(admin_database_url) -> Iterator[str]:
    with laravel_db.laravel_database(admin_database_url, LARAVEL_8) as url:
        yield url


@pytest.fixture
def empty_url(admin_database_url) -> Iterator[str]:
    name = f"aura_adopt_{servers.test_database_name()}"
    servers.create_database(admin_database_url, name)
    yield servers.database_url(admin_database_url, name)
    servers.drop_database(admin_database_url, name)


def test_check_changes_nothing_in_the_database(fixture_url):
    catalogue, rows = laravel_db.catalogue(fixture_url), laravel_db.rows(fixture_url)

    result = _adopt(fixture_url, "--check")

    assert result.exit_code == 0, result.output
    assert laravel_db.catalogue(fixture_url) == catalogue
    assert laravel_db.rows(fixture_url) == rows


def test_check_finds_every_table_of_a_laravel_database(fixture_url):
    report = adopt.inspect_database(fixture_url)

    assert [table.found_as is not None for table in report.tables] == [True] * 4
    assert report.ok


def test_check_on_laravel_8_reports_its_older_layout(laravel_8_url):
    result = _adopt(laravel_8_url, "--check")

    assert "password_reset_tokens as password_resets: found" in result.output
    assert "no primary key on (email)" in result.output
    assert "extra column is_admin (kept; Aura ignores it)" in result.output
    assert "column expires_at missing (the upgrade adds it)" in result.output


def test_check_plans_exactly_what_the_upgrade_then_does_on_laravel_8(laravel_8_url):
    planned = adopt.inspect_database(laravel_8_url).changes

    migrate.upgrade(laravel_8_url)

    assert planned == [ADD_EXPIRES_AT, RECORD]
    assert laravel_db.query(
        laravel_8_url,
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'personal_access_tokens' AND column_name = 'expires_at'",
    ) == [(1,)]


def test_check_on_the_laravel_app_plans_only_the_record(admin_database_url):
    with laravel_db.laravel_database(admin_database_url, LARAVEL_APP) as url:
        report = adopt.inspect_database(url)

    assert report.changes == [RECORD]
    assert "extra column avatar_url (kept; shown in the user JSON)" in report.render()


def test_check_after_the_upgrade_plans_nothing(laravel_8_url):
    migrate.upgrade(laravel_8_url)

    result = _adopt(laravel_8_url, "--check")

    assert result.exit_code == 0
    assert "The upgrade would change nothing" in result.output


def test_check_on_an_empty_database_plans_laravels_four_tables(empty_url):
    report = adopt.inspect_database(empty_url)

    assert report.changes == [
        "create table users as Laravel migrates it",
        "create table password_reset_tokens as Laravel migrates it",
        "create table sessions as Laravel migrates it",
        "create table personal_access_tokens as Laravel migrates it",
        RECORD,
    ]


def test_a_name_column_of_type_text_is_reported_as_a_known_variant(laravel_8_url):
    laravel_db.query(laravel_8_url, "ALTER TABLE personal_access_tokens ALTER name TYPE text")

    report = adopt.inspect_database(laravel_8_url).render()

    assert "column name is text, expected varchar(255) (a Laravel variant" in report


@pytest.mark.parametrize(
    "base, setup, problem",
    [
        (
            "empty_url",
            "CREATE SCHEMA app; CREATE TABLE app.users (id bigint);"
            " CREATE TABLE app.personal_access_tokens (id bigint)",
            "Aura's tables are in schema app, not in public",
        ),
        (
            "empty_url",
            "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
            " INSERT INTO alembic_version VALUES ('abc123')",
            "revision abc123, unknown to Aura",
        ),
        (
            "laravel_8_url",
            "ALTER TABLE users ADD COLUMN username varchar(255) NOT NULL",
            "extra column username is NOT NULL without a default: Aura cannot insert rows",
        ),
        (
            "laravel_8_url",
            "INSERT INTO users (id, name, email, password) VALUES (1, 'O', 'o@example.test', 'x')",
            "the id sequence is behind the rows: new rows would collide",
        ),
    ],
    ids=["tables-off-the-search-path", "unknown-revision", "not-null-column", "sequence-behind"],
)
def test_check_fails_where_the_upgrade_or_aura_would_go_wrong(request, base, setup, problem):
    url = request.getfixturevalue(base)
    laravel_db.query(url, setup)

    result = _adopt(url, "--check")

    assert result.exit_code == 1
    assert problem in result.output


def test_adopt_without_check_upgrades_the_database(laravel_8_url):
    result = _adopt(laravel_8_url)

    assert result.exit_code == 0, result.output
    assert not migrate.pending(laravel_8_url)
