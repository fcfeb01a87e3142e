"""The application factory: one Litestar app wiring every area together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from sqlalchemy import text

from aura import __version__
from aura.db import create_engine
from aura.errors import EXCEPTION_HANDLERS
from aura.health import health
from aura.mongo import create_client, init_documents
from aura.settings import Settings


async def _users_has_avatar(engine) -> bool:
    """Real Laravel apps add columns to `users`; avatar_url is shown when it exists."""
    async with engine.connect() as connection:
        row = await connection.execute(
            text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'users' AND column_name = 'avatar_url'"
            )
        )
        return row.first() is not None


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings)
        mongo = create_client(settings)
        app.state.engine = engine
        app.state.mongo = mongo
        try:
            await init_documents(mongo, settings)
            app.state.users_has_avatar = await _users_has_avatar(engine)
            yield
        finally:
            await mongo.close()
            await engine.dispose()

    app = Litestar(
        route_handlers=[health],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=CORSConfig(allow_origins=settings.cors_allow_origins, allow_credentials=True)
        if settings.cors_allow_origins
        else None,
        openapi_config=OpenAPIConfig(title="Aura", version=__version__, path="/schema"),
        request_max_body_size=settings.max_request_body,
        debug=False,
    )
    app.state.settings = settings
    return app
