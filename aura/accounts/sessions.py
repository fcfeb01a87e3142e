"""Server-side sessions in Laravel's `sessions` table, through Litestar's session middleware.

Litestar owns the cookie and the session life cycle; this module adds what is Laravel's: the
row layout (user_id, ip_address, user_agent, last_activity), a new session id at login, and
an absolute lifetime on top of the idle one.
"""

from __future__ import annotations

import json
import time
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, Receive, Scope, Send
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from aura.accounts.models import sessions

USER_KEY = "_auth_user_id"
LOGIN_AT_KEY = "_login_at"
IP_KEY = "_ip"
AGENT_KEY = "_ua"
REGENERATE_KEY = "_regenerate"
NEW_ID_SCOPE_KEY = "aura_new_session_id"
LOADED_SCOPE_KEY = "aura_session_loaded"

# True while the middleware writes back a session that was read from its row at the start of
# the request. Such a write only updates: when the row is gone, the session was ended meanwhile
# (from another device, by a password change, by account deletion) and must stay ended.
_UPDATE_ONLY: ContextVar[bool] = ContextVar("aura_session_update_only", default=False)


class PostgresSessionStore(Store):
    """A Litestar store whose rows are Laravel's `sessions` rows.

    The payload is the session's JSON; the user id, address and agent that Laravel keeps in
    their own columns are copied out of it so that `sessions` can be queried per user.
    """

    def __init__(self, engine_getter, idle_seconds: int) -> None:
        self._engine_getter = engine_getter
        self.idle_seconds = idle_seconds

    @property
    def engine(self):
        return self._engine_getter()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        payload = value.decode() if isinstance(value, bytes) else value
        data = _decode(payload)
        values = {
            "user_id": data.get(USER_KEY),
            "ip_address": (data.get(IP_KEY) or None),
            "user_agent": data.get(AGENT_KEY),
            "payload": payload,
            "last_activity": int(time.time()),
        }
        if _UPDATE_ONLY.get():
            statement = update(sessions).where(sessions.c.id == key).values(**values)
        else:
            statement = pg_insert(sessions).values(id=key, **values)
            statement = statement.on_conflict_do_update(index_elements=[sessions.c.id], set_=values)
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        oldest = int(time.time()) - self.idle_seconds
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(sessions.c.payload, sessions.c.last_activity).where(sessions.c.id == key)
                )
            ).first()
        if row is None or row.last_activity < oldest:
            return None
        return row.payload.encode()

    async def delete(self, key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(sessions).where(sessions.c.id == key))

    async def delete_all(self) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(sessions))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.engine.connect() as connection:
            last = await connection.scalar(
                select(sessions.c.last_activity).where(sessions.c.id == key)
            )
        if last is None:
            return None
        return max(0, last + self.idle_seconds - int(time.time()))

    async def touch(self, key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(sessions).where(sessions.c.id == key).values(last_activity=int(time.time()))
            )


def _decode(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def prune_sessions(engine, idle_seconds: int) -> int:
    """Remove rows idle for longer than the session lifetime."""
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(sessions).where(sessions.c.last_activity < int(time.time()) - idle_seconds)
        )
    return result.rowcount


async def count_user_sessions(engine, user_id: int) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(func.count()).select_from(sessions).where(sessions.c.user_id == user_id)
        )


class RegeneratingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, plus a fresh session id when login asks for one.

    A new id at login defeats session fixation: an id planted before login is worthless after.
    """

    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get(NEW_ID_SCOPE_KEY)
        return new_id or super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[LOADED_SCOPE_KEY] = bool(data)  # type: ignore[literal-required]
        return data

    async def store_in_message(self, scope_session, message, connection) -> None:
        if not scope_session and scope_session is not Empty:
            # Nothing in the session: no row and no cookie for bearer-only or anonymous calls,
            # and a stale cookie is cleared.
            if not connection.cookies.get(self.config.key):
                return
            scope_session = Empty
        if isinstance(scope_session, dict) and scope_session.pop(REGENERATE_KEY, False):
            old_id = connection.cookies.get(self.config.key)
            if old_id:
                await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
            connection.scope[NEW_ID_SCOPE_KEY] = self.generate_session_id()  # type: ignore[literal-required]
        loaded = connection.scope.get(LOADED_SCOPE_KEY, False)
        update_only = _UPDATE_ONLY.set(loaded and NEW_ID_SCOPE_KEY not in connection.scope)
        try:
            await super().store_in_message(scope_session, message, connection)
        finally:
            _UPDATE_ONLY.reset(update_only)


class CookielessFastPathMiddleware(SessionMiddleware):
    """Litestar's session middleware, which skips its work for a request without the cookie.

    Such a request (every bearer API call) has no session to load, and Litestar would still
    build a connection object and draw a random session id for it on each call. Here it gets
    an empty session, and only a response whose handler put something in it (a login) or
    cleared it goes through the backend to be stored, exactly as before.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _has_cookie(scope, self.backend.config.key):
            await super().__call__(scope, receive, send)
            return

        scope["session"] = {}

        async def store_if_set(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("session"):
                connection = ASGIConnection[Any, Any, Any, Any](scope, receive=receive, send=send)
                await self.backend.store_in_message(scope["session"], message, connection)
            await send(message)

        await self.app(scope, receive, store_if_set)


def _has_cookie(scope: Scope, name: str) -> bool:
    """True when any Cookie header mentions `name`: a false alarm only costs the full path."""
    needle = name.encode()
    return any(key == b"cookie" and needle in value for key, value in scope["headers"])


class AuraSessionConfig(ServerSideSessionConfig):
    _backend_class = RegeneratingSessionBackend  # type: ignore[assignment]

    @property
    def middleware(self) -> DefineMiddleware:
        backend = self._backend_class(config=self)
        return DefineMiddleware(CookielessFastPathMiddleware, backend=backend)


def start_login(request: Request, user_id: int) -> None:
    """Make the request's session a logged-in one, under a new session id."""
    request.set_session(
        {
            USER_KEY: user_id,
            LOGIN_AT_KEY: int(time.time()),
            IP_KEY: request.client.host if request.client else None,
            AGENT_KEY: request.headers.get("user-agent"),
            REGENERATE_KEY: True,
        }
    )


def end_session(request: Request) -> None:
    request.clear_session()


def session_user_id(request: Request) -> int | None:
    """The logged-in user of this session, or None (also once the absolute lifetime is over)."""
    if "session" not in request.scope:
        return None
    data = request.session
    user_id = data.get(USER_KEY) if isinstance(data, dict) else None
    if not isinstance(user_id, int):
        return None
    absolute = request.app.state.settings.session_absolute_minutes * 60
    login_at = data.get(LOGIN_AT_KEY)
    if not isinstance(login_at, int) or login_at + absolute < time.time():
        return None
    return user_id
