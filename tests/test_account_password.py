"""Changing the password: it ends every other session and revokes every token, and says so."""

import pytest

from tests.account_helpers import sessions_of, sign_in, sql, status_as, use, xsrf
from tests.identity import PASSWORD, bearer, login, mint, register

NEW_PASSWORD = "a brand new passphrase"


def _change(current: str = PASSWORD, new: str = NEW_PASSWORD, confirmation: str | None = None):
    return {
        "current_password": current, "password": new,
        "password_confirmation": new if confirmation is None else confirmation,
    }


async def _user_on_three_devices_with_two_tokens(client) -> tuple[list[dict], list[str]]:
    await register(client)
    await client.post("/api/auth/logout", headers=xsrf(client))
    devices = [await sign_in(client, agent) for agent in ("laptop", "phone", "tablet")]
    tokens = [await mint(client, name="cli"), await mint(client, name="chat")]
    return devices, tokens


async def test_a_new_password_ends_the_other_sessions_revokes_every_token_and_says_so(
    client, database_url
):
    (laptop, phone, tablet), tokens = await _user_on_three_devices_with_two_tokens(client)
    use(client, laptop)

    response = await client.post("/api/auth/password", json=_change(), headers=xsrf(client))

    assert response.status_code == 200
    body = response.json()
    assert body["sessions_ended"] == 2
    assert body["tokens_revoked"] == 2
    assert "message" in body
    assert (await client.get("/api/auth/me")).status_code == 200
    for device in (phone, tablet):
        assert await status_as(client, device) == 401
    for token in tokens:
        assert (await client.get("/api/user", headers=bearer(token))).status_code == 401
    assert sql(database_url, "SELECT password FROM users")[0][0].startswith("$2y$04$")


async def test_after_the_change_only_the_new_password_logs_in(client):
    await register(client)

    await client.post("/api/auth/password", json=_change(), headers=xsrf(client))

    client.cookies.clear()
    assert (await login(client, password=PASSWORD)).status_code == 401
    client.cookies.clear()
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_with_a_bearer_token_every_session_ends_and_that_token_too(client):
    (laptop, _, _), _ = await _user_on_three_devices_with_two_tokens(client)
    use(client, laptop)
    token = await mint(client, name="changer")
    client.cookies.clear()

    response = await client.post("/api/auth/password", json=_change(), headers=bearer(token))

    assert response.json()["sessions_ended"] == 3
    assert response.json()["tokens_revoked"] == 3
    assert (await client.get("/api/user", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_change(current="not the password"), "current_password"),
        ({"password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}, "current_password"),
        (_change(new="short"), "password"),
        (_change(confirmation="something else"), "password"),
        (_change(new="é" * 40), "password"),
        ({"current_password": PASSWORD}, "password"),
    ],
)
async def test_a_refused_change_is_422_on_its_field_and_changes_nothing(
    client, database_url, body, field
):
    (laptop, phone, _), tokens = await _user_on_three_devices_with_two_tokens(client)
    use(client, laptop)
    before = sql(database_url, "SELECT password FROM users")

    response = await client.post("/api/auth/password", json=body, headers=xsrf(client))

    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert sql(database_url, "SELECT password FROM users") == before
    assert len(await sessions_of(client)) == 3
    assert (await client.get("/api/user", headers=bearer(tokens[0]))).status_code == 200


async def test_changing_the_password_by_cookie_needs_the_csrf_header(client, database_url):
    await register(client)
    before = sql(database_url, "SELECT password FROM users")

    response = await client.post("/api/auth/password", json=_change())

    assert response.status_code == 419
    assert sql(database_url, "SELECT password FROM users") == before
