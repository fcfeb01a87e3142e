"""Deleting an account: nothing of the user stays in PostgreSQL or MongoDB, and a deletion an
outage interrupted is finished by `aura account purge` or at the next start."""

import asyncio
from datetime import datetime

import pytest
from bson import ObjectId
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from pymongo import MongoClient

from aura.accounts.account_controllers import STILL_DELETING
from aura.app import create_app
from aura.cli import main
from tests.account_helpers import (  # noqa: F401 - stoppable_mongo is a fixture
    rows_referring_to, sign_in, sql, status_as, stoppable_mongo, use, xsrf,
)
from tests.conftest import replace_settings
from tests.factories import ChatUser, chat_user, flask_conversation, flask_message, say, start
from tests.identity import PASSWORD, bearer, insert_token_row, laravel_secret, login, register

GONE = {"users": 0, "sessions": 0, "personal_access_tokens": 0}
STAMP = datetime(2024, 5, 1, 12, 0, 0)


async def _alice_with_chat(client, db) -> tuple[ChatUser, dict[str, str]]:
    """Alice with a token, a session, conversations written by Aura and by Flask, and a message
    whose conversation is already gone."""
    alice = await chat_user(client)
    for title in ("uno", "dos"):
        conversation = await start(client, alice, title)
        await say(client, alice, conversation["id"], f"hola {title}")
    old = flask_conversation(db, alice.id, "from flask", STAMP)
    flask_message(db, alice.id, old, "old message", STAMP)
    flask_message(db, alice.id, str(ObjectId()), "orphan", STAMP)
    return alice, await sign_in(client, "laptop")


async def _bob_with_chat(client) -> ChatUser:
    bob = await chat_user(client, "bob@example.test")
    conversation = await start(client, bob, "bob's")
    await say(client, bob, conversation["id"], "hi")
    return bob


def _delete_account(client, password: str = PASSWORD, headers: dict | None = None):
    return client.request(
        "DELETE", "/api/auth/account", json={"password": password},
        headers=xsrf(client) if headers is None else headers,
    )


def _chat_documents(db, user_id: int) -> int:
    owner = str(user_id)
    return db.conversations.count_documents({"user_id": owner}) + db.messages.count_documents(
        {"user_id": owner}
    )


async def test_after_deletion_nothing_of_the_user_remains_and_old_credentials_are_401(
    client, database_url, mongo_db
):
    bob = await _bob_with_chat(client)
    alice, laptop = await _alice_with_chat(client, mongo_db)
    use(client, laptop)

    response = await _delete_account(client)

    assert response.status_code == 200
    assert _chat_documents(mongo_db, alice.id) == 0
    assert rows_referring_to(database_url, alice.id) == GONE
    assert (await client.get("/api/auth/me")).status_code == 401
    assert await status_as(client, laptop) == 401
    assert (await client.get("/chat/history", headers=alice.headers)).status_code == 401
    assert mongo_db.conversations.count_documents({"user_id": str(bob.id)}) == 1
    assert mongo_db.messages.count_documents({"user_id": str(bob.id)}) == 1
    assert rows_referring_to(database_url, bob.id)["users"] == 1


async def test_the_email_is_free_again_after_deletion(client, mongo_db):
    _, laptop = await _alice_with_chat(client, mongo_db)
    use(client, laptop)
    await _delete_account(client)
    client.cookies.clear()

    response = await register(client)

    assert response.status_code == 200


async def test_a_bearer_token_can_delete_its_account_with_the_password(
    client, database_url, mongo_db
):
    alice, _ = await _alice_with_chat(client, mongo_db)
    client.cookies.clear()

    response = await _delete_account(client, headers=alice.headers)

    assert response.status_code == 200
    assert rows_referring_to(database_url, alice.id) == GONE
    assert _chat_documents(mongo_db, alice.id) == 0


