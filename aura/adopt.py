"""`aura db adopt --check`: how Aura sees a database that Laravel already migrated.

Before pointing Aura at a live Laravel database, an operator wants to know which of Aura's
tables are there, how their shape differs from the one Aura expects (DESIGN.md, mirrored by
the table models) and what `aura db upgrade` would do. This module answers from the catalogue
alone, inside a read-only transaction, so that a check can never change the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql

import aura.accounts.models  # noqa: F401  (registers the tables on the metadata)
import aura.tokens.models  # noqa: F401
from aura.db import async_url, metadata
from aura.migrate import alembic_config

TABLES = ("users", "password_reset_tokens", "sessions", "personal_access_tokens")
# Laravel 9 and older name the reset table this way; Aura uses it as it is.
LEGACY_RESETS = "password_resets"
# Columns the upgrade adds where an older Laravel left them out (revision 0002).
ADDED_BY_UPGRADE = {("personal_access_tokens", "expires_at")}
# Optional columns that Aura reads when a Laravel app added them (see aura/app.py).
SHOWN_WHEN_PRESENT = {"avatar_url"}
# Differences Laravel itself produces and Aura works with.
KNOWN_VARIANTS = {("personal_access_tokens", "name", "TEXT"), ("users", "name", "TEXT")}

_DIALECT = postgresql.dialect()

_ELSEWHERE_SQL = sa.text(
    "SELECT table_schema, table_name FROM information_schema.tables"
    " WHERE table_name IN :names AND table_schema <> current_schema()"
    " ORDER BY table_schema, table_name"
).bindparams(sa.bindparam("names", expanding=True))


@dataclass
class TableReport:
    """One of Aura's tables as found: under which name, and how it differs."""

    name: str
    found_as: str | None
    differences: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    to_add: list[str] = field(default_factory=list)


@dataclass
class AdoptionReport:
    schema: str
    applied: list[str]
    heads: list[str]
    tables: list[TableReport]
    changes: list[str]
    problems: list[str]
    elsewhere: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        """False when the upgrade would fail or Aura could not work on this database."""
        return not self.problems and not any(table.problems for table in self.tables)

    def render(self) -> str:
        applied = ", ".join(self.applied) or "none (not yet adopted)"
        lines = [
            f"Schema: {self.schema}",
            f"Aura revisions applied: {applied}; this version expects {', '.join(self.heads)}",
            "Tables:",
        ]
        for table in self.tables:
            lines.extend(_table_lines(table))
        if self.elsewhere:
            names = ", ".join(f"{schema}.{name}" for schema, name in self.elsewhere)
            lines.append(f"Also in other schemas (left alone): {names}")
        lines.append("The upgrade would:" if self.changes else "The upgrade would change nothing")
        lines.extend(f"  - {change}" for change in self.changes)
        lines.extend(f"Problem: {problem}" for problem in self.problems)
        return "\n".join(lines)


def _table_lines(table: TableReport) -> list[str]:
    if table.found_as is None:
        return [f"  {table.name}: missing"]
    shown = table.name if table.found_as == table.name else f"{table.name} as {table.found_as}"
    if not table.differences and not table.problems:
        return [f"  {shown}: found, as expected"]
    lines = [f"  {shown}: found"]
    lines.extend(f"    - {difference}" for difference in table.differences)
    lines.extend(f"    ! {problem}" for problem in table.problems)
    return lines


def _type_name(type_: sa.types.TypeEngine) -> str:
    return str(type_.compile(dialect=_DIALECT))


def _compare_columns(inspector, table: sa.Table, found_as: str, report: TableReport) -> None:
    found = {column["name"]: column for column in inspector.get_columns(found_as)}
    for column in table.columns:
        actual = found.pop(column.name, None)
        if actual is None:
            if (table.name, column.name) in ADDED_BY_UPGRADE:
                report.to_add.append(column.name)
                report.differences.append(f"column {column.name} missing (the upgrade adds it)")
            else:
                report.problems.append(f"column {column.name} missing: Aura needs it")
            continue
        _compare_column(table.name, column, actual, report)
    for name, actual in found.items():
        use = "shown in the user JSON" if name in SHOWN_WHEN_PRESENT else "Aura ignores it"
        report.differences.append(f"extra column {name} (kept; {use})")
        if _needs_a_value(actual):
            report.problems.append(
                f"extra column {name} is NOT NULL without a default: Aura cannot insert rows"
            )


def _needs_a_value(column: dict) -> bool:
    """True for a column an INSERT that leaves it out would violate."""
    return not (
        column["nullable"]
        or column.get("default") is not None
        or column.get("identity")
        or column.get("computed")
    )


def _compare_column(table: str, column: sa.Column, actual: dict, report: TableReport) -> None:
    expected_type, actual_type = _type_name(column.type), _type_name(actual["type"])
    if expected_type != actual_type:
        known = (table, column.name, actual_type) in KNOWN_VARIANTS
        note = "a Laravel variant Aura works with" if known else "kept as it is"
        report.differences.append(
            f"column {column.name} is {actual_type.lower()}, expected "
            f"{expected_type.lower()} ({note})"
        )
    if actual["nullable"] != column.nullable:
        state = "nullable" if actual["nullable"] else "NOT NULL"
        report.differences.append(f"column {column.name} is {state} (kept as it is)")


