"""Request logging: one JSON line per request on stderr, and never a secret in any line.

The lines are read from the process's real stderr (pytest's fd capture), as written by the
structlog and logging configuration the app installs, not from a stand-in logger.
"""

import hashlib
import json

import psycopg

from tests.factories import ChatUser, say, start
from tests.identity import PASSWORD, bearer, login, mint, prime_csrf, register, user_with_token

REQUEST_FIELDS = {"request_id", "method", "route", "status", "duration_ms", "user_id", "token_id"}


def _lines(capfd) -> list[dict]:
    """Every line written to stdout and stderr so far, each parsed as a JSON object."""
    captured = capfd.readouterr()
    text = captured.out + captured.err
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _requests(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("logger") == "aura.request"]


async def test_a_token_request_is_logged_once_with_its_route_status_user_and_token(client, capfd):
    user_id, token = await user_with_token(client)
    token_id = int(token.split("|")[0])
    _lines(capfd)

    response = await client.get("/api/user", headers=bearer(token))

    requests = _requests(_lines(capfd))
    assert len(requests) == 1
    line = requests[0]
    assert REQUEST_FIELDS <= set(line)
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/user", 200)
    assert (line["user_id"], line["token_id"]) == (user_id, token_id)
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


async def test_the_route_is_the_template_never_the_concrete_path(client, capfd):
    _, token = await user_with_token(client)
    _lines(capfd)

    await client.delete("/api/auth/tokens/987654321", headers=bearer(token))

    line = _requests(_lines(capfd))[0]
    assert (line["route"], line["status"]) == ("/api/auth/tokens/{token_id}", 404)
    assert "987654321" not in json.dumps(line)


async def test_a_session_request_logs_the_user_without_a_token(client, capfd):
    user_id = (await register(client)).json()["user"]["id"]
    _lines(capfd)

    await client.get("/api/auth/me")

    line = _requests(_lines(capfd))[0]
    assert (line["status"], line["user_id"], line["token_id"]) == (200, user_id, None)


async def test_requests_refused_before_any_handler_are_logged_with_their_status(client, capfd):
    await register(client)
    await prime_csrf(client)
    _lines(capfd)

    await client.post("/api/auth/token", json={})
    client.cookies.clear()
    await client.get("/api/auth/tokens", headers=bearer("1|nope"))
    await client.get("/no/such/path")

    statuses = [(line["route"], line["status"]) for line in _requests(_lines(capfd))]
    assert statuses == [("/api/auth/token", 419), ("/api/auth/tokens", 401), (None, 404)]


def _password_hash(database_url: str) -> str:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT password FROM users").fetchone()[0]


async def _chat(client, user: ChatUser) -> list[str]:
    """Every chat route once; returns the titles and contents, which are bodies."""
    conversation = await start(client, user, "Título privado")
    path = f"/chat/conversations/{conversation['id']}"
    await say(client, user, conversation["id"], "contenido secreto del mensaje")
    await client.get("/chat/history", headers=user.headers)
    await client.get(f"{path}/messages", headers=user.headers)
    await client.put(path, json={"title": "Otro nombre"}, headers=user.headers)
    await client.delete(path, headers=user.headers)
    return ["Título privado", "contenido secreto del mensaje", "Otro nombre"]


async def _full_flow(client) -> list[str]:
    """Register, mint, chat, fail to log in, use bad tokens, revoke; returns every secret."""
    secrets = [PASSWORD, "wrong-password-123", "alice@example.test"]
    await register(client)
    secrets += [client.cookies["aura_session"], client.cookies["XSRF-TOKEN"]]
    token = await mint(client)
    secret = token.split("|", 1)[1]
    secrets += [token, secret, hashlib.sha256(secret.encode()).hexdigest()]
    headers = bearer(token)
    await client.get("/api/auth/tokens", headers=headers)
    secrets += await _chat(client, ChatUser(0, headers))

    client.cookies.clear()
    for _ in range(6):
        await login(client, password="wrong-password-123")
    await login(client, email="nobody@example.test", password="wrong-password-123")
    client.cookies.clear()
    await login(client)
    secrets += [client.cookies.get("aura_session"), client.cookies["XSRF-TOKEN"]]
    await client.get("/api/user", headers=bearer(token[:-1] + "x"))
    await client.get("/api/user", headers=bearer("garbage-token-value"))
    await client.get("/api/user", headers={"Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
    await client.get("/api/user", headers={"Cookie": "aura_session=forged-session-value"})
    await client.post("/api/auth/token/revoke", headers=headers)
    await client.get("/api/user", headers=headers)
    return secrets + ["garbage-token-value", "dXNlcjpwYXNzd29yZA==", "forged-session-value"]


async def test_a_full_flow_with_failed_logins_and_bad_tokens_logs_no_secret(
    client, capfd, caplog, database_url
):
    secrets = await _full_flow(client)

    lines = _lines(capfd)
    records = [f"{record.getMessage()} {record.__dict__}" for record in caplog.records]
    logged = "\n".join([json.dumps(line, ensure_ascii=False) for line in lines] + records)
    assert len(_requests(lines)) >= 20
    for value in [*secrets, _password_hash(database_url)]:
        assert value and value not in logged


async def test_every_request_gets_its_own_id_also_bound_to_lines_logged_inside_it(client, capfd):
    _, token = await user_with_token(client)
    _lines(capfd)

    responses = [await client.get("/api/user", headers=bearer(token)) for _ in range(3)]

    ids = [response.headers["x-request-id"] for response in responses]
    assert len(set(ids)) == 3
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    assert [line["request_id"] for line in _requests(_lines(capfd))] == ids
