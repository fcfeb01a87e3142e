"""Reading and writing `personal_access_tokens` rows."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from aura.accounts.models import DELETION_MARK, users
from aura.tokens.models import personal_access_tokens as tokens
from aura.tokens.scheme import BearerToken, NewAccessToken, generate_secret, hash_secret


def utcnow() -> datetime:
    """Naive UTC truncated to the second, as Laravel writes timestamp(0) columns."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def parse_abilities(raw: str | None) -> tuple[str, ...]:
    """Abilities as stored by Sanctum: a JSON array of strings. Anything else grants nothing."""
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A stored token joined with its owner's state, enough to decide on a request."""

    id: int
    user_id: int
    tokenable_type: str
    name: str
    abilities: tuple[str, ...]
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime | None
    user_exists: bool

    def can(self, ability: str) -> bool:
        return "*" in self.abilities or ability in self.abilities

    def cant(self, ability: str) -> bool:
        return not self.can(ability)


_COLUMNS = (
    tokens.c.id,
    tokens.c.tokenable_id,
    tokens.c.tokenable_type,
    tokens.c.name,
    tokens.c.token,
    tokens.c.abilities,
    tokens.c.last_used_at,
    tokens.c.expires_at,
    tokens.c.created_at,
    users.c.id.label("user_id"),
)


def _lookup(by_id: bool):
    # An account being deleted counts as gone, even for a token minted while it was marked.
    owner = and_(
        users.c.id == tokens.c.tokenable_id, users.c.remember_token.is_distinct_from(DELETION_MARK)
    )
    joined = tokens.outerjoin(users, owner)
    query = select(*_COLUMNS).select_from(joined)
    if by_id:
        return query.where(tokens.c.id == bindparam("key"))
    return query.where(tokens.c.token == bindparam("key"))


def _touch():
    threshold = bindparam("threshold", type_=tokens.c.last_used_at.type)
    return (
        update(tokens)
        .where(tokens.c.id == bindparam("key"))
        .where(or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at <= threshold))
        .values(last_used_at=bindparam("now"), updated_at=bindparam("now"))
    )


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core statement compiled once to psycopg's SQL and its fixed parameters.

    The guard runs on every authenticated request; these are executed on the bare psycopg
    connection, so no statement is built, cached or wrapped per request.
    """

    sql: str
    params: dict

    @classmethod
    def compile(cls, statement) -> DriverStatement:
        compiled = statement.compile(dialect=psycopg_dialect())
        return cls(str(compiled), dict(compiled.params))

    async def execute(self, connection: psycopg.AsyncConnection, **params) -> psycopg.AsyncCursor:
        return await connection.execute(self.sql, {**self.params, **params})


_BY_ID = DriverStatement.compile(_lookup(by_id=True))
_BY_HASH = DriverStatement.compile(_lookup(by_id=False))
_TOUCH = DriverStatement.compile(_touch())


async def find_token(
    connection: psycopg.AsyncConnection, bearer: BearerToken
) -> AccessToken | None:
    """Sanctum's findToken: by id then hash compare, or by the hash of a bare secret."""
    digest = hash_secret(bearer.secret)
    if bearer.id is not None:
        cursor = await _BY_ID.execute(connection, key=bearer.id)
    else:
        cursor = await _BY_HASH.execute(connection, key=digest)
    row = await cursor.fetchone()
    if row is None:
        return None
    token_id, owner_id, tokenable_type, name, stored, abilities, *dates, user_id = row
    # Constant-time compare: the id is public, so the hash must not leak through timing.
    if not hmac.compare_digest(stored, digest):
        return None
    last_used_at, expires_at, created_at = dates
    return AccessToken(
        id=token_id,
        user_id=owner_id,
        tokenable_type=tokenable_type,
        name=name,
        abilities=parse_abilities(abilities),
        last_used_at=last_used_at,
        expires_at=expires_at,
        created_at=created_at,
        user_exists=user_id is not None,
    )


