"""`GET /api/auth/export`: the user's whole data as one JSON document, streamed."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from bson import ObjectId
from litestar.testing import AsyncTestClient

from aura.app import create_app
from aura.embedded import free_port, stop_process
from tests.account_helpers import sql, stoppable_mongo  # noqa: F401 - a fixture
from tests.browser.conftest import _wait_until_healthy as wait_until_healthy
from tests.conftest import replace_settings
from tests.factories import chat_user, flask_conversation, flask_message, say, start
from tests.identity import PASSWORD

STAMP = datetime(2024, 5, 1, 12, 0, 0)
MB = 1024 * 1024


async def test_the_export_holds_the_profile_the_tokens_and_every_conversation_in_order(
    client, mongo_db
):
    bob = await chat_user(client, "bob@example.test")
    await start(client, bob, "not alice's")
    alice = await chat_user(client)
    old = flask_conversation(mongo_db, alice.id, "from flask", STAMP)
    flask_message(mongo_db, alice.id, old, "first", STAMP)
    flask_message(mongo_db, alice.id, old, "second", STAMP + timedelta(seconds=1), "assistant")
    new = await start(client, alice, "newer")
    await say(client, alice, new["id"], "hola")

    response = await client.get("/api/auth/export", headers=alice.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document["user"] == {"id": alice.id, "name": "Alice", "email": "alice@example.test",
                                "email_verified_at": None}
    assert [set(token) for token in document["tokens"]] == [
        {"id", "name", "abilities", "last_used_at", "expires_at", "created_at"}
    ]
    assert [c["title"] for c in document["conversations"]] == ["newer", "from flask"]
    assert [m["content"] for m in document["conversations"][1]["messages"]] == ["first", "second"]
    assert document["conversations"][1]["messages"][1]["role"] == "assistant"
    assert document["conversations"][1]["messages"][0]["created_at"] == (
        "2024-05-01T12:00:00.000000Z"
    )


async def test_the_export_never_contains_a_password_hash_or_a_token_hash(
    client, database_url
):
    alice = await chat_user(client)
    token = alice.headers["Authorization"].split("|", 1)[1]

    body = (await client.get("/api/auth/export", headers=alice.headers)).text

    stored_password, stored_token = sql(
        database_url,
        "SELECT u.password, t.token FROM users u JOIN personal_access_tokens t"
        " ON t.tokenable_id = u.id",
    )[0]
    for secret in (stored_password, stored_token, token, "password", "remember_token"):
        assert secret not in body


async def test_a_token_without_chat_read_cannot_export(client):
    alice = await chat_user(client, abilities=["chat:write"])

    response = await client.get("/api/auth/export", headers=alice.headers)

    assert response.status_code == 403


async def test_with_mongodb_down_the_export_is_503_before_any_byte_of_a_200(
    settings, stoppable_mongo
):
    app = create_app(replace_settings(settings, mongo_uri=stoppable_mongo.uri))
    async with AsyncTestClient(app=app) as client:
        alice = await chat_user(client)
        stoppable_mongo.stop()

        response = await client.get("/api/auth/export", headers=alice.headers)

    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable."}


CONVERSATIONS = 1_000
MESSAGES_EACH = 20
CONTENT = "x" * 3_000  # 20 000 of these make a document of about 62 MB


def _seed_large_history(db, user_id: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    conversations = [
        {"_id": ObjectId(), "user_id": str(user_id), "title": f"c{n}",
         "created_at": start, "updated_at": start, "last_message_at": start + timedelta(n)}
        for n in range(CONVERSATIONS)
    ]
    db.conversations.insert_many(conversations)
    for conversation in conversations:
        db.messages.insert_many([
            {"conversation_id": conversation["_id"], "user_id": str(user_id), "role": "user",
             "content": CONTENT, "created_at": start + timedelta(seconds=n)}
            for n in range(MESSAGES_EACH)
        ])


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak(pid: int) -> None:
    """From now on VmHWM is the highest RSS reached after this point (Linux clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture
def aura_server(database_url, mongo_server, tmp_path) -> Iterator[tuple[str, int]]:
    """`aura serve` with one worker, which serves in the very process it starts: (url, pid)."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"} | {
        "DATABASE_URL": database_url, "MONGO_URI": mongo_server.uri, "MONGO_DB": "aura_test",
        "AURA_ENV": "development", "AURA_DATA_DIR": str(tmp_path), "BCRYPT_ROUNDS": "4",
        "SECRET_KEY": "export-test-secret-key-that-is-long-enough", "LOG_LEVEL": "WARNING",
    }
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "aura.cli", "serve", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url, process.pid
    finally:
        stop_process(process)


def test_a_large_export_keeps_the_server_memory_flat_and_reparses_to_the_same_counts(
    aura_server, mongo_db, tmp_path
):
    url, pid = aura_server
    session = requests.Session()
    session.get(f"{url}/sanctum/csrf-cookie")
    registered = session.post(
        f"{url}/api/auth/register",
        json={"name": "Big", "email": "big@example.test", "password": PASSWORD,
              "password_confirmation": PASSWORD},
        headers={"X-XSRF-TOKEN": session.cookies["XSRF-TOKEN"]},
    )
    _seed_large_history(mongo_db, registered.json()["user"]["id"])
    before = _kib(pid, "VmRSS")
    _reset_peak(pid)

    target = tmp_path / "export.json"
    with session.get(f"{url}/api/auth/export", stream=True) as response:
        assert response.status_code == 200
        with target.open("wb") as file:
            for chunk in response.iter_content(256 * 1024):
                file.write(chunk)

    growth = (_kib(pid, "VmHWM") - before) * 1024
    assert target.stat().st_size > 55 * MB  # more than the budget: it cannot have been buffered
    assert growth < 50 * MB, f"the server grew by {growth / MB:.1f} MB"
    document = json.loads(target.read_text())
    assert len(document["conversations"]) == CONVERSATIONS
    assert sum(len(c["messages"]) for c in document["conversations"]) == (
        CONVERSATIONS * MESSAGES_EACH
    )
