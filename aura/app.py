"""The application factory: one Litestar app wiring every area together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from sqlalchemy import text

from aura import __version__
from aura.accounts.account_controllers import AccountController
from aura.accounts.controllers import AuthController, csrf_cookie, sanctum_user
from aura.accounts.deletion import purge_at_start
from aura.accounts.sessions import AuraSessionConfig, PostgresSessionStore
from aura.accounts.throttle import create_throttle
from aura.chat.controllers import ChatController
from aura.csrf import csrf_middleware
from aura.db import create_engine, create_guard_pool
from aura.errors import EXCEPTION_HANDLERS
from aura.health import health
from aura.late_failures import LateFailureMiddleware
from aura.logging import logging_plugin
from aura.metrics import MetricsController, instrument_pool, prometheus_config
from aura.mongo import create_client, init_documents
from aura.settings import Settings
from aura.tokens.controllers import TokenController
from aura.web.controllers import template_config, web_routers


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
        guard_pool = create_guard_pool(settings)
        instrument_pool(engine, 2 * settings.db_pool_size + settings.db_max_overflow)
        mongo = create_client(settings)
        app.state.engine = engine
        app.state.guard_pool = guard_pool
        app.state.mongo = mongo
        app.state.throttle = create_throttle(settings)
        try:
            await guard_pool.open(wait=True, timeout=max(settings.db_connect_timeout, 10))
            await init_documents(mongo, settings)
            app.state.users_has_avatar = await _users_has_avatar(engine)
            await purge_at_start(app)
            yield
        finally:
            await app.state.throttle.close()
            await mongo.close()
            await guard_pool.close()
            await engine.dispose()

    session_config = AuraSessionConfig(
        key=settings.session_cookie,
        store="sessions",
        max_age=settings.session_idle_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=not settings.is_development,
    )
    session_store = PostgresSessionStore(
        lambda: app.state.engine, idle_seconds=settings.session_idle_minutes * 60
    )

    app = Litestar(
        route_handlers=[
            health, MetricsController, AuthController, sanctum_user, csrf_cookie, TokenController,
            AccountController,
            *web_routers(),
            ChatController,
        ],
        middleware=[
            prometheus_config().middleware,
            LateFailureMiddleware(),
            session_config.middleware,
            csrf_middleware(
                settings.signing_key, not settings.is_development, settings.session_cookie
            ),
        ],
        stores={"sessions": session_store},
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[logging_plugin(settings.log_level)],
        cors_config=CORSConfig(allow_origins=settings.cors_allow_origins, allow_credentials=True)
        if settings.cors_allow_origins
        else None,
        template_config=template_config(),
        openapi_config=OpenAPIConfig(title="Aura", version=__version__, path="/schema"),
        request_max_body_size=settings.max_request_body,
        debug=False,
    )
    app.state.settings = settings
    return app
