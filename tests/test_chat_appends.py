"""Appending messages: atomic activity updates and idempotent retries."""

import asyncio
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from aura.dates import iso_utc
from tests.factories import chat_user, concurrent_client, say, start, two_users


def _post(client, user, conversation_id: str, content: str, **extra):
    return client.post(
        "/chat/message", json={"conversation_id": conversation_id, "content": content, **extra},
        headers=user.headers,
    )


async def test_twenty_concurrent_appends_store_twenty_and_keep_the_newest_activity(
    app, mongo_db
):
    async with concurrent_client(app) as client:
        alice = await chat_user(client)
        conversation = (await start(client, alice))["id"]

        answers = await asyncio.gather(
            *(_post(client, alice, conversation, f"mensaje {n}") for n in range(20))
        )

    assert [a.status_code for a in answers] == [201] * 20
    stored = list(mongo_db.messages.find({"conversation_id": ObjectId(conversation)}))
    assert len(stored) == 20
    newest = max(m["created_at"] for m in stored)
    document = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    assert document["last_message_at"] == newest
    assert document["updated_at"] == newest


async def test_an_append_never_moves_last_message_at_back(client, mongo_db):
    alice = await chat_user(client)
    conversation = (await start(client, alice))["id"]
    future = datetime(2100, 1, 1, tzinfo=UTC)
    mongo_db.conversations.update_one(
        {"_id": ObjectId(conversation)}, {"$set": {"last_message_at": future}}
    )

    await say(client, alice, conversation, "tarde")

    document = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    assert document["last_message_at"] == future


async def test_a_repeated_client_message_id_returns_the_stored_message_with_200(
    client, mongo_db
):
    alice = await chat_user(client)
    conversation = (await start(client, alice))["id"]

    first = await _post(client, alice, conversation, "hola", client_message_id="k-1")
    second = await _post(client, alice, conversation, "hola", client_message_id="k-1")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    assert mongo_db.messages.count_documents({}) == 1


async def test_concurrent_retries_with_one_client_message_id_store_one_message(
    app, mongo_db
):
    async with concurrent_client(app) as client:
        alice = await chat_user(client)
        conversation = (await start(client, alice))["id"]

        answers = await asyncio.gather(
            *(_post(client, alice, conversation, "hola", client_message_id="k-2")
              for _ in range(5))
        )

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["message"]["id"] for a in answers}) == 1
    assert mongo_db.messages.count_documents({}) == 1


async def test_client_message_ids_are_per_user(client, mongo_db):
    alice, bob = await two_users(client)
    hers = (await start(client, alice))["id"]
    his = (await start(client, bob))["id"]

    first = await _post(client, alice, hers, "hola", client_message_id="same")
    second = await _post(client, bob, his, "hola", client_message_id="same")

    assert (first.status_code, second.status_code) == (201, 201)
    assert mongo_db.messages.count_documents({"client_message_id": "same"}) == 2


async def test_a_retry_finishes_the_conversation_update_an_interrupted_append_missed(
    client, mongo_db
):
    alice = await chat_user(client)
    conversation = (await start(client, alice))["id"]
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    mongo_db.messages.insert_one({
        "conversation_id": ObjectId(conversation), "user_id": str(alice.id), "role": "user",
        "content": "perdido", "created_at": later, "client_message_id": "k-3",
    })

    retry = await _post(client, alice, conversation, "perdido", client_message_id="k-3")

    assert retry.status_code == 200
    assert retry.json()["message"]["created_at"] == iso_utc(later)
    document = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    assert document["last_message_at"] == later
    assert document["title"] == "perdido"
