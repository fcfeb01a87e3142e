"""One user's conversations and messages in MongoDB.

Reads go straight to the collections Beanie bound at start, with projections, on the intended
index (named in a hint after a cursor): the documents already have the shape the API answers
with, so a model validation per row would cost CPU and add nothing. Every query carries the
caller's user id or a conversation id the caller was just shown to own, so another user's
data is never read.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure

from aura.chat.documents import (
    DEFAULT_BACKGROUND_COLOR,
    DEFAULT_BUBBLE_COLOR,
    DEFAULT_TITLE,
    HISTORY_INDEX,
    MESSAGES_INDEX,
    Conversation,
    Message,
    Theme,
)
from aura.chat.paging import CursorCodec, Keyset, Position
from aura.chat.schemas import MAX_TITLE, ConversationChanges, NewMessage
from aura.errors import NotFound, ServiceUnavailable

HISTORY = Keyset("history", "last_message_at", descending=True, index=HISTORY_INDEX)
MESSAGES = Keyset("messages", "created_at", descending=False, index=MESSAGES_INDEX)
CONVERSATION_FIELDS = {"title": 1, "created_at": 1, "updated_at": 1, "last_message_at": 1,
                       "theme": 1}
MESSAGE_FIELDS = {"role": 1, "content": 1, "created_at": 1}
# The Flask service wrote its default title without the accent; both count as "untitled".
UNTITLED = [DEFAULT_TITLE, "Nueva conversacion"]
TITLE_WORDS = 6
# Appends to one conversation in the same instant conflict inside transactions; so many tries.
TRANSACTION_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict]
    next_cursor: str | None


def utcnow() -> datetime:
    """Now, cut to the millisecond a BSON date keeps, so what we answer is what we stored."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def title_from(content: str) -> str:
    """A conversation's title taken from its first user message: its first few words."""
    return " ".join(content.split()[:TITLE_WORDS])[:MAX_TITLE]


@lru_cache(maxsize=4)
def cursor_codec(secret: str) -> CursorCodec:
    return CursorCodec(secret)


def _conversations() -> AsyncCollection:
    return Conversation.get_pymongo_collection()


def _messages() -> AsyncCollection:
    return Message.get_pymongo_collection()


async def _in_one_transaction(write) -> None:
    """Run `write(session)` in a transaction where the server has them, else without one.

    A replica set or sharded cluster commits the message and its conversation's bump
    together, so a request cut short by an outage leaves neither. A standalone server has no
    transactions: there the writes run in order and a failure between them can leave a
    message whose conversation was not bumped (a retry with its client_message_id finishes
    the bump). Only a write conflict with a concurrent append to the same conversation is
    tried again, a few times; an outage is a 503 at once (pymongo's with_transaction would
    keep retrying it for two minutes).
    """
    client = _messages().database.client
    if client.topology_description.topology_type_name not in ("ReplicaSetWithPrimary", "Sharded"):
        await write(None)
        return
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            async with client.start_session() as session:
                async with await session.start_transaction():
                    await write(session)
            return
        except OperationFailure as exc:
            if not exc.has_error_label("TransientTransactionError"):
                raise
            if attempt == TRANSACTION_ATTEMPTS - 1:
                raise ServiceUnavailable() from exc
            await asyncio.sleep(random.uniform(0.001, 0.01) * (attempt + 1))


async def read_page(
    collection: AsyncCollection, keyset: Keyset, scope: dict, position: Position | None,
    limit: int, projection: dict,
) -> list[dict]:
    """Up to `limit + 1` rows after `position`: the extra row tells that a next page exists.

    A first page (equality on the scope, sorted like the index) goes without a hint: the
    index that matches both its filter and its sort needs no in-memory sort, so MongoDB's
    planner picks it even beside another index on the same field, and the embedded server
    walks a hinted index whole. The finds after a cursor carry an `$or` that some planners
    would answer with a collection scan, so they name the index.
    """
    rows: list[dict] = []
    hint = None if position is None else keyset.index
    for query in keyset.filters(scope, position):
        found = collection.find(
            query, projection, sort=keyset.sort, limit=limit + 1 - len(rows), hint=hint
        )
        rows += await found.to_list()
        if len(rows) > limit:
            break
    return rows


