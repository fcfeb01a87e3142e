"""Documents the Flask service wrote load, list, update and grow as they are."""

from datetime import datetime

from bson import ObjectId

from aura.chat.documents import Conversation, Message
from tests.factories import chat_user, flask_conversation, flask_message

NAIVE = datetime(2024, 3, 9, 18, 30, 15, 123000)
LATER = datetime(2024, 3, 9, 18, 31, 0)


async def test_a_flask_conversation_is_listed_with_z_dates_and_the_default_theme(
    client, mongo_db
):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Antigua", NAIVE)

    response = await client.get("/chat/history", headers=alice.headers)

    assert response.json()["conversations"] == [{
        "id": conversation, "title": "Antigua", "created_at": "2024-03-09T18:30:15.123000Z",
        "updated_at": "2024-03-09T18:30:15.123000Z",
        "last_message_at": "2024-03-09T18:30:15.123000Z",
        "theme": {"bubble_color": "#7B2FE3", "background_color": "#070a14"},
    }]


async def test_flask_messages_read_back_in_order_with_z_dates(client, mongo_db):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Antigua", NAIVE)
    first = flask_message(mongo_db, alice.id, conversation, "pregunta", NAIVE)
    second = flask_message(mongo_db, alice.id, conversation, "respuesta", LATER, "assistant")

    response = await client.get(
        f"/chat/conversations/{conversation}/messages", headers=alice.headers
    )

    assert response.json()["messages"] == [
        {"id": first, "role": "user", "content": "pregunta",
         "created_at": "2024-03-09T18:30:15.123000Z"},
        {"id": second, "role": "assistant", "content": "respuesta",
         "created_at": "2024-03-09T18:31:00.000000Z"},
    ]


async def test_a_flask_conversation_without_theme_is_renamed_and_recoloured(client, mongo_db):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Antigua", NAIVE)

    response = await client.put(
        f"/chat/conversations/{conversation}",
        json={"title": "Renombrada", "background_color": "#101010"}, headers=alice.headers,
    )

    assert response.status_code == 200
    stored = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    assert stored["title"] == "Renombrada"
    assert stored["user_id"] == str(alice.id)
    assert stored["theme"] == {"bubble_color": "#7B2FE3", "background_color": "#101010"}
    assert stored["updated_at"] > stored["created_at"]


async def test_a_null_theme_is_recoloured_with_the_defaults_filled_in(client, mongo_db):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Antigua", NAIVE, theme=None)

    response = await client.put(
        f"/chat/conversations/{conversation}", json={"bubble_color": "#ABCDEF"},
        headers=alice.headers,
    )

    assert response.json()["conversation"]["theme"] == {
        "bubble_color": "#ABCDEF", "background_color": "#070a14",
    }


async def test_appending_to_a_flask_conversation_bumps_it_and_keeps_its_shape(
    client, mongo_db
):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Antigua", NAIVE)
    flask_message(mongo_db, alice.id, conversation, "pregunta", NAIVE)

    response = await client.post(
        "/chat/message", json={"conversation_id": conversation, "content": "nueva"},
        headers=alice.headers,
    )

    assert response.status_code == 201
    stored = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    message = mongo_db.messages.find_one({"_id": ObjectId(response.json()["message"]["id"])})
    assert stored["last_message_at"] == message["created_at"] > stored["created_at"]
    assert stored["title"] == "Antigua"
    assert "theme" not in stored
    assert message["user_id"] == str(alice.id)
    assert message["conversation_id"] == ObjectId(conversation)


async def test_the_flask_default_title_without_accent_is_replaced_by_the_first_message(
    client, mongo_db
):
    alice = await chat_user(client)
    conversation = flask_conversation(mongo_db, alice.id, "Nueva conversacion", NAIVE)

    await client.post(
        "/chat/message", json={"conversation_id": conversation, "content": "Recetas de pan"},
        headers=alice.headers,
    )

    stored = mongo_db.conversations.find_one({"_id": ObjectId(conversation)})
    assert stored["title"] == "Recetas de pan"


def test_the_documents_accept_the_flask_shapes(mongo_db):
    conversation_id = flask_conversation(mongo_db, 7, "Antigua", NAIVE)
    flask_message(mongo_db, 7, conversation_id, "hola", NAIVE)
    raw_conversation = mongo_db.conversations.find_one()
    raw_message = mongo_db.messages.find_one()

    conversation = Conversation.model_validate(raw_conversation)
    message = Message.model_validate(raw_message)

    assert str(conversation.id) == conversation_id
    assert (conversation.user_id, conversation.theme) == ("7", None)
    assert message.client_message_id is None
    assert str(message.conversation_id) == conversation_id
