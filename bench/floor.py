"""The floor: the three benchmarked endpoints doing the same database work with raw drivers.

A bare Litestar app, served with the same uvicorn settings as `aura serve`, whose handlers do
what Aura must do and nothing else: one `personal_access_tokens` row by primary key (joined to
its user, as the guard needs) and a constant-time hash compare with psycopg, then the same
MongoDB commands Aura sends for a first page (filter, projection, sort, limit; Aura names the
index only after a cursor, which the bench never sends) with pymongo and the same MongoDB
driver timeouts, and a JSON reply of the same shape. No ORM, no ODM, no dependency injection,
no middleware. Aura's cost over this is what Aura adds.

Keep the commands here in step with aura/chat/service.py: a bench that compares different
queries measures nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from litestar import Litestar, Request, Response, get, post
from psycopg_pool import AsyncConnectionPool
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

# The uvicorn settings `aura serve` runs with; bench.run checks they still match.
SERVER_OPTIONS = {
    "loop": "uvloop", "http": "httptools", "access_log": False, "proxy_headers": False,
}
USERS_MODEL = "App\\Models\\User"
# Aura treats a user whose remember_token holds this mark as gone (account being deleted).
DELETION_MARK = "!aura:deleting"
LAST_USED_INTERVAL = timedelta(seconds=int(os.environ.get("SANCTUM_LAST_USED_INTERVAL", "60")))
PAGE = 50
HISTORY_SORT = [("last_message_at", -1), ("_id", -1)]
MESSAGES_SORT = [("created_at", 1), ("_id", 1)]
CONVERSATION_FIELDS = {
    "title": 1, "created_at": 1, "updated_at": 1, "last_message_at": 1, "theme": 1,
}
MESSAGE_FIELDS = {"role": 1, "content": 1, "created_at": 1}
TRANSACTIONAL = ("ReplicaSetWithPrimary", "Sharded")
TRANSACTION_ATTEMPTS = 5
TOKEN_ROW = (
    "SELECT t.tokenable_id, t.tokenable_type, t.token, t.abilities, t.last_used_at,"
    " t.expires_at, u.id FROM personal_access_tokens t"
    " LEFT JOIN users u ON u.id = t.tokenable_id AND u.remember_token IS DISTINCT FROM %s"
    " WHERE t.id = %s"
)
TOUCH = (
    "UPDATE personal_access_tokens SET last_used_at = %s, updated_at = %s"
    " WHERE id = %s AND (last_used_at IS NULL OR last_used_at <= %s)"
)


def refusal(status: int) -> Response:
    return Response({"message": "Unauthenticated." if status == 401 else "Not found."},
                    status_code=status)


class Refused(Exception):
    pass


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


async def user_of(request: Request, ability: str) -> str:
    """Sanctum's check, inline: the token row by id, the hash, the owner, expiry, ability."""
    token_id, _, secret = request.headers.get("authorization", "")[7:].partition("|")
    number = int(token_id)
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as connection:
        cursor = await connection.execute(TOKEN_ROW, (DELETION_MARK, number))
        row = await cursor.fetchone()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(row[2], digest):
            raise Refused
        user_id, kind, _, abilities, last_used, expires, owner = row
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        granted = json.loads(abilities)
        if kind != USERS_MODEL or owner is None or (expires is not None and expires <= now):
            raise Refused
        if "*" not in granted and ability not in granted:
            raise Refused
        if last_used is None or last_used <= now - LAST_USED_INTERVAL:
            await connection.execute(TOUCH, (now, now, number, now - LAST_USED_INTERVAL))
    return str(user_id)


def page_size(request: Request) -> int:
    """`?limit=` as Aura reads it (the bench sends only valid ones), PAGE by default."""
    return int(request.query_params.get("limit", PAGE))


def page(
    request: Request, scope: str, rows: list[dict], field: str, size: int
) -> tuple[list, str | None]:
    """The first `size` rows, and a signed position after them when more follow (the extra row
    tells), as Aura's pages carry one."""
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    value = f"{scope}.{iso(rows[-1].get(field))}.{rows[-1]['_id']}"
    key = request.app.state.secret
    return rows, value + "." + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def conversation_json(document: dict) -> dict:
    theme = document.get("theme") or {}
    return {
        "id": str(document["_id"]),
        "title": document.get("title"),
        "created_at": iso(document.get("created_at")),
        "updated_at": iso(document.get("updated_at")),
        "last_message_at": iso(document.get("last_message_at")),
        "theme": {
            "bubble_color": theme.get("bubble_color"),
            "background_color": theme.get("background_color"),
        },
    }