async def touch_last_used(
    connection: psycopg.AsyncConnection, token_id: int, interval: int
) -> bool:
    """Record use, at most once per `interval` seconds per token, across every process.

    The condition sits in the UPDATE itself so that concurrent requests write once.
    """
    now = utcnow()
    threshold = now - timedelta(seconds=interval)
    cursor = await _TOUCH.execute(connection, key=token_id, now=now, threshold=threshold)
    return cursor.rowcount == 1


async def create_token(
    connection: AsyncConnection,
    *,
    user_id: int,
    tokenable_type: str,
    name: str,
    abilities: list[str],
    expires_at: datetime | None,
    prefix: str,
) -> NewAccessToken:
    """Sanctum's createToken: store the hash, hand back `id|secret` once."""
    secret = generate_secret(prefix)
    now = utcnow()

    token_id = await connection.scalar(
        insert(tokens)
        .values(
            tokenable_type=tokenable_type,
            tokenable_id=user_id,
            name=name,
            token=hash_secret(secret),
            abilities=json.dumps(abilities, separators=(",", ":")),
            expires_at=expires_at.replace(microsecond=0) if expires_at else None,
            created_at=now,
            updated_at=now,
        )
        .returning(tokens.c.id)
    )

    return NewAccessToken(id=token_id, plain_text=f"{token_id}|{secret}")


def _owned(user_id: int, tokenable_type: str):
    return and_(tokens.c.tokenable_id == user_id, tokens.c.tokenable_type == tokenable_type)


async def delete_named(
    connection: AsyncConnection, user_id: int, tokenable_type: str, name: str
) -> int:
    result = await connection.execute(
        delete(tokens).where(_owned(user_id, tokenable_type)).where(tokens.c.name == name)
    )
    return result.rowcount


async def delete_token(
    connection: AsyncConnection, token_id: int, user_id: int | None = None,
    tokenable_type: str | None = None,
) -> bool:
    query = delete(tokens).where(tokens.c.id == token_id)
    if user_id is not None:
        query = query.where(_owned(user_id, tokenable_type))
    return (await connection.execute(query)).rowcount == 1


async def delete_all(connection: AsyncConnection, user_id: int, tokenable_type: str) -> int:
    """Revoke every token of the user: a password change, account deletion."""
    result = await connection.execute(delete(tokens).where(_owned(user_id, tokenable_type)))
    return result.rowcount


async def list_tokens(connection: AsyncConnection, user_id: int, tokenable_type: str) -> list[dict]:
    rows = await connection.execute(
        select(
            tokens.c.id, tokens.c.name, tokens.c.abilities, tokens.c.last_used_at,
            tokens.c.expires_at, tokens.c.created_at,
        )
        .where(_owned(user_id, tokenable_type))
        .order_by(tokens.c.id)
    )
    return [
        {
            "id": row.id,
            "name": row.name,
            "abilities": list(parse_abilities(row.abilities)),
            "last_used_at": row.last_used_at,
            "expires_at": row.expires_at,
            "created_at": row.created_at,
        }
        for row in rows
    ]


async def prune(connection: AsyncConnection, expiration_minutes: int | None, hours: int) -> int:
    """Sanctum's prune-expired: tokens past `expires_at`, or past the global expiration,
    by more than `hours`."""
    cutoff = utcnow() - timedelta(hours=hours)
    conditions = [and_(tokens.c.expires_at.is_not(None), tokens.c.expires_at < cutoff)]
    if expiration_minutes:
        conditions.append(
            tokens.c.created_at < cutoff - timedelta(minutes=expiration_minutes)
        )
    result = await connection.execute(delete(tokens).where(or_(*conditions)))
    return result.rowcount


async def count_tokens(connection: AsyncConnection) -> int:
    return await connection.scalar(select(func.count()).select_from(tokens))
