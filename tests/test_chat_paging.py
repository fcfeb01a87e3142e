"""Paging with `limit` and signed cursors: every item exactly once, in a stable order."""

from datetime import datetime

import pytest
from bson import ObjectId

from tests.factories import chat_user, flask_conversation, say, start, two_users

SAME_MOMENT = datetime(2025, 5, 1, 12, 0, 0)


async def _walk(client, user, url: str, key: str, limit: int = 2) -> list[list[str]]:
    """Every page of a list, as lists of ids, following next_cursor to the end."""
    pages, params = [], {"limit": limit}
    while True:
        response = await client.get(url, params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body[key]])
        if body["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": body["next_cursor"]}


async def _conversations(client, user, count: int) -> list[str]:
    return [(await start(client, user, f"c{n}"))["id"] for n in range(count)]


async def test_five_conversations_in_pages_of_two_come_back_once_each_newest_first(client):
    alice = await chat_user(client)
    created = await _conversations(client, alice, 5)

    pages = await _walk(client, alice, "/chat/history", "conversations")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(pages, []) == created[::-1]


async def test_conversations_sharing_one_last_message_at_still_page_exactly_once(
    client, mongo_db
):
    alice = await chat_user(client)
    created = await _conversations(client, alice, 5)
    mongo_db.conversations.update_many({}, {"$set": {"last_message_at": SAME_MOMENT}})

    pages = await _walk(client, alice, "/chat/history", "conversations")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(pages, []) == created[::-1]


async def test_a_conversation_started_between_pages_causes_no_repeat(client):
    alice = await chat_user(client)
    created = await _conversations(client, alice, 5)
    first = (await client.get("/chat/history?limit=2", headers=alice.headers)).json()

    await start(client, alice, "nueva")
    rest = await client.get(
        "/chat/history", params={"limit": 10, "cursor": first["next_cursor"]},
        headers=alice.headers,
    )

    seen = [c["id"] for c in first["conversations"] + rest.json()["conversations"]]
    assert seen == created[::-1]


async def test_flask_conversations_without_last_message_at_come_last_and_once(
    client, mongo_db
):
    alice = await chat_user(client)
    dated = await _conversations(client, alice, 3)
    missing = flask_conversation(mongo_db, alice.id, "sin fecha", SAME_MOMENT)
    mongo_db.conversations.update_one(
        {"_id": ObjectId(missing)}, {"$unset": {"last_message_at": 1}}
    )
    null = flask_conversation(mongo_db, alice.id, "nula", SAME_MOMENT, last_message_at=None)

    pages = await _walk(client, alice, "/chat/history", "conversations")

    assert sum(pages, []) == dated[::-1] + [null, missing]


async def test_messages_with_equal_created_at_keep_insertion_order(client, mongo_db):
    alice = await chat_user(client)
    conversation = (await start(client, alice))["id"]
    sent = [(await say(client, alice, conversation, f"m{n}"))["id"] for n in range(5)]
    mongo_db.messages.update_many({}, {"$set": {"created_at": SAME_MOMENT}})

    pages = await _walk(
        client, alice, f"/chat/conversations/{conversation}/messages", "messages"
    )

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(pages, []) == sent


async def test_without_limit_a_page_holds_fifty_and_says_where_to_go_on(client, mongo_db):
    alice = await chat_user(client)
    conversation = (await start(client, alice))["id"]
    mongo_db.messages.insert_many([
        {"conversation_id": ObjectId(conversation), "user_id": str(alice.id), "role": "user",
         "content": str(n), "created_at": SAME_MOMENT}
        for n in range(51)
    ])

    body = (await client.get(
        f"/chat/conversations/{conversation}/messages", headers=alice.headers
    )).json()

    assert len(body["messages"]) == 50
    assert body["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "", "1e2", "٣"])
async def test_a_limit_outside_1_to_100_is_422(client, limit):
    alice = await chat_user(client)

    response = await client.get("/chat/history", params={"limit": limit}, headers=alice.headers)

    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


async def test_a_tampered_cursor_is_422(client):
    alice = await chat_user(client)
    await _conversations(client, alice, 3)
    cursor = (await client.get("/chat/history?limit=1", headers=alice.headers)).json()[
        "next_cursor"
    ]
    payload, signature = cursor.rsplit(".", 1)
    tampered = [payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
                cursor[:-2], "not-a-cursor", cursor + "x"]

    answers = [
        await client.get("/chat/history", params={"cursor": c}, headers=alice.headers)
        for c in tampered
    ]

    assert [a.status_code for a in answers] == [422] * len(tampered)
    assert answers[0].json() == {
        "message": "The cursor is invalid.", "errors": {"cursor": ["The cursor is invalid."]},
    }


async def test_a_cursor_only_works_for_the_list_it_came_from(client):
    alice, bob = await two_users(client)
    await _conversations(client, alice, 3)
    conversation = (await start(client, alice))["id"]
    for n in range(3):
        await say(client, alice, conversation, str(n))
    history_cursor = (await client.get("/chat/history?limit=1", headers=alice.headers)).json()[
        "next_cursor"
    ]

    on_messages = await client.get(
        f"/chat/conversations/{conversation}/messages", params={"cursor": history_cursor},
        headers=alice.headers,
    )
    by_bob = await client.get(
        "/chat/history", params={"cursor": history_cursor}, headers=bob.headers
    )

    assert on_messages.status_code == 422
    assert by_bob.status_code == 422
