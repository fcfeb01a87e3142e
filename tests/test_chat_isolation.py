"""Another user's conversation is 404 for every verb, exactly like one that does not exist."""

import pytest
from bson import ObjectId

from tests.factories import chat_user, say, start, two_users


def _requests(conversation_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/chat/conversations/{conversation_id}/messages", None),
        ("PUT", f"/chat/conversations/{conversation_id}", {"title": "Mío"}),
        ("DELETE", f"/chat/conversations/{conversation_id}", None),
        ("POST", "/chat/message", {"conversation_id": conversation_id, "content": "hola"}),
    ]


def _snapshot(mongo_db) -> tuple[list, list]:
    return list(mongo_db.conversations.find()), list(mongo_db.messages.find())


async def test_every_verb_on_another_users_conversation_is_404_and_changes_nothing(
    client, mongo_db
):
    alice, bob = await two_users(client)
    conversation = await start(client, alice, "Privado")
    await say(client, alice, conversation["id"], "secreto")
    before = _snapshot(mongo_db)

    answers = [
        await client.request(method, url, json=body, headers=bob.headers)
        for method, url, body in _requests(conversation["id"])
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert all(a.json() == {"message": "Not Found."} for a in answers)
    assert _snapshot(mongo_db) == before


async def test_another_users_conversations_are_not_in_the_history(client):
    alice, bob = await two_users(client)
    await start(client, alice, "De Alice")

    response = await client.get("/chat/history", headers=bob.headers)

    assert response.json()["conversations"] == []


@pytest.mark.parametrize("index", range(4))
async def test_an_unknown_conversation_is_404_for_every_verb(client, index):
    alice = await chat_user(client)
    method, url, body = _requests(str(ObjectId()))[index]

    response = await client.request(method, url, json=body, headers=alice.headers)

    assert response.status_code == 404
