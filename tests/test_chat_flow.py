"""The chat service's endpoints over HTTP, as the SPA drives them."""

import re

from bson import ObjectId

from tests.factories import chat_user, say, start
from tests.identity import prime_csrf, register

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DEFAULT_THEME = {"bubble_color": "#7B2FE3", "background_color": "#070a14"}


async def _history(client, user, **params) -> dict:
    response = await client.get("/chat/history", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _messages(client, user, conversation_id: str, **params) -> dict:
    response = await client.get(
        f"/chat/conversations/{conversation_id}/messages", params=params, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_seed_flow_lists_the_conversation_first_with_its_new_activity(client):
    alice = await chat_user(client)
    empty = await _history(client, alice)
    older = await start(client, alice, "Primera")
    await start(client, alice, "Segunda")

    sent = await say(client, alice, older["id"], "Hola")
    reply = await say(client, alice, older["id"], "¿Qué tal?", role="assistant")

    history = await _history(client, alice)
    assert empty == {"conversations": [], "next_cursor": None}
    assert [c["title"] for c in history["conversations"]] == ["Primera", "Segunda"]
    assert history["conversations"][0]["last_message_at"] == reply["created_at"]
    messages = (await _messages(client, alice, older["id"]))["messages"]
    assert [(m["id"], m["role"], m["content"]) for m in messages] == [
        (sent["id"], "user", "Hola"), (reply["id"], "assistant", "¿Qué tal?"),
    ]


async def test_start_answers_201_with_the_default_title_and_theme(client):
    alice = await chat_user(client)

    response = await client.post("/chat/start", headers=alice.headers)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "title", "created_at", "theme"}
    assert ObjectId.is_valid(body["id"])
    assert body["title"] == "Nueva conversación"
    assert body["theme"] == DEFAULT_THEME
    assert ISO_Z.match(body["created_at"])


async def test_history_items_carry_every_field_as_iso_utc(client):
    alice = await chat_user(client)
    started = await start(client, alice, "Plan")

    item = (await _history(client, alice))["conversations"][0]

    assert item == {
        "id": started["id"], "title": "Plan", "created_at": started["created_at"],
        "updated_at": started["created_at"], "last_message_at": started["created_at"],
        "theme": DEFAULT_THEME,
    }


async def test_titles_are_trimmed_and_a_blank_title_becomes_the_default(client):
    alice = await chat_user(client)

    trimmed = await start(client, alice, "  Viaje a Lima \n")
    blank = await start(client, alice, "   ")

    assert trimmed["title"] == "Viaje a Lima"
    assert blank["title"] == "Nueva conversación"


async def test_first_user_message_titles_an_untitled_conversation_with_six_words(client):
    alice = await chat_user(client)
    conversation = await start(client, alice)

    await say(client, alice, conversation["id"], "  Necesito ayuda con mi  viaje a Lima en mayo")
    await say(client, alice, conversation["id"], "Otra pregunta distinta")

    assert (await _history(client, alice))["conversations"][0]["title"] == (
        "Necesito ayuda con mi viaje a"
    )


async def test_an_assistant_message_or_a_chosen_title_is_not_retitled(client):
    alice = await chat_user(client)
    untitled = await start(client, alice)
    titled = await start(client, alice, "Mi título")

    await say(client, alice, untitled["id"], "Hola, soy el asistente", role="assistant")
    await say(client, alice, titled["id"], "Hola a todos")

    titles = {c["id"]: c["title"] for c in (await _history(client, alice))["conversations"]}
    assert titles == {untitled["id"]: "Nueva conversación", titled["id"]: "Mi título"}


async def test_put_renames_and_recolours_and_answers_the_conversation(client):
    alice = await chat_user(client)
    conversation = await start(client, alice)

    response = await client.put(
        f"/chat/conversations/{conversation['id']}",
        json={"title": " Recetas ", "bubble_color": "#112233"}, headers=alice.headers,
    )

    assert response.status_code == 200
    body = response.json()["conversation"]
    assert body["title"] == "Recetas"
    assert body["theme"] == {"bubble_color": "#112233", "background_color": "#070a14"}
    assert body["updated_at"] >= conversation["created_at"]
    assert (await _history(client, alice))["conversations"][0] == body


async def test_put_with_a_blank_title_restores_the_default(client):
    alice = await chat_user(client)
    conversation = await start(client, alice, "Algo")

    response = await client.put(
        f"/chat/conversations/{conversation['id']}", json={"title": ""}, headers=alice.headers
    )

    assert response.json()["conversation"]["title"] == "Nueva conversación"


async def test_put_with_an_empty_object_changes_nothing(client, mongo_db):
    alice = await chat_user(client)
    conversation = await start(client, alice, "Algo")
    before = mongo_db.conversations.find_one()

    response = await client.put(
        f"/chat/conversations/{conversation['id']}", json={}, headers=alice.headers
    )

    assert response.status_code == 200
    assert response.json()["conversation"]["title"] == "Algo"
    assert mongo_db.conversations.find_one() == before


async def test_delete_removes_the_conversation_and_all_its_messages(client, mongo_db):
    alice = await chat_user(client)
    doomed = await start(client, alice)
    kept = await start(client, alice)
    for text in ("uno", "dos", "tres"):
        await say(client, alice, doomed["id"], text)
    await say(client, alice, kept["id"], "sigo aquí")

    response = await client.delete(f"/chat/conversations/{doomed['id']}", headers=alice.headers)
    again = await client.delete(f"/chat/conversations/{doomed['id']}", headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert again.status_code == 404
    assert mongo_db.messages.count_documents({"conversation_id": ObjectId(doomed["id"])}) == 0
    assert mongo_db.messages.count_documents({"conversation_id": ObjectId(kept["id"])}) == 1
    assert [c["id"] for c in (await _history(client, alice))["conversations"]] == [kept["id"]]


async def test_unicode_round_trips_unchanged_in_titles_and_contents(client):
    alice = await chat_user(client)
    title = "Café ☕ 日本語 👩‍💻"
    content = "e\u0301 n\u0303 — 漢字かなカナ 한국어 🇵🇪 🧑🏽‍🚀 \u200d ﷽"
    conversation = await start(client, alice, title)

    await say(client, alice, conversation["id"], content)
    renamed = await client.put(
        f"/chat/conversations/{conversation['id']}", json={"title": content},
        headers=alice.headers,
    )

    assert conversation["title"] == title
    assert renamed.json()["conversation"]["title"] == content.strip()
    messages = (await _messages(client, alice, conversation["id"]))["messages"]
    assert messages[0]["content"] == content


async def test_requests_without_credentials_are_401(client):
    conversation_id = str(ObjectId())

    answers = [
        await client.get("/chat/history"),
        await client.post("/chat/start", json={}),
        await client.get(f"/chat/conversations/{conversation_id}/messages"),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].json() == {"message": "Unauthenticated."}


async def test_a_read_only_token_reads_but_cannot_write(client, mongo_db):
    reader = await chat_user(client, abilities=["chat:read"])

    listed = await client.get("/chat/history", headers=reader.headers)
    started = await client.post("/chat/start", json={}, headers=reader.headers)

    assert listed.status_code == 200
    assert started.status_code == 403
    assert mongo_db.conversations.count_documents({}) == 0


async def test_a_write_only_token_writes_but_cannot_read(client):
    writer = await chat_user(client, abilities=["chat:write"])

    started = await client.post("/chat/start", json={}, headers=writer.headers)
    listed = await client.get("/chat/history", headers=writer.headers)

    assert started.status_code == 201
    assert listed.status_code == 403


async def test_the_session_cookie_authenticates_and_writes_need_the_xsrf_header(client, mongo_db):
    await register(client)
    xsrf = await prime_csrf(client)

    listed = await client.get("/chat/history")
    forged = await client.post("/chat/start", json={})
    started = await client.post("/chat/start", json={}, headers={"X-XSRF-TOKEN": xsrf})

    assert listed.status_code == 200
    assert forged.status_code == 419
    assert started.status_code == 201
    assert mongo_db.conversations.count_documents({}) == 1
