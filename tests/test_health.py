"""`/health` and `/up` report each database, and follow real outages without a restart."""

import asyncio
import time

from litestar.testing import AsyncTestClient

from aura.app import create_app
from tests import servers
from tests.conftest import replace_settings


async def test_health_reports_both_databases_ok(client):
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "mongo": "ok"}


async def test_up_is_laravels_name_for_the_same_check(client):
    response = await client.get("/up")

    assert response.status_code == 200
    assert response.json()["postgres"] == "ok"


async def _wait_for_status(client, status: int, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        response = await client.get("/health")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_health_follows_a_mongo_outage_and_recovery(settings):
    mongo = servers.Secantus.create()
    app = create_app(replace_settings(settings, mongo_uri=mongo.uri))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200

        mongo.stop()
        started = time.monotonic()
        down = await client.get("/health")
        elapsed = time.monotonic() - started

        assert down.status_code == 503
        assert down.json() == {"status": "unavailable", "postgres": "ok", "mongo": "unavailable"}
        assert elapsed < 2.0

        mongo.start()
        assert (await _wait_for_status(client, 200)).status_code == 200
    mongo.stop()


async def test_health_follows_a_postgres_outage_and_recovery(settings, stoppable_postgres):
    server, url = stoppable_postgres
    app = create_app(replace_settings(settings, database_url=url))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200

        server.stop()
        started = time.monotonic()
        down = await client.get("/health")
        elapsed = time.monotonic() - started

        assert down.status_code == 503
        assert down.json()["postgres"] == "unavailable"
        assert down.json()["mongo"] == "ok"
        assert elapsed < 2.0

        server.start()
        assert (await _wait_for_status(client, 200)).status_code == 200
