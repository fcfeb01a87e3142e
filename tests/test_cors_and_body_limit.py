"""CORS answers only the origins in CORS_ALLOW_ORIGINS, with credentials; MAX_REQUEST_BODY is
enforced with a JSON 413 whether or not the client announces the body's length."""

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar.testing import AsyncTestClient

from aura.app import create_app
from tests.browser import conftest as browser_conftest
from tests.conftest import replace_settings

ALLOWED = "https://app.example.test"


@pytest.fixture
async def cors_client(settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(replace_settings(settings, cors_allow_origins=[ALLOWED, "https://b.test"]))
    async with AsyncTestClient(app=app) as client:
        yield client


def _preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"}


async def test_a_listed_origin_may_send_credentials(cors_client):
    preflight = await cors_client.options("/api/auth/login", headers=_preflight(ALLOWED))
    actual = await cors_client.get("/health", headers={"Origin": ALLOWED})

    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert actual.headers["access-control-allow-origin"] == ALLOWED
    assert actual.headers["access-control-allow-credentials"] == "true"


async def test_an_unlisted_origin_gets_no_cors_grant(cors_client):
    preflight = await cors_client.options(
        "/api/auth/login", headers=_preflight("https://evil.example.test")
    )
    actual = await cors_client.get("/health", headers={"Origin": "https://evil.example.test"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in actual.headers


async def test_without_cors_allow_origins_no_origin_is_granted(client):
    actual = await client.get("/health", headers={"Origin": ALLOWED})
    preflight = await client.options("/api/auth/login", headers=_preflight(ALLOWED))

    assert "access-control-allow-origin" not in actual.headers
    assert "access-control-allow-origin" not in preflight.headers


@pytest.fixture
async def small_body_client(settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(replace_settings(settings, max_request_body=1_000))
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_a_body_over_max_request_body_is_a_json_413(small_body_client):
    body = b'{"email": "a@b.test", "password": "' + b"x" * 1_000 + b'"}'

    response = await small_body_client.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"message"}


# `aura serve` in its own process: a chunked body reaches the app as uvicorn delivers it.
live_server = browser_conftest.live_server


def test_a_chunked_body_without_length_is_cut_at_the_limit_too(live_server):
    def chunks():
        yield b'{"email": "a@b.test", "password": "'
        for _ in range(20):
            yield b"y" * 65_536
        yield b'"}'

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        response = client.post(
            "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 413
    assert set(response.json()) == {"message"}


async def test_a_body_under_the_limit_is_read_normally(small_body_client):
    response = await small_body_client.post(
        "/api/auth/login", json={"email": "nobody@example.test", "password": "x" * 100}
    )

    assert response.status_code == 401