@pytest.mark.parametrize(
    ("password", "headers", "status"),
    [("wrong password", None, 422), (PASSWORD, {}, 419)],
    ids=["wrong password", "no csrf header"],
)
async def test_a_refused_deletion_changes_nothing(
    client, database_url, mongo_db, password, headers, status
):
    alice, laptop = await _alice_with_chat(client, mongo_db)
    use(client, laptop)
    before = rows_referring_to(database_url, alice.id)

    response = await _delete_account(client, password, headers)

    assert response.status_code == status
    assert rows_referring_to(database_url, alice.id) == before
    assert _chat_documents(mongo_db, alice.id) == 7
    assert (await client.get("/api/auth/me")).status_code == 200
    assert (await client.get("/chat/history", headers=alice.headers)).status_code == 200


async def test_a_token_of_an_account_marked_for_deletion_is_refused(client, database_url):
    user_id = (await register(client)).json()["user"]["id"]
    sql(database_url, "UPDATE users SET remember_token = '!aura:deleting' WHERE id = %s", user_id)
    secret = laravel_secret("L" * 40)
    token_id = insert_token_row(database_url, user_id, secret)
    client.cookies.clear()

    response = await client.get("/api/user", headers=bearer(f"{token_id}|{secret}"))

    assert response.status_code == 401


def _purge(settings, mongo_uri: str):
    env = {
        "DATABASE_URL": settings.database_url.get_secret_value(), "MONGO_URI": mongo_uri,
        "MONGO_DB": settings.mongo_db, "AURA_ENV": "development",
    }
    return CliRunner().invoke(main, ["account", "purge"], env=env)


async def _finish_with_the_cli(settings, mongo_uri: str) -> None:
    # In a thread: the command runs its own event loop, as it does from a shell.
    result = await asyncio.to_thread(_purge, settings, mongo_uri)
    assert result.exit_code == 0, result.output
    assert "Deleted 1 marked account(s)" in result.output


async def _finish_at_start(settings, mongo_uri: str) -> None:
    async with AsyncTestClient(app=create_app(replace_settings(settings, mongo_uri=mongo_uri))):
        pass


@pytest.mark.parametrize("finish", [_finish_with_the_cli, _finish_at_start],
                         ids=["aura account purge", "next start"])
async def test_with_mongodb_down_deletion_is_503_the_account_is_locked_and_is_finished_later(
    settings, database_url, stoppable_mongo, finish
):
    own = replace_settings(settings, mongo_uri=stoppable_mongo.uri)
    db = MongoClient(stoppable_mongo.uri)[settings.mongo_db]
    async with AsyncTestClient(app=create_app(own)) as client:
        bob = await _bob_with_chat(client)
        alice, laptop = await _alice_with_chat(client, db)
        use(client, laptop)
        stoppable_mongo.stop()

        response = await _delete_account(client)

        assert response.status_code == 503
        assert response.json() == {"message": STILL_DELETING}
        assert int(response.headers["retry-after"]) > 0
        assert (await client.get("/api/auth/me")).status_code == 401
        assert (await client.get("/api/user", headers=alice.headers)).status_code == 401
        client.cookies.clear()
        assert (await login(client)).status_code == 401
    assert rows_referring_to(database_url, alice.id) == {**GONE, "users": 1}

    stoppable_mongo.start()
    await finish(settings, stoppable_mongo.uri)

    assert rows_referring_to(database_url, alice.id) == GONE
    assert _chat_documents(db, alice.id) == 0
    assert _chat_documents(db, bob.id) == 2
    db.client.close()


async def test_purge_with_mongodb_down_says_so_and_keeps_the_account_marked(
    settings, database_url, stoppable_mongo
):
    sql(
        database_url,
        "INSERT INTO users (name, email, password, remember_token)"
        " VALUES ('Gone', 'gone@example.test', '!deleted', '!aura:deleting')",
    )
    stoppable_mongo.stop()

    result = await asyncio.to_thread(_purge, settings, stoppable_mongo.uri)

    assert result.exit_code == 1
    assert "MongoDB is unreachable" in result.output
    assert sql(database_url, "SELECT count(*) FROM users WHERE remember_token IS NOT NULL") == [
        (1,)
    ]
