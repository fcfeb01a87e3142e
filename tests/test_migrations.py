"""The baseline migration creates Laravel's four identity tables exactly (DESIGN.md)."""

import psycopg
import pytest

from aura import migrate
from tests import servers

# (column, type as PostgreSQL's format_type() prints it, nullable), from DESIGN.md.
EXPECTED_COLUMNS = {
    "users": [
        ("id", "bigint", False),
        ("name", "character varying(255)", False),
        ("email", "character varying(255)", False),
        ("email_verified_at", "timestamp(0) without time zone", True),
        ("password", "character varying(255)", False),
        ("remember_token", "character varying(100)", True),
        ("created_at", "timestamp(0) without time zone", True),
        ("updated_at", "timestamp(0) without time zone", True),
    ],
    "password_reset_tokens": [
        ("email", "character varying(255)", False),
        ("token", "character varying(255)", False),
        ("created_at", "timestamp(0) without time zone", True),
    ],
    "sessions": [
        ("id", "character varying(255)", False),
        ("user_id", "bigint", True),
        ("ip_address", "character varying(45)", True),
        ("user_agent", "text", True),
        ("payload", "text", False),
        ("last_activity", "integer", False),
    ],
    "personal_access_tokens": [
        ("id", "bigint", False),
        ("tokenable_type", "character varying(255)", False),
        ("tokenable_id", "bigint", False),
        ("name", "character varying(255)", False),
        ("token", "character varying(64)", False),
        ("abilities", "text", True),
        ("last_used_at", "timestamp(0) without time zone", True),
        ("expires_at", "timestamp(0) without time zone", True),
        ("created_at", "timestamp(0) without time zone", True),
        ("updated_at", "timestamp(0) without time zone", True),
    ],
}

EXPECTED_INDEXES = {
    ("users", "users_pkey", "PRIMARY KEY (id)"),
    ("users", "users_email_unique", "UNIQUE (email)"),
    ("password_reset_tokens", "password_reset_tokens_pkey", "PRIMARY KEY (email)"),
    ("sessions", "sessions_pkey", "PRIMARY KEY (id)"),
    ("sessions", "sessions_user_id_index", "btree (user_id)"),
    ("sessions", "sessions_last_activity_index", "btree (last_activity)"),
    ("personal_access_tokens", "personal_access_tokens_pkey", "PRIMARY KEY (id)"),
    ("personal_access_tokens", "personal_access_tokens_token_unique", "UNIQUE (token)"),
    (
        "personal_access_tokens",
        "personal_access_tokens_tokenable_type_tokenable_id_index",
        "btree (tokenable_type, tokenable_id)",
    ),
}

COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relname <> 'alembic_version'
ORDER BY c.relname, a.attnum
"""

# Constraints and plain indexes, each as (table, name, definition).
INDEXES_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT tablename, indexname, substring(indexdef from 'USING (.*)$')
FROM pg_indexes i WHERE schemaname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
"""


@pytest.fixture
def empty_database(admin_database_url):
    name = f"aura_migration_{servers.test_database_name()}"
    servers.create_database(admin_database_url, name)
    yield servers.database_url(admin_database_url, name)
    servers.drop_database(admin_database_url, name)


def _catalogue(url: str):
    with psycopg.connect(url) as connection:
        columns = connection.execute(COLUMNS_SQL).fetchall()
        indexes = connection.execute(INDEXES_SQL).fetchall()
    tables: dict[str, list] = {}
    for table, column, type_, nullable in columns:
        tables.setdefault(table, []).append((column, type_, nullable))
    return tables, {row for row in indexes if row[0] != "alembic_version"}


def test_upgrade_on_an_empty_database_creates_exactly_laravels_tables(empty_database):
    migrate.upgrade(empty_database)

    tables, indexes = _catalogue(empty_database)

    assert tables == EXPECTED_COLUMNS
    assert indexes == EXPECTED_INDEXES


def test_ids_are_bigserial_so_laravel_and_aura_share_the_sequences(empty_database):
    migrate.upgrade(empty_database)

    with psycopg.connect(empty_database) as connection:
        defaults = dict(
            connection.execute(
                "SELECT table_name, column_default FROM information_schema.columns"
                " WHERE column_name = 'id' AND table_schema = 'public'"
                " AND table_name IN ('users', 'personal_access_tokens')"
            ).fetchall()
        )

    assert defaults == {
        "users": "nextval('users_id_seq'::regclass)",
        "personal_access_tokens": "nextval('personal_access_tokens_id_seq'::regclass)",
    }


def test_upgrade_twice_changes_nothing_and_reports_up_to_date(empty_database):
    migrate.upgrade(empty_database)
    before = _catalogue(empty_database)

    migrate.upgrade(empty_database)

    assert _catalogue(empty_database) == before
    assert not migrate.pending(empty_database)


def test_a_fresh_database_is_reported_as_pending(empty_database):
    assert migrate.pending(empty_database)
