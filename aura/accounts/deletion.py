"""Deleting an account from both stores, in an order that is safe to stop and resume.

PostgreSQL and MongoDB share no transaction, so deletion is a small state machine kept in
Laravel's own columns (no schema change):

1. mark: in one transaction the password becomes unusable, `remember_token` becomes
   DELETION_MARK, and every token and session is deleted. From here on the account cannot log
   in or authenticate in any way (the token guard also treats a marked owner as gone).
2. MongoDB: the user's messages, then conversations.
3. PostgreSQL: tokens, sessions and the user row, only while the row still carries the mark.

If a database fails after step 1, the account stays marked; `aura account purge`, also run at
every start, repeats steps 2 and 3 for each marked account. Every step may run twice.
"""

from __future__ import annotations

import asyncio
import logging

from litestar import Litestar
from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from aura.accounts.models import DELETION_MARK, sessions, users
from aura.admin import DISABLED_MARK
from aura.chat.documents import Conversation, Message
from aura.tokens import repository

logger = logging.getLogger(__name__)

# Starts with `aura user disable`'s mark, so listings show the account as disabled; unlike a
# disabled password it keeps no hash to give back.
UNUSABLE_PASSWORD = DISABLED_MARK + "deleted"
BATCH = 500
PURGE_AT_START_SECONDS = 10.0


async def mark_for_deletion(engine: AsyncEngine, user_id: int, tokenable_type: str) -> None:
    """Step 1: lock the account and drop everything that could still authenticate as it."""
    async with engine.begin() as connection:
        await connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password=UNUSABLE_PASSWORD, remember_token=DELETION_MARK)
        )
        await repository.delete_all(connection, user_id, tokenable_type)
        await connection.execute(delete(sessions).where(sessions.c.user_id == user_id))


def _collections() -> tuple[AsyncCollection, AsyncCollection]:
    return Conversation.get_pymongo_collection(), Message.get_pymongo_collection()


async def delete_chat(user_id: int) -> None:
    """Step 2: every conversation of the user and every message in them, a batch at a time.

    Messages go before their conversation, so that a failure half way leaves the rest still
    reachable through the user's conversations for the next attempt.
    """
    owner = str(user_id)
    conversations, messages = _collections()
    while True:
        # No index named: the user_id prefix of the history index serves it (see export.py).
        found = conversations.find({"user_id": owner}, {"_id": 1}, limit=BATCH)
        ids = [document["_id"] async for document in found]
        if not ids:
            break
        await messages.delete_many({"conversation_id": {"$in": ids}})
        await conversations.delete_many({"_id": {"$in": ids}, "user_id": owner})
    # Messages that outlived their conversation (a conversation delete that stopped half way).
    await messages.delete_many({"user_id": owner})


async def delete_marked_user(engine: AsyncEngine, user_id: int, tokenable_type: str) -> bool:
    """Step 3: the user's rows in PostgreSQL; False when the user is not (or no longer) marked."""
    async with engine.begin() as connection:
        await repository.delete_all(connection, user_id, tokenable_type)
        await connection.execute(delete(sessions).where(sessions.c.user_id == user_id))
        result = await connection.execute(
            delete(users).where(users.c.id == user_id, users.c.remember_token == DELETION_MARK)
        )
    return result.rowcount == 1


async def finish_deletion(engine: AsyncEngine, user_id: int, tokenable_type: str) -> bool:
    """Steps 2 and 3 for a marked account."""
    await delete_chat(user_id)
    return await delete_marked_user(engine, user_id, tokenable_type)


async def marked_user_ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        ids = await connection.scalars(
            select(users.c.id).where(users.c.remember_token == DELETION_MARK).order_by(users.c.id)
        )
        return list(ids)


async def purge_marked(engine: AsyncEngine, tokenable_type: str) -> int:
    """Finish every marked account; how many were deleted now."""
    finished = 0
    for user_id in await marked_user_ids(engine):
        if await finish_deletion(engine, user_id, tokenable_type):
            finished += 1
            logger.info("account_deleted", extra={"user_id": user_id})
    return finished


async def purge_at_start(app: Litestar) -> None:
    """Finish deletions an outage interrupted, without holding up or failing the start.

    Each worker runs it; running it twice at once is harmless, as every step is.
    """
    settings = app.state.settings
    try:
        await asyncio.wait_for(
            purge_marked(app.state.engine, settings.sanctum_tokenable_type),
            PURGE_AT_START_SECONDS,
        )
    except Exception as exc:  # noqa: BLE001 - a failed purge must not stop the app
        logger.warning("account_purge_incomplete", extra={"error": type(exc).__name__})
