"""Users: register, find, authenticate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.errors import UniqueViolation
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from aura.accounts import passwords
from aura.accounts.models import users
from aura.dates import iso_utc
from aura.errors import ValidationFailed
from aura.tokens.repository import utcnow

TAKEN = "The email has already been taken."


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    email_verified_at: datetime | None
    avatar_url: str | None = None

    def to_json(self, with_avatar: bool) -> dict:
        body = {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "email_verified_at": iso_utc(self.email_verified_at),
        }
        if with_avatar:
            body["avatar_url"] = self.avatar_url
        return body


def _columns(with_avatar: bool):
    columns = [users.c.id, users.c.name, users.c.email, users.c.email_verified_at]
    if with_avatar:
        columns.append(users.c.avatar_url if "avatar_url" in users.c else _avatar_column())
    return columns


def _avatar_column():
    from sqlalchemy import column

    return column("avatar_url")


def _user(row, with_avatar: bool) -> User:
    return User(
        id=row.id,
        name=row.name,
        email=row.email,
        email_verified_at=row.email_verified_at,
        avatar_url=row.avatar_url if with_avatar else None,
    )


def _by_email(email: str):
    """Case-insensitive match; an exact match wins where older data differs only by case."""
    return (
        select(users.c.id, users.c.password)
        .where(func.lower(users.c.email) == email.lower())
        .order_by((users.c.email == email).desc(), users.c.id)
        .limit(1)
    )


async def find_user(engine: AsyncEngine, user_id: int, with_avatar: bool) -> User | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(select(*_columns(with_avatar)).where(users.c.id == user_id))
        ).first()
    return _user(row, with_avatar) if row else None


async def user_id_for_email(engine: AsyncEngine, email: str) -> int | None:
    async with engine.connect() as connection:
        row = (await connection.execute(_by_email(email))).first()
    return row.id if row else None


async def email_taken(engine: AsyncEngine, email: str) -> bool:
    return await user_id_for_email(engine, email) is not None


async def create_user(
    engine: AsyncEngine, *, name: str, email: str, password: str, rounds: int
) -> int:
    """Insert a user; 422 when the email exists in any letter case."""
    hashed = passwords.hash_password(password, rounds)
    now = utcnow()
    if await email_taken(engine, email):
        raise ValidationFailed.field("email", TAKEN)
    try:
        async with engine.begin() as connection:
            return await connection.scalar(
                insert(users)
                .values(name=name, email=email, password=hashed, created_at=now, updated_at=now)
                .returning(users.c.id)
            )
    except IntegrityError as exc:
        if not _taken_email(exc):
            raise
        raise ValidationFailed.field("email", TAKEN) from exc


def _taken_email(exc: IntegrityError) -> bool:
    """A race on the email, as opposed to a Laravel database Aura cannot write to as it is.

    Aura writes no other unique column, so a unique violation is the email, unless it is the
    primary key (an id sequence behind the rows); a NOT NULL column an app added is another
    refusal that must not be reported as a taken email.
    """
    orig = exc.orig
    return isinstance(orig, UniqueViolation) and orig.diag.constraint_name != "users_pkey"


async def authenticate(engine: AsyncEngine, email: str, password: str, rounds: int) -> int | None:
    """The user id when the credentials match, else None.

    An unknown email is checked against a dummy hash so that both failures take as long.
    A match on an outdated hash (`$2a$`, `$2b$`, another cost) is rewritten as `$2y$`.
    """
    async with engine.connect() as connection:
        row = (await connection.execute(_by_email(email))).first()

    if row is None:
        passwords.verify_password(password, passwords.dummy_hash(rounds))
        return None
    if not passwords.verify_password(password, row.password):
        return None

    if passwords.needs_rehash(row.password, rounds):
        async with engine.begin() as connection:
            await connection.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(password=passwords.hash_password(password, rounds))
            )
    return row.id