class ChatService:
    """The chat of one user, identified by the PostgreSQL id the Flask service stored as text."""

    def __init__(self, user_id: int, codec: CursorCodec) -> None:
        self.user_id = str(user_id)
        self.codec = codec

    def _owned(self, conversation_id: ObjectId) -> dict:
        return {"_id": conversation_id, "user_id": self.user_id}

    def _page(self, keyset: Keyset, scope: str, rows: list[dict], limit: int) -> Page:
        if len(rows) <= limit:
            return Page(rows, None)
        rows = rows[:limit]
        return Page(rows, self.codec.dump(keyset, scope, keyset.position(rows[-1])))

    async def history(self, limit: int, cursor: str | None) -> Page:
        """The user's conversations, newest activity first."""
        position = self.codec.load(HISTORY, self.user_id, cursor) if cursor else None

        rows = await read_page(
            _conversations(), HISTORY, {"user_id": self.user_id}, position, limit,
            CONVERSATION_FIELDS,
        )

        return self._page(HISTORY, self.user_id, rows, limit)

    async def start(self, title: str) -> Conversation:
        """A new conversation counts as the latest activity, so it heads the history."""
        now = utcnow()
        conversation = Conversation(
            user_id=self.user_id, title=title, created_at=now, updated_at=now,
            last_message_at=now, theme=Theme(),
        )
        return await conversation.insert()

    async def messages(self, conversation_id: ObjectId, limit: int, cursor: str | None) -> Page:
        """A conversation's messages, oldest first."""
        scope = str(conversation_id)
        position = self.codec.load(MESSAGES, scope, cursor) if cursor else None
        await self._require(conversation_id)

        rows = await read_page(
            _messages(), MESSAGES, {"conversation_id": conversation_id}, position, limit,
            MESSAGE_FIELDS,
        )

        return self._page(MESSAGES, scope, rows, limit)

    async def _require(self, conversation_id: ObjectId, fields: dict | None = None) -> dict:
        """The conversation when the user owns it; 404 for another user's as for a missing one.

        The filter keeps `user_id` beside `_id`: it is the shard key the README proposes, so
        on a sharded cluster this find goes to one shard, and `_id` bounds it to one key.
        """
        found = await _conversations().find_one(self._owned(conversation_id), fields or {"_id": 1})
        if found is None:
            raise NotFound()
        return found

    async def append(self, new: NewMessage) -> tuple[dict, bool]:
        """Store a message; with a `client_message_id` seen before, the stored one instead.

        Returns the message and whether it was created now.
        """
        conversation = await self._require(new.conversation_id, {"title": 1})
        message = {
            "conversation_id": new.conversation_id, "user_id": self.user_id, "role": new.role,
            "content": new.content, "created_at": utcnow(),
        }
        if new.client_message_id is not None:
            message["client_message_id"] = new.client_message_id
        retitle = new.role == "user" and conversation.get("title") in UNTITLED

        try:
            await _in_one_transaction(lambda session: self._store(message, retitle, session))
        except DuplicateKeyError:
            return await self._replay(new, retitle), False
        return message, True

    async def _store(self, message: dict, retitle: bool, session) -> None:
        """The message and its conversation's bump: both written, or (in a transaction) neither.

        A conversation deleted meanwhile is a 404, and the message does not stay behind.
        """
        await _messages().insert_one(message, session=session)
        if not await self._touch(message["conversation_id"], message, retitle, session):
            if session is None:
                await _messages().delete_one({"_id": message["_id"]})
            raise NotFound()

    async def _replay(self, new: NewMessage, retitle: bool) -> dict:
        """A retried append: answer with the stored message and finish its conversation update.

        The first attempt may have stopped between its two writes; `$max` makes a second
        update harmless when it did not.
        """
        stored = await _messages().find_one(
            {"user_id": self.user_id, "client_message_id": new.client_message_id}
        )
        if stored is None:
            raise NotFound()
        same = stored["conversation_id"] == new.conversation_id
        await self._touch(stored["conversation_id"], stored, retitle and same)
        return stored

    async def _touch(
        self, conversation_id: ObjectId, message: dict, retitle: bool, session=None
    ) -> bool:
        """Move the conversation's activity to `message` in one atomic update.

        `$max` instead of `$set`: concurrent appends finish in any order, and the slower one
        must never move the timestamps back. False when the conversation is gone.
        """
        stamp = message["created_at"]
        bump = {"$max": {"last_message_at": stamp, "updated_at": stamp}}
        owned = self._owned(conversation_id)
        if retitle:
            result = await _conversations().update_one(
                {**owned, "title": {"$in": UNTITLED}},
                {**bump, "$set": {"title": title_from(message["content"])}}, session=session,
            )
            if result.matched_count:
                return True
        result = await _conversations().update_one(owned, bump, session=session)
        return result.matched_count == 1

    async def update(self, conversation_id: ObjectId, changes: ConversationChanges) -> dict:
        """Rename or recolour; an old document without a theme gets the defaults filled in."""
        if changes.title is None and not changes.theme:
            return await self._require(conversation_id, CONVERSATION_FIELDS)
        stage: dict = {"updated_at": {"$max": ["$updated_at", utcnow()]}}
        if changes.title is not None:
            stage["title"] = {"$literal": changes.title}
        if changes.theme:
            defaults = {"bubble_color": DEFAULT_BUBBLE_COLOR,
                        "background_color": DEFAULT_BACKGROUND_COLOR}
            stage["theme"] = {"$mergeObjects": [
                defaults, {"$ifNull": ["$theme", {}]}, {"$literal": changes.theme},
            ]}

        # A pipeline update, so that a theme missing or null in a Flask document is merged
        # with the defaults in the same atomic write.
        updated = await _conversations().find_one_and_update(
            self._owned(conversation_id), [{"$set": stage}], projection=CONVERSATION_FIELDS,
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise NotFound()
        return updated

    async def delete(self, conversation_id: ObjectId) -> None:
        """The conversation first, then its messages: a failure between leaves only orphans
        no query can reach, never a listed conversation with missing messages."""
        result = await _conversations().delete_one(self._owned(conversation_id))
        if not result.deleted_count:
            raise NotFound()
        await _messages().delete_many({"conversation_id": conversation_id})
