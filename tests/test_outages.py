"""Database outages: 503 within two seconds, the other database's routes unharmed, recovery
without a restart, and no half-written message. The real servers are stopped and started."""

import asyncio
import time
from collections import Counter

from collections.abc import Iterator

import httpx
import pytest
from bson import ObjectId
from litestar.testing import AsyncTestClient

from aura.app import create_app
from tests import servers
from tests.browser import conftest as browser_conftest
from tests.conftest import replace_settings
from tests.factories import ChatUser, chat_user, start
from tests.identity import PASSWORD, bearer, login, mint, user_with_token

UNAVAILABLE = {"message": "Service Unavailable."}


@pytest.fixture(scope="module")
def mongo_server() -> Iterator[servers.Secantus]:
    """This module's own MongoDB-wire server, which its tests stop and start; every fixture
    of the module that needs MongoDB (settings, live_server) gets this one."""
    server = servers.Secantus.create()
    yield server
    server.stop()


# `aura serve` in its own process, on this module's MongoDB server.
live_server = browser_conftest.live_server


async def _timed(call) -> tuple[object, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def _assert_unavailable(response, elapsed: float) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.json() == UNAVAILABLE
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < 2.0


async def _eventually(call, status: int = 200, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        response = await call()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


def _requests_needing_postgres(client, email: str, token: str, conversation_id: str) -> dict:
    """With the session cookie and with a bearer token: every one reads PostgreSQL first."""
    xsrf = {"X-XSRF-TOKEN": client.cookies.get("XSRF-TOKEN")}
    return {
        "me by session": lambda: client.get("/api/auth/me"),
        "mint by session": lambda: client.post("/api/auth/token", json={}, headers=xsrf),
        "csrf cookie": lambda: client.get("/sanctum/csrf-cookie"),
        "user by token": lambda: client.get("/api/user", headers=bearer(token)),
        "tokens by token": lambda: client.get("/api/auth/tokens", headers=bearer(token)),
        "history by token": lambda: client.get("/chat/history", headers=bearer(token)),
        "message by token": lambda: client.post(
            "/chat/message", json={"conversation_id": conversation_id, "content": "hola"},
            headers=bearer(token),
        ),
        "login": lambda: client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}, headers=xsrf
        ),
    }


async def test_with_postgres_stopped_requests_answer_503_and_recover_without_restart(
    settings, stoppable_postgres
):
    server, url = stoppable_postgres
    app = create_app(replace_settings(settings, database_url=url))
    async with AsyncTestClient(app=app) as client:
        email = f"alice-{ObjectId()}@example.test"
        alice = await chat_user(client, email=email)
        conversation = await start(client, alice)
        await login(client, email=email)
        token = alice.headers["Authorization"].removeprefix("Bearer ")
        calls = _requests_needing_postgres(client, email, token, conversation["id"])

        server.stop()
        try:
            for call in calls.values():
                response, elapsed = await _timed(call())
                _assert_unavailable(response, elapsed)
        finally:
            server.start()

        recovered = await _eventually(lambda: client.get("/api/user", headers=alice.headers))
        assert recovered.status_code == 200
        assert (await client.get("/api/auth/me")).status_code == 200


async def test_bearer_requests_recover_within_seconds_after_a_long_postgres_outage(
    settings, stoppable_postgres
):
    """The guard's pool keeps failing to reconnect through a 40 s outage; once PostgreSQL is
    back, the next requests must not wait out a reconnect backoff grown during it (psycopg_pool
    would wait up to half a minute more by default)."""
    server, url = stoppable_postgres
    app = create_app(replace_settings(settings, database_url=url))
    async with AsyncTestClient(app=app) as client:
        _, token = await user_with_token(client, email=f"long-{ObjectId()}@example.test")
        assert (await client.get("/api/user", headers=bearer(token))).status_code == 200

        server.stop()
        try:
            outage_ends = time.monotonic() + 40
            while time.monotonic() < outage_ends:
                response, elapsed = await _timed(client.get("/api/user", headers=bearer(token)))
                _assert_unavailable(response, elapsed)
                await asyncio.sleep(0.5)
        finally:
            server.start()

        back = time.monotonic()
        recovered = await _eventually(
            lambda: client.get("/api/user", headers=bearer(token)), seconds=20
        )
        assert recovered.status_code == 200
        assert time.monotonic() - back < 8


