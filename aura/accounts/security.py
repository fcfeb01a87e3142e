"""Confirming the password before a sensitive change, and changing it.

A logged-in session or a token is not enough to end other sessions, change the password or
delete the account: whoever holds a stolen cookie must still know the password. Wrong guesses
are throttled per user, so that such a cookie cannot be used to guess at bcrypt speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aura.accounts import passwords
from aura.accounts.devices import end_other_sessions
from aura.accounts.models import users
from aura.errors import TooManyAttempts, ValidationFailed
from aura.tokens import repository
from aura.validation import Checker

# Laravel's `current_password` rule says this.
INCORRECT = "The password is incorrect."
MIN_LENGTH = 8


def check_new_password(checker: Checker, data: dict, field: str = "password") -> str | None:
    """A new password: 8 characters to 72 bytes (bcrypt reads no further), confirmed."""
    password = checker.string(field)
    if password is None:
        return None
    if len(password) < MIN_LENGTH:
        checker.fail(field, f"The {field} field must be at least {MIN_LENGTH} characters.")
    elif len(password.encode("utf-8")) > passwords.MAX_BYTES:
        checker.fail(field, f"The {field} field must not be greater than 72 bytes.")
    elif data.get(f"{field}_confirmation") != password:
        checker.fail(field, f"The {field} field confirmation does not match.")
    return password


async def password_matches(engine: AsyncEngine, user_id: int, password: str) -> bool:
    async with engine.connect() as connection:
        hashed = await connection.scalar(select(users.c.password).where(users.c.id == user_id))
    return passwords.verify_password(password, hashed)


async def confirm_password(state, user_id: int, password: str, field: str = "password") -> None:
    """Return when `password` is the user's; else 422 on `field`, or 429 after five misses."""
    key = f"aura:confirm:{user_id}"
    if wait := await state.throttle.retry_after(key):
        raise TooManyAttempts(wait, f"Too many attempts. Please try again in {wait} seconds.")

    if not await password_matches(state.engine, user_id, password):
        await state.throttle.hit(key)
        raise ValidationFailed.field(field, INCORRECT)

    await state.throttle.clear(key)


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    sessions_ended: int
    tokens_revoked: int


async def change_password(
    engine: AsyncEngine, settings, user_id: int, password: str, keep_session: str | None
) -> PasswordChanged:
    """Store the new hash, end every other session and revoke every token, all at once.

    Whoever may have learnt the old password keeps nothing it gave them.
    """
    hashed = passwords.hash_password(password, settings.bcrypt_rounds)

    async with engine.begin() as connection:
        await connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password=hashed, updated_at=repository.utcnow())
        )
        ended = await end_other_sessions(connection, user_id, keep_session)
        revoked = await repository.delete_all(
            connection, user_id, settings.sanctum_tokenable_type
        )

    return PasswordChanged(ended, revoked)
