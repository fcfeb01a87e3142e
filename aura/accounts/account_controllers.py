"""`/api/auth/sessions`, `/password`, `/account` and `/export`: a person's own devices and data.

Every change here asks for the password again, however the caller authenticated.
"""

from __future__ import annotations

import logging

from litestar import Controller, Request, delete, get, post
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath
from litestar.response import Stream
from pymongo.errors import ConnectionFailure

from aura import openapi
from aura.accounts import deletion, devices, security, service, sessions
from aura.accounts.export import export_chunks, read_head
from aura.errors import NotFound, ServiceUnavailable, Unauthenticated
from aura.tokens.guard import AuthPrincipal, Principal, requires
from aura.validation import Checker, json_object

logger = logging.getLogger(__name__)

CONFIRMED_WRITE = (*openapi.WRITE, 429)
STILL_DELETING = (
    "Your account is locked and will be deleted as soon as the chat store is reachable again."
)


def _string() -> Schema:
    return Schema(type=OpenAPIType.STRING, min_length=1)


PASSWORD = Schema(
    type=OpenAPIType.OBJECT, properties={"password": _string()}, required=["password"]
)
NEW_PASSWORD = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "current_password": _string(),
        "password": Schema(type=OpenAPIType.STRING, min_length=8, max_length=72),
        "password_confirmation": _string(),
    },
    required=["current_password", "password", "password_confirmation"],
)


def _current_session(request: Request, principal: Principal) -> str | None:
    """The id of the session that authenticated this request; None for a bearer token."""
    if principal.via_token:
        return None
    return request.cookies.get(request.app.state.settings.session_cookie)


async def _confirmed(request: Request, principal: Principal) -> None:
    """Read `{"password"}` and return only when it is the caller's password."""
    checker = Checker(await json_object(request))
    password = checker.string("password")
    checker.check()
    await security.confirm_password(request.app.state, principal.user_id, password)


class AccountController(Controller):
    path = "/api/auth"
    tags = ["accounts"]
    dependencies = {"principal": requires()}

    @get("/sessions", responses=openapi.errors(*openapi.READ))
    async def sessions_index(self, request: Request, principal: AuthPrincipal) -> dict:
        """Where the user is logged in; each session under a fingerprint, never its id."""
        settings = request.app.state.settings
        found = await devices.active_sessions(
            request.app.state.engine, principal.user_id,
            devices.Lifetimes.from_settings(settings), settings.signing_key,
            _current_session(request, principal),
        )
        return {"sessions": found}

    @delete(
        "/sessions/{fingerprint:str}", status_code=200,
        responses=openapi.errors(401, 404, 419, 503),
    )
    async def sessions_destroy(
        self, request: Request, principal: AuthPrincipal, fingerprint: FromPath[str]
    ) -> dict:
        """End one of the user's sessions at once; another user's, or none, is 404."""
        ended = await devices.end_session(
            request.app.state.engine, principal.user_id, fingerprint,
            request.app.state.settings.signing_key,
        )
        if ended is None:
            raise NotFound()
        current = ended == _current_session(request, principal)
        if current:
            sessions.end_session(request)
        return {"ended": True, "current": current}

    @post(
        "/sessions/logout-others", status_code=200,
        responses=openapi.errors(*CONFIRMED_WRITE),
        operation_class=openapi.json_body(PASSWORD),
    )
    async def logout_others(self, request: Request, principal: AuthPrincipal) -> dict:
        """End every session but this one (every one, for a bearer token)."""
        await _confirmed(request, principal)

        async with request.app.state.engine.begin() as connection:
            ended = await devices.end_other_sessions(
                connection, principal.user_id, _current_session(request, principal)
            )

        return {"message": "Other sessions ended.", "sessions_ended": ended}

    @post(
        "/password", status_code=200, responses=openapi.errors(*CONFIRMED_WRITE),
        operation_class=openapi.json_body(NEW_PASSWORD),
    )
    async def change_password(self, request: Request, principal: AuthPrincipal) -> dict:
        """Change the password; every other session ends and every token is revoked."""
        data = await json_object(request)
        checker = Checker(data)
        current = checker.string("current_password")
        password = security.check_new_password(checker, data)
        checker.check()
        state = request.app.state
        await security.confirm_password(state, principal.user_id, current, "current_password")

        changed = await security.change_password(
            state.engine, state.settings, principal.user_id, password,
            _current_session(request, principal),
        )
        logger.info("password_changed", extra={"user_id": principal.user_id})

        return {
            "message": "Password changed. Your other sessions were ended and your tokens revoked.",
            "sessions_ended": changed.sessions_ended,
            "tokens_revoked": changed.tokens_revoked,
        }

    @delete(
        "/account", status_code=200, responses=openapi.errors(*CONFIRMED_WRITE),
        operation_class=openapi.json_body(PASSWORD),
    )
    async def destroy_account(self, request: Request, principal: AuthPrincipal) -> dict:
        """Delete the account and everything it owns in both stores.

        When MongoDB is down the answer is 503, but the account is already locked, and
        `aura account purge` (also run at every start) finishes the deletion.
        """
        await _confirmed(request, principal)
        engine = request.app.state.engine
        tokenable_type = request.app.state.settings.sanctum_tokenable_type

        await deletion.mark_for_deletion(engine, principal.user_id, tokenable_type)
        # The session row went with the mark; clearing the session keeps it from coming back.
        sessions.end_session(request)
        try:
            await deletion.finish_deletion(engine, principal.user_id, tokenable_type)
        except ConnectionFailure as exc:
            logger.warning("account_deletion_deferred", extra={"user_id": principal.user_id})
            raise ServiceUnavailable(STILL_DELETING) from exc

        logger.info("account_deleted", extra={"user_id": principal.user_id})
        return {"message": "Your account has been deleted."}

    @get(
        "/export", dependencies={"principal": requires("chat:read")},
        responses=openapi.errors(401, 403, 503),
    )
    async def export(self, request: Request, principal: AuthPrincipal) -> Stream:
        """Everything Aura keeps about the user as one JSON file, streamed."""
        state = request.app.state
        user = await service.find_user(state.engine, principal.user_id, state.users_has_avatar)
        if user is None:
            raise Unauthenticated()

        head = await read_head(state.engine, state.settings, user, state.users_has_avatar)

        return Stream(
            export_chunks(head, user.id),
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="aura-export.json"',
                "Cache-Control": "no-store",
            },
        )