def message_json(document: dict) -> dict:
    return {
        "id": str(document["_id"]),
        "role": document.get("role"),
        "content": document.get("content"),
        "created_at": iso(document.get("created_at")),
    }


@get("/chat/history")
async def history(request: Request) -> Any:
    try:
        user_id = await user_of(request, "chat:read")
    except Refused:
        return refusal(401)
    size = page_size(request)
    rows = await request.app.state.conversations.find(
        {"user_id": user_id}, CONVERSATION_FIELDS, sort=HISTORY_SORT, limit=size + 1,
    ).to_list()
    rows, cursor = page(request, user_id, rows, "last_message_at", size)
    return {"conversations": [conversation_json(row) for row in rows], "next_cursor": cursor}


@get("/chat/conversations/{conversation_id:str}/messages")
async def messages(request: Request, conversation_id: str) -> Any:
    try:
        user_id = await user_of(request, "chat:read")
    except Refused:
        return refusal(401)
    target = ObjectId(conversation_id)
    state = request.app.state
    if await state.conversations.find_one({"_id": target, "user_id": user_id}, {"_id": 1}) is None:
        return refusal(404)
    size = page_size(request)
    rows = await state.messages.find(
        {"conversation_id": target}, MESSAGE_FIELDS, sort=MESSAGES_SORT, limit=size + 1,
    ).to_list()
    rows, cursor = page(request, conversation_id, rows, "created_at", size)
    return {"messages": [message_json(row) for row in rows], "next_cursor": cursor}


@post("/chat/message", status_code=201)
async def message(request: Request) -> Any:
    try:
        user_id = await user_of(request, "chat:write")
    except Refused:
        return refusal(401)
    body = await request.json()
    target, content = ObjectId(body["conversation_id"]), body["content"]
    role = body.get("role", "user")
    state = request.app.state
    owned = {"_id": target, "user_id": user_id}
    if await state.conversations.find_one(owned, {"title": 1}) is None:
        return refusal(404)
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond - now.microsecond % 1000)
    document = {
        "conversation_id": target, "user_id": user_id, "role": role, "content": content,
        "created_at": now,
    }
    bump = {"$max": {"last_message_at": now, "updated_at": now}}
    client = state.messages.database.client
    if client.topology_description.topology_type_name in TRANSACTIONAL:
        # Aura writes both in one transaction where the server has them, and tries again when
        # a concurrent append to the same conversation conflicts: so does the floor.
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                async with client.start_session() as session:
                    async with await session.start_transaction():
                        await state.messages.insert_one(document, session=session)
                        await state.conversations.update_one(owned, bump, session=session)
                break
            except OperationFailure as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
                if attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
    else:
        await state.messages.insert_one(document)
        await state.conversations.update_one(owned, bump)
    return {"ok": True, "message": {"id": str(document["_id"]), "created_at": iso(now)}}


def create_app() -> Litestar:
    """Reads DATABASE_URL, MONGO_URI, MONGO_DB and SECRET_KEY from the environment."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        size = int(os.environ.get("DB_POOL_SIZE", "10"))
        overflow = int(os.environ.get("DB_MAX_OVERFLOW", "10"))
        pool = AsyncConnectionPool(
            os.environ["DATABASE_URL"], min_size=size, max_size=size + overflow,
            kwargs={"autocommit": True}, open=False,
        )
        await pool.open(wait=True)
        # The driver settings Aura's client has (aura/mongo.py): with a socket timeout,
        # pymongo bounds every send and read, which costs a task per message.
        timeout = int(os.environ.get("MONGO_TIMEOUT_MS", "1000"))
        mongo = AsyncMongoClient(
            os.environ["MONGO_URI"], tz_aware=True, serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout, socketTimeoutMS=max(timeout, 10_000),
        )
        database = mongo[os.environ["MONGO_DB"]]
        app.state.pool, app.state.secret = pool, os.environ["SECRET_KEY"].encode()
        app.state.conversations = database["conversations"]
        app.state.messages = database["messages"]
        try:
            yield
        finally:
            await mongo.close()
            await pool.close()

    return Litestar([history, messages, message], lifespan=[lifespan], debug=False)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.floor:create_app", factory=True, host="127.0.0.1", port=args.port,
        workers=args.workers, log_level="warning", **SERVER_OPTIONS,
    )


if __name__ == "__main__":
    main()
