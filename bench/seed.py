"""Seed data for a run: users and Sanctum tokens in PostgreSQL, chats in MongoDB.

Rows go in with one multi-row statement per table and documents with insert_many in batches,
before the indexes exist: the MongoDB-wire server builds an index over existing documents
several times faster than it maintains one insert by insert.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient

from aura.mongo import init_documents
from aura.settings import Settings
from aura.tokens.scheme import generate_secret, hash_secret

USERS_MODEL = "App\\Models\\User"
BATCH = 5_000
BASE = datetime(2025, 1, 1, tzinfo=UTC)
# Any bcrypt string: the benchmark never logs in with a password.
PASSWORD = "$2y$12$" + "a" * 53


@dataclass(frozen=True, slots=True)
class BenchUser:
    """A seeded user: one token for Aura and one for the floor (so that each app's
    `last_used_at` writes are counted apart), and the two conversations the load uses."""

    id: int
    tokens: tuple[str, str]
    read_conversation: str = ""
    write_conversation: str = ""

    def __repr__(self) -> str:
        return f"BenchUser(id={self.id}, tokens='[secure]')"


def seed_users(database_url: str, count: int, label: str) -> list[BenchUser]:
    """`count` users, each with two tokens granting chat:read and chat:write."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with psycopg.connect(database_url, autocommit=True) as connection:
        user_ids = [
            row[0] for row in connection.execute(
                "INSERT INTO users (name, email, password, created_at, updated_at)"
                " SELECT %s || n, %s || n || '@bench.test', %s, %s, %s"
                " FROM generate_series(1, %s) AS n RETURNING id",
                (f"{label} ", f"{label}-", PASSWORD, now, now, count),
            )
        ]
        owners = user_ids + user_ids
        secrets = [generate_secret() for _ in owners]
        abilities = json.dumps(["chat:read", "chat:write"])
        token_ids = [
            row[0] for row in connection.execute(
                "INSERT INTO personal_access_tokens (tokenable_type, tokenable_id, name, token,"
                " abilities, created_at, updated_at)"
                " SELECT %s, u, 'bench', h, %s, %s, %s FROM unnest(%s::bigint[], %s::text[])"
                " WITH ORDINALITY AS t(u, h, n) ORDER BY n RETURNING id",
                (USERS_MODEL, abilities, now, now, owners, [hash_secret(s) for s in secrets]),
            )
        ]
    plain = [f"{token_id}|{secret}" for token_id, secret in zip(token_ids, secrets, strict=True)]
    return [
        BenchUser(user_id, (plain[n], plain[n + count])) for n, user_id in enumerate(user_ids)
    ]


def _conversations(user_id: str, count: int) -> Iterator[dict]:
    theme = {"bubble_color": "#7B2FE3", "background_color": "#070a14"}
    for n in range(count):
        stamp = BASE + timedelta(seconds=n)
        yield {
            "_id": ObjectId(), "user_id": user_id, "title": f"Conversation {n}",
            "created_at": stamp, "updated_at": stamp, "last_message_at": stamp, "theme": theme,
        }


def _messages(conversation_id: ObjectId, user_id: str, count: int, size: int) -> Iterator[dict]:
    content = ("lorem ipsum " * (size // 12 + 1))[:size]
    for n in range(count):
        yield {
            "conversation_id": conversation_id, "user_id": user_id,
            "role": "user" if n % 2 == 0 else "assistant", "content": content,
            "created_at": BASE + timedelta(milliseconds=n),
        }


def _insert(collection, documents: Iterator[dict]) -> list[dict]:
    """insert_many in batches; returns the first batch."""
    first: list[dict] = []
    batch: list[dict] = []
    for document in documents:
        batch.append(document)
        if len(batch) == BATCH:
            collection.insert_many(batch, ordered=False)
            first = first or batch
            batch = []
    if batch:
        collection.insert_many(batch, ordered=False)
    return first or batch


def seed_chats(
    mongo_uri: str, database: str, users: list[BenchUser], conversations: int, messages: int,
    content_size: int,
) -> list[BenchUser]:
    """Each user gets `conversations` conversations (at least two) and `messages` messages in
    the one the reads use; the other one takes the writes, so that reads see a fixed size."""
    client = MongoClient(mongo_uri, tz_aware=True)
    try:
        db = client[database]
        seeded = []
        for user in users:
            owner = str(user.id)
            heads = _insert(db["conversations"], _conversations(owner, max(2, conversations)))
            read, write = heads[0]["_id"], heads[1]["_id"]
            _insert(db["messages"], _messages(read, owner, messages, content_size))
            seeded.append(BenchUser(user.id, user.tokens, str(read), str(write)))
        return seeded
    finally:
        client.close()


async def _create_indexes(mongo_uri: str, database: str) -> None:
    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        await init_documents(client, Settings(_env_file=None, mongo_db=database))
    finally:
        await client.close()


def create_indexes(mongo_uri: str, database: str) -> None:
    """Aura's own index declarations (Beanie), built once the documents are in."""
    asyncio.run(_create_indexes(mongo_uri, database))
