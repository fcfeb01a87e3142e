"""`/metrics`: request counts and latency by route, refusals by reason, pool usage."""

from __future__ import annotations

import psycopg
from litestar import get
from prometheus_client.parser import text_string_to_metric_families

from aura.metrics import pool_connection
from aura.tokens.guard import Principal, requires
from tests.identity import bearer, insert_token_row, laravel_secret, register, user_with_token


async def _scrape(client) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _failures(samples: dict, reason: str) -> float:
    return _value(samples, "aura_auth_failures_total", reason=reason)


def _requests(samples: dict, method: str, path: str, status: int) -> float:
    return _value(
        samples, "aura_requests_total",
        app_name="aura", method=method, path=path, status_code=str(status),
    )


async def test_requests_are_counted_and_timed_by_route_template_and_status(client):
    before = await _scrape(client)

    await client.get("/api/auth/me")
    await client.get("/api/auth/me")
    await client.get("/health")

    after = await _scrape(client)
    assert _requests(after, "GET", "/api/auth/me", 401) - _requests(
        before, "GET", "/api/auth/me", 401
    ) == 2
    assert _requests(after, "GET", "/health", 200) - _requests(before, "GET", "/health", 200) == 1
    latency = dict(
        app_name="aura", method="GET", path="/api/auth/me", status_code="401"
    )
    assert _value(after, "aura_request_duration_seconds_count", **latency) - _value(
        before, "aura_request_duration_seconds_count", **latency
    ) == 2


async def test_each_kind_of_refusal_is_counted_under_its_reason(app, client, database_url):
    @get("/test/needs-chat-write", dependencies={"principal": requires("chat:write")})
    async def needs_chat_write(principal: Principal) -> dict:
        return {}

    app.register(needs_chat_write)
    user_id, token = await user_with_token(client, abilities=["chat:read"])
    gone_id = (await register(client, email="gone@example.test")).json()["user"]["id"]
    client.cookies.clear()
    gone_secret = laravel_secret("g" * 40)
    gone_token = f"{insert_token_row(database_url, gone_id, gone_secret)}|{gone_secret}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM users WHERE id = %s", (gone_id,))
    old_secret = laravel_secret("e" * 40)
    old_id = insert_token_row(database_url, user_id, old_secret, expires_at="2000-01-01")
    before = await _scrape(client)

    responses = [
        await client.get("/api/auth/me"),
        await client.get("/api/auth/me", headers={"Authorization": "Basic YWxpY2U6eA=="}),
        await client.get("/api/auth/me", headers=bearer("999999|" + laravel_secret("u" * 40))),
        await client.get("/api/auth/me", headers=bearer(f"{old_id}|{old_secret}")),
        await client.get("/api/auth/me", headers=bearer(gone_token)),
        await client.get("/test/needs-chat-write", headers=bearer(token)),
    ]

    after = await _scrape(client)
    assert [r.status_code for r in responses] == [401, 401, 401, 401, 401, 403]
    for reason in ("missing", "malformed", "unknown", "expired", "revoked", "ability"):
        assert _failures(after, reason) - _failures(before, reason) == 1, reason


async def test_a_successful_request_counts_no_refusal(client):
    _, token = await user_with_token(client)
    before = await _scrape(client)

    response = await client.get("/api/auth/me", headers=bearer(token))

    after = await _scrape(client)
    assert response.status_code == 200
    assert sum(_failures(after, r) - _failures(before, r) for r in ("missing", "unknown")) == 0


async def test_a_csrf_refusal_raised_by_middleware_is_counted_as_419(client):
    await register(client)
    before = await _scrape(client)

    response = await client.post("/api/auth/logout")

    after = await _scrape(client)
    assert response.status_code == 419
    assert _requests(after, "POST", "/api/auth/logout", 419) - _requests(
        before, "POST", "/api/auth/logout", 419
    ) == 1
    assert _requests(after, "POST", "/api/auth/logout", 200) == _requests(
        before, "POST", "/api/auth/logout", 200
    )


async def test_the_pool_gauge_follows_connections_in_use(app, client):
    before = await _scrape(client)

    async with app.state.engine.connect():
        during = await _scrape(client)
        async with pool_connection(app.state.guard_pool):
            both = await _scrape(client)
    after = await _scrape(client)

    in_use = "aura_db_pool_connections_in_use"
    assert _value(during, in_use) - _value(before, in_use) == 1
    assert _value(both, in_use) - _value(before, in_use) == 2
    assert _value(after, in_use) == _value(before, in_use)
    settings = app.state.settings
    # The engine's pool and overflow, and the token guard's own pool.
    expected = settings.db_pool_size + settings.db_max_overflow + settings.db_pool_size
    assert _value(after, "aura_db_pool_connections_max") == expected


async def test_labels_carry_no_email_token_or_id(client):
    _, token = await user_with_token(client, email="private.person@example.test")
    token_id = token.split("|")[0]

    await client.delete(f"/api/auth/tokens/{token_id}", headers=bearer(token))
    await client.get("/api/auth/me", headers=bearer(token))
    text = (await client.get("/metrics")).text

    assert "private.person" not in text
    assert token.split("|")[1] not in text
    assert f"/api/auth/tokens/{token_id}" not in text
    assert 'path="/api/auth/tokens/{token_id}"' in text
