"""A user's data as one JSON document, streamed.

A long history does not fit in memory at once, so the document is written as it is read:
conversations come from one MongoDB cursor, each conversation's messages from another, both
fetched in batches, and the JSON text leaves in chunks of about CHUNK_BYTES. The profile and
the token list are read first, so that a database that is down is a 503 before any byte of a
200 is sent.

The finds name no index: each one's filter and sort match one index exactly, which MongoDB's
planner picks by itself, and SecantusDB reads a named index from end to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from aura.accounts.service import User
from aura.chat.documents import Conversation, Message
from aura.chat.schemas import conversation_json, message_json
from aura.chat.service import CONVERSATION_FIELDS, HISTORY, MESSAGE_FIELDS, MESSAGES
from aura.dates import iso_utc
from aura.tokens import repository

CHUNK_BYTES = 64 * 1024
BATCH = 200
FORMAT = "aura-export/1"

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class ExportHead:
    """What precedes the conversations: small, read before the response starts."""

    user: dict
    tokens: list[dict]

    def opening(self) -> bytes:
        head = {
            "format": FORMAT,
            "exported_at": iso_utc(datetime.now(UTC)),
            "user": self.user,
            "tokens": self.tokens,
        }
        # The object is left open: the conversations follow as its last member.
        return _encode(head)[:-1] + b',"conversations":['


async def read_head(engine, settings, user: User, with_avatar: bool) -> ExportHead:
    """The profile and the token list (never a hash); checks that MongoDB answers."""
    async with engine.connect() as connection:
        tokens = await repository.list_tokens(
            connection, user.id, settings.sanctum_tokenable_type
        )
    for token in tokens:
        for key in ("last_used_at", "expires_at", "created_at"):
            token[key] = iso_utc(token[key])

    await Conversation.get_pymongo_collection().find_one({"user_id": str(user.id)}, {"_id": 1})
    return ExportHead(user.to_json(with_avatar), tokens)


async def _conversation_parts(owner: str) -> AsyncIterator[bytes]:
    """Each conversation as JSON text, its messages inlined, newest activity first."""
    conversations = Conversation.get_pymongo_collection()
    messages = Message.get_pymongo_collection()
    found = conversations.find(
        {"user_id": owner}, CONVERSATION_FIELDS, sort=HISTORY.sort, batch_size=BATCH
    )
    first = True
    async for conversation in found:
        yield (b"" if first else b",") + _encode(conversation_json(conversation))[:-1]
        yield b',"messages":['
        first = False
        inner = messages.find(
            {"conversation_id": conversation["_id"]}, MESSAGE_FIELDS, sort=MESSAGES.sort,
            batch_size=BATCH,
        )
        separator = b""
        async for message in inner:
            yield separator + _encode(message_json(message))
            separator = b","
        yield b"]}"


async def export_chunks(head: ExportHead, user_id: int) -> AsyncIterator[bytes]:
    """The whole document, in chunks of about CHUNK_BYTES."""
    buffer = bytearray(head.opening())
    async for part in _conversation_parts(str(user_id)):
        buffer += part
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    buffer += b"]}"
    yield bytes(buffer)
