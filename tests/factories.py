"""Small factories that build test data through Aura's real code paths or in Flask's shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from bson import ObjectId
from litestar import Litestar
from pymongo.database import Database

from tests.identity import bearer, user_with_token


@dataclass(frozen=True)
class ChatUser:
    """A registered user and the bearer headers of a token minted for them."""

    id: int
    headers: dict[str, str]


@asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client that runs the app on the test's own event loop.

    Litestar's AsyncTestClient hands every request to a blocking portal, so requests gathered
    over it still run one after another; over this one they really overlap.
    """
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local"
    ) as client:
        yield client


async def chat_user(client, email: str = "alice@example.test", **token) -> ChatUser:
    """Register over HTTP and mint a token (`abilities=[...]` to narrow it)."""
    user_id, plain = await user_with_token(client, email=email, **token)
    return ChatUser(user_id, bearer(plain))


async def two_users(client) -> tuple[ChatUser, ChatUser]:
    return (
        await chat_user(client, "alice@example.test"),
        await chat_user(client, "bob@example.test"),
    )


async def start(client, user: ChatUser, title: str | None = None) -> dict:
    body = {} if title is None else {"title": title}
    response = await client.post("/chat/start", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def say(client, user: ChatUser, conversation_id: str, content: str, **extra) -> dict:
    response = await client.post(
        "/chat/message", json={"conversation_id": conversation_id, "content": content, **extra},
        headers=user.headers,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["message"]


def flask_conversation(db: Database, user_id: int, title: str, stamp: datetime, **extra) -> str:
    """A conversation as the Flask service wrote it: string user_id, naive dates, no theme."""
    document = {
        "user_id": str(user_id), "title": title, "created_at": stamp, "updated_at": stamp,
        "last_message_at": stamp, **extra,
    }
    return str(db.conversations.insert_one(document).inserted_id)


def flask_message(db: Database, user_id: int, conversation_id: str, content: str,
                  stamp: datetime, role: str = "user") -> str:
    document = {
        "conversation_id": ObjectId(conversation_id), "user_id": str(user_id), "role": role,
        "content": content, "created_at": stamp,
    }
    return str(db.messages.insert_one(document).inserted_id)
