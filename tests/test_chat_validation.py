"""Every bad input is a 422 naming the field, and changes nothing."""

import json

import pytest

from tests.factories import chat_user, say, start

CONVERSATION = "<conversation>"
TOO_LONG_CONTENT = "a" * 100_001


@pytest.fixture
async def alice_chat(client):
    """Alice with one conversation holding one message."""
    alice = await chat_user(client)
    conversation = (await start(client, alice, "Existente"))["id"]
    await say(client, alice, conversation, "hola")
    return alice, conversation


def _snapshot(mongo_db) -> tuple[list, list]:
    return list(mongo_db.conversations.find()), list(mongo_db.messages.find())


def _raw(body: object, conversation: str) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates survive the trip."""
    text = json.dumps(body).replace(json.dumps(CONVERSATION)[1:-1], conversation)
    return text.encode("ascii")


async def _send(client, user, method: str, url: str, body: object, conversation: str):
    return await client.request(
        method, url.replace(CONVERSATION, conversation), content=_raw(body, conversation),
        headers={**user.headers, "Content-Type": "application/json"},
    )


def _message(**fields) -> dict:
    return {"conversation_id": CONVERSATION, "content": "hola", **fields}


MESSAGE_CASES = [
    ("conversation_id", _message(conversation_id="123")),
    ("conversation_id", _message(conversation_id="z" * 24)),
    ("conversation_id", _message(conversation_id="abcdefghijkl")),
    ("conversation_id", _message(conversation_id="0" * 24 + "\n")),
    ("conversation_id", _message(conversation_id={"$ne": None})),
    ("conversation_id", _message(conversation_id=12345)),
    ("conversation_id", {"content": "hola"}),
    ("role", _message(role="admin")),
    ("role", _message(role="USER")),
    ("role", _message(role="")),
    ("role", _message(role={"$in": ["user"]})),
    ("content", _message(content="")),
    ("content", _message(content="   \n")),
    ("content", {"conversation_id": CONVERSATION}),
    ("content", _message(content={"$gt": ""})),
    ("content", _message(content=["hola"])),
    ("content", _message(content=TOO_LONG_CONTENT)),
    ("content", _message(content="a\x00b")),
    ("client_message_id", _message(client_message_id={"$exists": True})),
    ("client_message_id", _message(client_message_id="")),
    ("client_message_id", _message(client_message_id="k" * 201)),
    ("client_message_id", _message(client_message_id=7)),
]

START_CASES = [
    ("title", {"title": "x" * 201}),
    ("title", {"title": {"$ne": ""}}),
    ("title", {"title": 5}),
    ("title", {"title": "a\x00"}),
    ("body", []),
    ("body", "Nueva"),
]

UPDATE_CASES = [
    ("title", {"title": "x" * 201}),
    ("title", {"title": ["x"]}),
    ("bubble_color", {"bubble_color": "#12345"}),
    ("bubble_color", {"bubble_color": "#1234567"}),
    ("bubble_color", {"bubble_color": "red"}),
    ("bubble_color", {"bubble_color": "#GGGGGG"}),
    ("bubble_color", {"bubble_color": "#123456\n"}),
    ("bubble_color", {"bubble_color": {"$set": "#123456"}}),
    ("background_color", {"background_color": 123456}),
    ("background_color", {"title": "válido", "background_color": "070a14"}),
]

PATH_CASES = [
    ("GET", "/chat/conversations/{}/messages"),
    ("PUT", "/chat/conversations/{}"),
    ("DELETE", "/chat/conversations/{}"),
]


BODY_CASES = (
    [("POST", "/chat/message", field, body) for field, body in MESSAGE_CASES]
    + [("POST", "/chat/start", field, body) for field, body in START_CASES]
    + [("PUT", f"/chat/conversations/{CONVERSATION}", field, body) for field, body in UPDATE_CASES]
    # Lone surrogates are refused by the JSON decoder already, so the error names the body.
    + [
        ("POST", "/chat/message", "body", _message(content="hola \ud800")),
        ("POST", "/chat/start", "body", {"title": "\udfff"}),
        ("PUT", f"/chat/conversations/{CONVERSATION}", "body", {"title": "a\udbff\udbffb"}),
    ]
)


@pytest.mark.parametrize(("method", "url", "field", "body"), BODY_CASES)
async def test_a_bad_body_is_422_on_its_field_and_changes_nothing(
    client, mongo_db, alice_chat, method, url, field, body
):
    alice, conversation = alice_chat
    before = _snapshot(mongo_db)

    response = await _send(client, alice, method, url, body, conversation)

    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert _snapshot(mongo_db) == before


@pytest.mark.parametrize(("method", "template"), PATH_CASES)
@pytest.mark.parametrize("bad_id", ["123", "z" * 24, "abcdefghijkl", "%24ne"])
async def test_a_path_id_that_is_not_an_object_id_is_422(
    client, mongo_db, alice_chat, method, template, bad_id
):
    alice, conversation = alice_chat
    before = _snapshot(mongo_db)

    response = await client.request(
        method, template.format(bad_id), json={"title": "x"}, headers=alice.headers
    )

    assert response.status_code == 422, response.text
    assert "id" in response.json()["errors"]
    assert _snapshot(mongo_db) == before


async def test_invalid_json_is_422(client, alice_chat):
    alice, _ = alice_chat

    response = await client.post(
        "/chat/message", content=b'{"content": ', headers={**alice.headers,
                                                           "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {"body": ["The request body is not valid JSON."]}


async def test_limits_are_inclusive_for_titles_and_counted_in_characters_for_content(
    client, alice_chat
):
    alice, conversation = alice_chat

    titled = await client.post(
        "/chat/start", json={"title": "  " + "t" * 200 + "  "}, headers=alice.headers
    )
    longest = await client.post(
        "/chat/message", json={"conversation_id": conversation, "content": "é" * 100_000},
        headers=alice.headers,
    )

    assert titled.status_code == 201
    assert titled.json()["title"] == "t" * 200
    assert longest.status_code == 201


async def test_values_that_look_like_operators_are_stored_as_plain_text(client, alice_chat):
    alice, conversation = alice_chat

    renamed = await client.put(
        f"/chat/conversations/{conversation}", json={"title": "$title"}, headers=alice.headers
    )
    said = await client.post(
        "/chat/message", json={"conversation_id": conversation, "content": '{"$gt": ""}'},
        headers=alice.headers,
    )

    assert renamed.json()["conversation"]["title"] == "$title"
    assert said.status_code == 201
    messages = await client.get(
        f"/chat/conversations/{conversation}/messages", headers=alice.headers
    )
    assert messages.json()["messages"][-1]["content"] == '{"$gt": ""}'
