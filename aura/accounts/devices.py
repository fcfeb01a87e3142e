"""A user's own sessions: listed under fingerprints, ended one by one or all but the current.

A session id is a bearer secret, so the list never shows it. Each session appears under a
fingerprint instead: the first hex digits of an HMAC of the id under the app's signing key.
It names a session well enough to end it, and cannot be turned back into the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aura.accounts.models import sessions
from aura.accounts.sessions import LOGIN_AT_KEY
from aura.dates import iso_utc

FINGERPRINT_LENGTH = 12
FINGERPRINT = re.compile(f"[0-9a-f]{{{FINGERPRINT_LENGTH}}}")


def fingerprint(signing_key: str, session_id: str) -> str:
    digest = hmac.new(signing_key.encode(), b"session:" + session_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long a session lives idle and at most, in seconds (from the settings)."""

    idle: int
    absolute: int

    @classmethod
    def from_settings(cls, settings) -> Lifetimes:
        return cls(settings.session_idle_minutes * 60, settings.session_absolute_minutes * 60)


def _logged_in_at(payload: str) -> int | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    login_at = data.get(LOGIN_AT_KEY) if isinstance(data, dict) else None
    return login_at if isinstance(login_at, int) else None


def _is_alive(row, lifetimes: Lifetimes, now: int) -> bool:
    """The same test the guard applies: neither idle too long nor past the absolute lifetime."""
    login_at = _logged_in_at(row.payload)
    return (
        row.last_activity >= now - lifetimes.idle
        and login_at is not None
        and login_at + lifetimes.absolute >= now
    )


async def active_sessions(
    engine: AsyncEngine, user_id: int, lifetimes: Lifetimes, signing_key: str,
    current_id: str | None,
) -> list[dict]:
    """The user's sessions that would still authenticate, most recently active first."""
    now = int(time.time())
    query = (
        select(sessions.c.id, sessions.c.ip_address, sessions.c.user_agent,
               sessions.c.last_activity, sessions.c.payload)
        .where(sessions.c.user_id == user_id, sessions.c.last_activity >= now - lifetimes.idle)
        .order_by(sessions.c.last_activity.desc())
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()

    return [
        {
            "id": fingerprint(signing_key, row.id),
            "ip_address": row.ip_address,
            "user_agent": row.user_agent,
            "last_activity": iso_utc(datetime.fromtimestamp(row.last_activity, UTC)),
            "current": row.id == current_id,
        }
        for row in rows
        if _is_alive(row, lifetimes, now)
    ]


async def end_session(
    engine: AsyncEngine, user_id: int, wanted: str, signing_key: str
) -> str | None:
    """End the user's session with fingerprint `wanted`; its id, or None when there is none.

    Only the user's own rows are fingerprinted, so another user's session is never found.
    """
    if not FINGERPRINT.fullmatch(wanted):
        return None
    async with engine.begin() as connection:
        ids = await connection.scalars(select(sessions.c.id).where(sessions.c.user_id == user_id))
        # Compared in constant time, like every other credential-derived value.
        found = next(
            (sid for sid in ids if hmac.compare_digest(fingerprint(signing_key, sid), wanted)),
            None,
        )
        if found is not None:
            await connection.execute(
                delete(sessions).where(sessions.c.id == found, sessions.c.user_id == user_id)
            )
    return found


async def end_other_sessions(
    connection: AsyncConnection, user_id: int, keep_id: str | None
) -> int:
    """Delete every session of the user except `keep_id`; how many ended."""
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep_id is not None:
        query = query.where(sessions.c.id != keep_id)
    return (await connection.execute(query)).rowcount
