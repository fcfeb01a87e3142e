"""Register, log in, log out, sessions, CSRF and throttling, over HTTP."""

import psycopg
import pytest

from tests.identity import PASSWORD, bearer, login, prime_csrf, register, user_with_token


async def test_register_logs_in_and_returns_the_user_without_secrets(client):
    response = await register(client)

    assert response.status_code == 200
    user = response.json()["user"]
    assert set(user) == {"id", "name", "email", "email_verified_at"}
    assert (await client.get("/api/auth/me")).json()["user"] == user


async def test_register_writes_a_2y_bcrypt_hash_at_the_configured_cost(client, database_url):
    await register(client)

    with psycopg.connect(database_url) as connection:
        hashed = connection.execute("SELECT password FROM users").fetchone()[0]

    assert hashed.startswith("$2y$04$")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@b.io", "password": PASSWORD, "password_confirmation": PASSWORD}, "name"),
        ({"name": "x" * 256, "email": "a@b.io", "password": PASSWORD,
          "password_confirmation": PASSWORD}, "name"),
        ({"name": "A", "email": "not-an-email", "password": PASSWORD,
          "password_confirmation": PASSWORD}, "email"),
        ({"name": "A", "email": "a" * 251 + "@b.io", "password": PASSWORD,
          "password_confirmation": PASSWORD}, "email"),
        ({"name": "A", "email": "a@b.io", "password": "short", "password_confirmation": "short"},
         "password"),
        ({"name": "A", "email": "a@b.io", "password": PASSWORD, "password_confirmation": "other"},
         "password"),
        ({"name": "A", "email": "a@b.io", "password": "é" * 40, "password_confirmation": "é" * 40},
         "password"),
        ({"name": ["A"], "email": "a@b.io", "password": PASSWORD,
          "password_confirmation": PASSWORD}, "name"),
        ({"name": "A\x00", "email": "a@b.io", "password": PASSWORD,
          "password_confirmation": PASSWORD}, "name"),
    ],
)
async def test_invalid_registration_is_422_with_the_field_and_creates_nobody(
    client, database_url, body, field
):
    xsrf = await prime_csrf(client)

    response = await client.post("/api/auth/register", json=body, headers={"X-XSRF-TOKEN": xsrf})

    assert response.status_code == 422
    assert field in response.json()["errors"]
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone()[0] == 0


async def test_email_is_unique_regardless_of_letter_case(client, app):
    await register(client, email="alice@example.test")
    client.cookies.clear()

    response = await register(client, email="ALICE@Example.TEST")

    assert response.status_code == 422
    assert response.json()["errors"]["email"] == ["The email has already been taken."]


async def test_login_with_the_right_password_starts_a_new_session_id(client):
    await register(client)
    await client.post("/api/auth/logout", headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]})
    await prime_csrf(client)
    before = client.cookies.get("aura_session")

    response = await login(client)

    assert response.status_code == 200
    assert response.json()["user"]["email"] == "alice@example.test"
    assert client.cookies.get("aura_session") not in (None, before)


async def test_login_is_case_insensitive_on_the_email(client):
    await register(client)
    client.cookies.clear()

    response = await login(client, email="Alice@EXAMPLE.test")

    assert response.status_code == 200


async def test_unknown_email_and_wrong_password_get_the_same_answer(client):
    await register(client)
    client.cookies.clear()

    wrong_password = await login(client, password="not the password")
    unknown_email = await login(client, email="nobody@example.test")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


async def test_the_sixth_failed_login_within_a_minute_is_429_with_retry_after(client):
    await register(client)
    client.cookies.clear()
    for _ in range(5):
        assert (await login(client, password="wrong password")).status_code == 401

    response = await login(client, password="wrong password")

    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert (await login(client)).status_code == 429


async def test_a_successful_login_clears_the_failure_count(client):
    await register(client)
    client.cookies.clear()
    for _ in range(4):
        await login(client, password="wrong password")
    assert (await login(client)).status_code == 200

    for _ in range(4):
        await login(client, password="wrong password")

    assert (await login(client)).status_code == 200


async def test_throttling_counts_per_email(client):
    await register(client)
    client.cookies.clear()
    for _ in range(6):
        await login(client, email="other@example.test", password="wrong password")

    assert (await login(client)).status_code == 200


async def test_cookie_authenticated_post_without_xsrf_header_is_419_and_changes_nothing(
    client, database_url
):
    await register(client)

    response = await client.post("/api/auth/token", json={})

    assert response.status_code == 419
    assert response.json() == {"message": "CSRF token mismatch."}
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM personal_access_tokens").fetchone()[0] == 0


async def test_a_wrong_xsrf_header_is_419(client):
    await register(client)

    response = await client.post("/api/auth/token", json={}, headers={"X-XSRF-TOKEN": "f" * 80})

    assert response.status_code == 419


async def test_csrf_cookie_is_readable_by_scripts_and_session_cookie_is_not(client):
    response = await client.get("/sanctum/csrf-cookie")

    assert response.status_code == 204
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    assert "HttpOnly" not in cookies["XSRF-TOKEN"]
    assert "HttpOnly" in cookies["aura_session"]
    assert "SameSite=lax" in cookies["aura_session"]


async def test_sessions_rows_carry_laravels_columns(client, database_url):
    user_id = (await register(client)).json()["user"]["id"]

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT user_id, ip_address, user_agent, last_activity FROM sessions"
            " WHERE user_id IS NOT NULL"
        ).fetchall()

    assert len(rows) == 1
    assert rows[0][0] == user_id
    assert rows[0][1]
    assert rows[0][3] > 0


async def test_logout_destroys_the_session_so_the_old_cookie_is_401(client, database_url):
    await register(client)
    old_cookie = client.cookies.get("aura_session")

    response = await client.post(
        "/api/auth/logout", headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]}
    )

    assert response.status_code == 200
    client.cookies.clear()
    client.cookies.set("aura_session", old_cookie)
    assert (await client.get("/api/auth/me")).status_code == 401
    with psycopg.connect(database_url) as connection:
        assert connection.execute(
            "SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"
        ).fetchone()[0] == 0


async def test_me_without_a_session_or_token_is_401(client):
    response = await client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


async def test_a_bearer_only_request_sets_no_session(client):
    response = await client.get("/api/user", headers={"Authorization": "Bearer 1|nope"})

    assert response.status_code == 401
    assert "aura_session" not in response.headers.get("set-cookie", "")


async def test_login_with_a_non_object_body_is_422(client):
    response = await client.post("/api/auth/login", content=b"[1, 2]",
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 422


async def test_login_with_invalid_json_is_422(client):
    response = await client.post("/api/auth/login", content=b"{nope",
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 422


async def test_a_login_without_any_cookie_still_starts_a_session(client):
    """A client sending its bearer token on every call logs in with no cookie at all: the
    session it starts is stored and its cookie set, though the request arrived without one."""
    _, token = await user_with_token(client)
    assert not client.cookies

    response = await client.post(
        "/api/auth/login", json={"email": "alice@example.test", "password": PASSWORD},
        headers=bearer(token),
    )

    assert response.status_code == 200
    assert "aura_session" in client.cookies
    assert (await client.get("/api/auth/me")).json()["user"]["email"] == "alice@example.test"
