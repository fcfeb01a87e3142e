"""A person's own sessions over HTTP: listed by fingerprint, ended one by one or all but this."""

import re

from litestar import Request, get
from sqlalchemy import delete

from aura.accounts.models import sessions
from aura.tokens.guard import AuthPrincipal, requires
from tests.account_helpers import (
    SESSION_COOKIE, sessions_of, sign_in, sql, status_as, use, xsrf,
)
from tests.identity import PASSWORD, bearer, mint, register


async def _three_devices(client) -> list[dict[str, str]]:
    await register(client)
    await client.post("/api/auth/logout", headers=xsrf(client))
    return [await sign_in(client, agent) for agent in ("laptop", "phone", "tablet")]


def _logout_others(client, password: str | None):
    body = {} if password is None else {"password": password}
    return client.post("/api/auth/sessions/logout-others", json=body, headers=xsrf(client))


async def test_three_sessions_are_listed_with_address_agent_activity_and_which_is_current(
    client, database_url
):
    laptop, phone, tablet = await _three_devices(client)
    use(client, phone)

    listed = await sessions_of(client)

    assert len(listed) == 3
    assert {entry["user_agent"] for entry in listed} == {"laptop", "phone", "tablet"}
    assert [entry["current"] for entry in listed if entry["user_agent"] == "phone"] == [True]
    assert sum(entry["current"] for entry in listed) == 1
    for entry in listed:
        assert set(entry) == {"id", "ip_address", "user_agent", "last_activity", "current"}
        assert re.fullmatch(r"[0-9a-f]{12}", entry["id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", entry["last_activity"])
        assert entry["ip_address"]


async def test_the_list_never_shows_a_session_id(client, database_url):
    await _three_devices(client)

    body = (await client.get("/api/auth/sessions")).text

    ids = [row[0] for row in sql(database_url, "SELECT id FROM sessions")]
    assert len(ids) == 3
    assert not any(session_id in body or session_id[:12] in body for session_id in ids)


async def test_an_ended_session_cookie_is_401_at_once_and_the_others_keep_working(client):
    laptop, phone, tablet = await _three_devices(client)
    use(client, laptop)
    target = next(e for e in await sessions_of(client) if e["user_agent"] == "phone")

    response = await client.delete(f"/api/auth/sessions/{target['id']}", headers=xsrf(client))

    assert response.status_code == 200
    assert response.json() == {"ended": True, "current": False}
    assert await status_as(client, phone) == 401
    for device in (laptop, tablet):
        assert await status_as(client, device) == 200
    assert {e["user_agent"] for e in await sessions_of(client)} == {"laptop", "tablet"}


async def test_ending_the_current_session_logs_this_device_out(client):
    laptop, _, _ = await _three_devices(client)
    use(client, laptop)
    mine = next(e for e in await sessions_of(client) if e["current"])

    response = await client.delete(f"/api/auth/sessions/{mine['id']}", headers=xsrf(client))

    assert response.json() == {"ended": True, "current": True}
    assert await status_as(client, laptop) == 401


async def test_another_users_session_or_an_unknown_fingerprint_is_404(client):
    await register(client, email="bob@example.test", name="Bob")
    bob = await sign_in(client, "bob's phone", email="bob@example.test")
    bobs = next(e for e in await sessions_of(client) if e["current"])["id"]
    client.cookies.clear()
    await register(client)
    await sign_in(client, "alice's laptop")

    unknown = ("0" * 12, "not-a-fingerprint", "x" * 300, "é" * 12, "%0A%F2%A3%86%B3O%29")
    for fingerprint in (bobs, *unknown):
        response = await client.delete(f"/api/auth/sessions/{fingerprint}", headers=xsrf(client))
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found."}

    assert await status_as(client, bob) == 200


async def test_ending_a_session_by_cookie_needs_the_csrf_header(client):
    laptop, phone, _ = await _three_devices(client)
    use(client, laptop)
    target = next(e for e in await sessions_of(client) if e["user_agent"] == "phone")

    response = await client.delete(f"/api/auth/sessions/{target['id']}")

    assert response.status_code == 419
    assert await status_as(client, phone) == 200


async def test_logout_others_with_the_password_keeps_only_this_session(client):
    laptop, phone, tablet = await _three_devices(client)
    use(client, tablet)

    response = await _logout_others(client, PASSWORD)

    assert response.status_code == 200
    assert response.json()["sessions_ended"] == 2
    assert (await client.get("/api/auth/me")).status_code == 200
    for device in (laptop, phone):
        assert await status_as(client, device) == 401


async def test_logout_others_with_a_wrong_or_missing_password_is_422_and_ends_nothing(client):
    laptop, phone, tablet = await _three_devices(client)
    use(client, tablet)

    wrong = await _logout_others(client, "not it")
    missing = await _logout_others(client, None)

    assert wrong.status_code == 422
    assert wrong.json()["errors"] == {"password": ["The password is incorrect."]}
    assert missing.status_code == 422
    assert "password" in missing.json()["errors"]
    assert len(await sessions_of(client)) == 3


async def test_logout_others_with_a_bearer_token_ends_every_session(client):
    laptop, _, _ = await _three_devices(client)
    use(client, laptop)
    token = await mint(client)
    client.cookies.clear()

    response = await client.post(
        "/api/auth/sessions/logout-others", json={"password": PASSWORD}, headers=bearer(token)
    )

    assert response.json()["sessions_ended"] == 3
    assert await status_as(client, laptop) == 401


async def test_repeated_wrong_passwords_are_throttled_per_user(client):
    laptop, _, _ = await _three_devices(client)
    use(client, laptop)
    for _ in range(5):
        await client.post(
            "/api/auth/sessions/logout-others", json={"password": "guess"}, headers=xsrf(client)
        )

    response = await _logout_others(client, PASSWORD)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert len(await sessions_of(client)) == 3


@get("/test/ended-meanwhile", dependencies={"principal": requires()})
async def ended_meanwhile(request: Request, principal: AuthPrincipal) -> dict:
    """Another device ends this session while this request is still being answered."""
    async with request.app.state.engine.begin() as connection:
        await connection.execute(
            delete(sessions).where(sessions.c.id == request.cookies[SESSION_COOKIE])
        )
    return {}


async def test_a_session_ended_during_one_of_its_requests_stays_ended(app, client, database_url):
    app.register(ended_meanwhile)
    await register(client)
    laptop = await sign_in(client, "laptop")

    response = await client.get("/test/ended-meanwhile")

    assert response.status_code == 200
    ended = laptop[SESSION_COOKIE]
    assert sql(database_url, "SELECT count(*) FROM sessions WHERE id = %s", ended) == [(0,)]
    assert await status_as(client, laptop) == 401