def _chat_requests(client, user: ChatUser, conversation_id: str) -> list:
    path = f"/chat/conversations/{conversation_id}"
    return [
        lambda: client.get("/chat/history", headers=user.headers),
        lambda: client.post("/chat/start", json={}, headers=user.headers),
        lambda: client.post(
            "/chat/message", json={"conversation_id": conversation_id, "content": "hola"},
            headers=user.headers,
        ),
        lambda: client.get(f"{path}/messages", headers=user.headers),
        lambda: client.put(path, json={"title": "Nuevo"}, headers=user.headers),
        lambda: client.delete(path, headers=user.headers),
    ]


async def test_with_mongo_stopped_chat_answers_503_while_auth_keeps_working(
    client, mongo_server, mongo_db
):
    alice = await chat_user(client)
    conversation = await start(client, alice)
    before = mongo_db.conversations.find_one()

    mongo_server.stop()
    try:
        for call in _chat_requests(client, alice, conversation["id"]):
            response, elapsed = await _timed(call())
            _assert_unavailable(response, elapsed)
        logged_in = await login(client)
        minted = await mint(client, name="during-outage")
        me = await client.get("/api/user", headers=bearer(minted))
    finally:
        mongo_server.start()

    assert logged_in.status_code == 200
    assert me.status_code == 200
    recovered = await _eventually(lambda: client.get("/chat/history", headers=alice.headers))
    assert [c["id"] for c in recovered.json()["conversations"]] == [conversation["id"]]
    assert mongo_db.conversations.find_one() == before


async def _send_until_refused(client: httpx.AsyncClient, conversation_id: str, sender: int):
    """Append messages until the server has refused a few; returns (content, status) pairs."""
    answers = []
    for number in range(2_000):
        content = f"s{sender}-m{number}"
        try:
            response = await client.post(
                "/chat/message", json={"conversation_id": conversation_id, "content": content}
            )
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        answers.append((content, status))
        if sum(status != 201 for _, status in answers) >= 3:
            return answers
    return answers


def _check_no_partial_state(database, conversation_ids: list[str], answers: list) -> None:
    """Every 201 stored once; each conversation's activity is exactly its newest message's."""
    stored = Counter(m["content"] for m in database.messages.find({}, {"content": 1}))
    acknowledged = [content for content, status in answers if status == 201]
    assert all(stored[content] == 1 for content in acknowledged)
    assert set(stored) <= {content for content, _ in answers}
    for conversation_id in conversation_ids:
        conversation = database.conversations.find_one({"_id": ObjectId(conversation_id)})
        newest = database.messages.find_one(
            {"conversation_id": ObjectId(conversation_id)}, sort=[("created_at", -1)]
        )
        expected = newest["created_at"] if newest else conversation["created_at"]
        assert conversation["last_message_at"] == expected


async def test_messages_sent_across_a_mongo_outage_are_stored_whole_or_not_at_all(
    live_server, mongo_server, mongo_db
):
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        _, token = await user_with_token(client)
        client.headers["Authorization"] = f"Bearer {token}"
        conversations = [(await client.post("/chat/start", json={})).json()["id"]
                         for _ in range(8)]
        senders = [asyncio.create_task(_send_until_refused(client, conversation_id, number))
                   for number, conversation_id in enumerate(conversations)]
        await asyncio.sleep(1.5)

        await asyncio.to_thread(mongo_server.stop)
        answers = [pair for batch in await asyncio.gather(*senders) for pair in batch]
        await asyncio.to_thread(mongo_server.start)

    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {201, 503}
    assert statuses[201] > 0 and statuses[503] > 0
    _check_no_partial_state(mongo_db, conversations, answers)


async def test_concurrent_appends_to_one_conversation_over_http_are_all_stored_and_bumped(
    live_server, mongo_db
):
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        _, token = await user_with_token(client)
        client.headers["Authorization"] = f"Bearer {token}"
        conversation = (await client.post("/chat/start", json={})).json()["id"]

        answers = await asyncio.gather(*(
            client.post("/chat/message", json={"conversation_id": conversation,
                                                "content": f"a la vez {number}"})
            for number in range(30)
        ))

    assert [answer.status_code for answer in answers] == [201] * 30
    answers_as_pairs = [(f"a la vez {number}", 201) for number in range(30)]
    _check_no_partial_state(mongo_db, [conversation], answers_as_pairs)


async def test_a_session_that_cannot_be_saved_answers_503_not_500(settings):
    app = create_app(replace_settings(
        settings, db_pool_size=1, db_max_overflow=0, db_connect_timeout=0.2
    ))
    async with AsyncTestClient(app=app) as client:
        async with app.state.engine.connect():
            response = await client.get("/sanctum/csrf-cookie")

        later = await client.get("/sanctum/csrf-cookie")

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert "retry-after" in response.headers
    assert later.status_code == 204