def _expected_keys(table: sa.Table) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, columns) of the primary key, unique constraints and indexes Aura expects."""
    keys = [("primary key", tuple(column.name for column in table.primary_key.columns))]
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            keys.append(("unique", tuple(column.name for column in constraint.columns)))
    for index in table.indexes:
        keys.append(("index", tuple(column.name for column in index.columns)))
    return keys


def _actual_keys(inspector, found_as: str) -> dict[str, set[tuple[str, ...]]]:
    primary = tuple(inspector.get_pk_constraint(found_as)["constrained_columns"] or ())
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(found_as)}
    indexes = inspector.get_indexes(found_as)
    unique |= {tuple(index["column_names"]) for index in indexes if index["unique"]}
    # Any index (or key) whose columns match serves Aura's lookups, whatever its name.
    indexed = {tuple(index["column_names"]) for index in indexes} | unique | {primary}
    return {"primary key": {primary}, "unique": unique | {primary}, "index": indexed}


def _compare_keys(inspector, table: sa.Table, found_as: str, report: TableReport) -> None:
    actual = _actual_keys(inspector, found_as)
    for kind, columns in _expected_keys(table):
        if columns not in actual[kind]:
            report.differences.append(f"no {kind} on ({', '.join(columns)})")


def _sequence_behind(connection: sa.Connection, table: str) -> bool:
    """True when the `id` sequence would hand out an id that a row already has.

    A dump restored without its setval() leaves the sequence at the start while rows exist.
    """
    sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
    if sequence is None:
        return False
    quoted = connection.dialect.identifier_preparer.quote(table)
    return connection.scalar(
        sa.text(
            f"SELECT coalesce(max(id), 0) > coalesce(pg_sequence_last_value(CAST(:s AS regclass)),"
            f" 0) FROM {quoted}"
        ),
        {"s": sequence},
    )


def _inspect_table(inspector, existing: set[str], name: str) -> TableReport:
    found_as = name if name in existing else None
    if name == "password_reset_tokens" and found_as is None and LEGACY_RESETS in existing:
        found_as = LEGACY_RESETS
    report = TableReport(name=name, found_as=found_as)
    if found_as is not None:
        table = metadata.tables[name]
        _compare_columns(inspector, table, found_as, report)
        _compare_keys(inspector, table, found_as, report)
        if "id" in table.c and _sequence_behind(inspector.bind, found_as):
            report.problems.append("the id sequence is behind the rows: new rows would collide")
    return report


def _baseline_changes(tables: list[TableReport]) -> list[str]:
    missing = [table.name for table in tables if table.found_as is None]
    return [f"create table {name} as Laravel migrates it" for name in missing]


def _expires_at_changes(tables: list[TableReport]) -> list[str]:
    tokens = next(table for table in tables if table.name == "personal_access_tokens")
    if "expires_at" not in tokens.to_add:
        return []
    return ["add column personal_access_tokens.expires_at timestamp(0) null (Sanctum 3 guide)"]


# What each revision does on a given database; a revision not listed shows its docstring.
_REVISION_CHANGES = {"0001": _baseline_changes, "0002": _expires_at_changes}


def _planned_changes(script: ScriptDirectory, applied: list[str], tables) -> list[str]:
    pending = list(script.iterate_revisions("heads", applied[0] if applied else "base"))
    changes: list[str] = []
    for revision in reversed(pending):
        describe = _REVISION_CHANGES.get(revision.revision)
        if describe is None:
            changes.append(f"apply revision {revision.revision}: {revision.doc}")
        else:
            changes.extend(describe(tables))
    if pending:
        target = ", ".join(script.get_heads())
        verb = "create alembic_version and record" if not applied else "record"
        changes.append(f"{verb} revision {target}, marking Aura's baseline as present")
    return changes


def inspect_database(url: str) -> AdoptionReport:
    """Inspect the database at `url` without changing anything."""
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = sa.create_engine(async_url(url))
    try:
        with engine.connect().execution_options(postgresql_readonly=True) as connection:
            return _report(connection, script)
    finally:
        engine.dispose()


def _off_the_search_path(schema: str, other: str) -> str:
    # Laravel pins search_path in its config; Aura uses the connection's. When they differ,
    # an upgrade would create a second, empty set of tables beside the real ones.
    return (
        f"Aura's tables are in schema {other}, not in {schema}: add "
        f"options=-csearch_path%3D{other} to DATABASE_URL"
    )


def _report(connection: sa.Connection, script: ScriptDirectory) -> AdoptionReport:
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    tables = [_inspect_table(inspector, existing, name) for name in TABLES]
    applied = sorted(MigrationContext.configure(connection).get_current_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    problems = [
        f"alembic_version holds revision {revision}, unknown to Aura: the upgrade would fail"
        for revision in applied
        if revision not in known
    ]
    changes = [] if problems else _planned_changes(script, applied, tables)
    elsewhere = connection.execute(_ELSEWHERE_SQL, {"names": [*TABLES, LEGACY_RESETS]}).all()
    schema = connection.scalar(sa.text("SELECT current_schema()"))
    if elsewhere and all(table.found_as is None for table in tables):
        problems.append(_off_the_search_path(schema, elsewhere[0].table_schema))
    return AdoptionReport(
        schema=schema,
        applied=applied,
        heads=sorted(script.get_heads()),
        tables=tables,
        changes=changes,
        problems=problems,
        elsewhere=[(row.table_schema, row.table_name) for row in elsewhere],
    )
