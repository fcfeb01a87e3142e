"""Counting `last_used_at` writes with a trigger in the scratch database.

A trigger sees every write, whichever process makes it, without touching Aura's code; the
benchmark then checks that no token was written twice within one interval.
"""

from __future__ import annotations

import math
from datetime import datetime

import psycopg

from aura.tokens.scheme import parse_bearer

INSTALL = """
CREATE TABLE bench_token_touches (
    token_id bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION bench_count_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_used_at IS DISTINCT FROM OLD.last_used_at THEN
        INSERT INTO bench_token_touches (token_id) VALUES (NEW.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bench_count_touch AFTER UPDATE ON personal_access_tokens
    FOR EACH ROW EXECUTE FUNCTION bench_count_touch();
"""


def install(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(INSTALL)


def now(database_url: str) -> datetime:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT clock_timestamp()").fetchone()[0]


def count(database_url: str, tokens: list[str], since: datetime, interval: int) -> dict:
    """Writes per token since `since`, and how many came closer together than the interval
    allows (`timestamp(0)` truncates to the second, so one second of slack)."""
    ids = [parse_bearer(f"Bearer {token}").id for token in tokens]
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT token_id, at, clock_timestamp() FROM bench_token_touches"
            " WHERE token_id = ANY(%s) AND at >= %s ORDER BY token_id, at",
            (ids, since),
        ).fetchall()
        ended = connection.execute("SELECT clock_timestamp()").fetchone()[0]
    per_token: dict[int, list[datetime]] = {}
    for token_id, at, _ in rows:
        per_token.setdefault(token_id, []).append(at)
    too_close = sum(
        1 for stamps in per_token.values() for a, b in zip(stamps, stamps[1:])
        if (b - a).total_seconds() < interval - 1
    )
    seconds = (ended - since).total_seconds()
    return {
        "writes": len(rows), "tokens": len(ids), "seconds": seconds,
        "max_per_token": max((len(s) for s in per_token.values()), default=0),
        "allowed_per_token": math.ceil(seconds / interval) + 1,
        "too_close": too_close,
    }
