"""Minting and revoking tokens for a user, with the request's options checked."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from aura.errors import ValidationFailed
from aura.tokens import repository
from aura.tokens.scheme import NewAccessToken
from aura.validation import Checker

DEFAULT_NAME = "chat"
DURATION = re.compile(r"^\s*(\d{1,9})\s*([mhdw]?)\s*$")
UNIT_MINUTES = {"": 1, "m": 1, "h": 60, "d": 60 * 24, "w": 60 * 24 * 7}
MAX_MINUTES = 60 * 24 * 366 * 10
ABILITY = re.compile(r"^[A-Za-z0-9*:._-]{1,100}$")


def parse_duration(value: object) -> timedelta | None:
    """Minutes as a number, or a string such as `90m`, `12h`, `30d`, `2w`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str) and (match := DURATION.match(value)):
        minutes = int(match.group(1)) * UNIT_MINUTES[match.group(2)]
    else:
        raise ValueError("not a duration")
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError("out of range")
    return timedelta(minutes=minutes)


def read_mint_options(data: dict) -> tuple[str, list[str], timedelta | None]:
    checker = Checker(data)
    name = checker.string("name", required=False, max_length=255) or DEFAULT_NAME
    abilities = data.get("abilities", ["*"])
    if (
        not isinstance(abilities, list)
        or not abilities
        or len(abilities) > 50
        or not all(isinstance(a, str) and ABILITY.match(a) for a in abilities)
    ):
        checker.fail("abilities", "The abilities field must be a list of ability names.")
    expires_in = None
    try:
        expires_in = parse_duration(data.get("expires_in"))
    except ValueError:
        checker.fail("expires_in", "The expires in field must be a number of minutes or like 30d.")
    checker.check()
    return name.strip() or DEFAULT_NAME, list(dict.fromkeys(abilities)), expires_in


async def mint(
    engine: AsyncEngine,
    settings,
    user_id: int,
    name: str = DEFAULT_NAME,
    abilities: list[str] | None = None,
    expires_in: timedelta | None = None,
) -> NewAccessToken:
    """Replace the user's tokens of that name with a new one, in one transaction."""
    expires_at = repository.utcnow() + expires_in if expires_in else None
    async with engine.begin() as connection:
        await repository.delete_named(connection, user_id, settings.sanctum_tokenable_type, name)
        return await repository.create_token(
            connection,
            user_id=user_id,
            tokenable_type=settings.sanctum_tokenable_type,
            name=name,
            abilities=abilities or ["*"],
            expires_at=expires_at,
            prefix=settings.sanctum_token_prefix,
        )


def require_name(data: dict) -> str:
    checker = Checker(data)
    name = checker.string("name", required=False, max_length=255)
    checker.check()
    return (name or DEFAULT_NAME).strip() or DEFAULT_NAME


def token_id_from_path(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValidationFailed.field("id", "The id must be a positive integer.")
    return int(value)
