"""`/api/auth/*`, Sanctum's `/api/user` and `/sanctum/csrf-cookie`, as the SPA calls them."""

from __future__ import annotations

import logging

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from aura import openapi
from aura.accounts import service, sessions
from aura.accounts.security import check_new_password
from aura.accounts.throttle import throttle_key
from aura.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from aura.tokens.guard import AuthPrincipal, requires
from aura.validation import Checker, json_object

logger = logging.getLogger(__name__)

FAILED = "These credentials do not match our records."


async def _user_body(request: Request, user_id: int) -> dict:
    with_avatar = request.app.state.users_has_avatar
    user = await service.find_user(request.app.state.engine, user_id, with_avatar)
    if user is None:
        raise Unauthenticated()
    return user.to_json(with_avatar)


def _read_registration(data: dict) -> tuple[str, str, str]:
    checker = Checker(data)
    name = checker.string("name", max_length=255)
    email = checker.email()
    password = check_new_password(checker, data)
    checker.check()
    return name.strip(), email, password


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post(
        "/register", status_code=200, responses=openapi.errors(413, 419, 422, 503),
        operation_class=openapi.json_body(openapi.REGISTER),
    )
    async def register(self, request: Request) -> dict:
        """Create an account and log it in."""
        name, email, password = _read_registration(await json_object(request))
        state = request.app.state

        user_id = await service.create_user(
            state.engine, name=name, email=email, password=password,
            rounds=state.settings.bcrypt_rounds,
        )
        sessions.start_login(request, user_id)
        logger.info("user_registered", extra={"user_id": user_id})

        return {"message": "Registered.", "user": await _user_body(request, user_id)}

    @post(
        "/login", status_code=200, responses=openapi.errors(401, 413, 419, 422, 429, 503),
        operation_class=openapi.json_body(openapi.LOGIN),
    )
    async def login(self, request: Request) -> Response:
        """Log in with email and password; five failures a minute per email and address: 429."""
        checker = Checker(await json_object(request))
        email = checker.string("email", max_length=255)
        password = checker.string("password")
        checker.boolean("remember")
        checker.check()
        state = request.app.state
        key = throttle_key(email, request.client.host if request.client else None)

        if wait := await state.throttle.retry_after(key):
            raise TooManyAttempts(wait, f"Too many login attempts. Please try again in {wait} seconds.")
        user_id = await service.authenticate(
            state.engine, email, password, state.settings.bcrypt_rounds
        )
        if user_id is None:
            await state.throttle.hit(key)
            logger.info("login_failed")
            return Response({"message": FAILED}, status_code=401)

        await state.throttle.clear(key)
        sessions.start_login(request, user_id)
        logger.info("login_succeeded", extra={"user_id": user_id})
        return Response({"message": "Logged in.", "user": await _user_body(request, user_id)})

    @post(
        "/logout", status_code=200, dependencies={"principal": requires()},
        responses=openapi.errors(401, 419, 503),
    )
    async def logout(self, request: Request, principal: AuthPrincipal) -> dict:
        """End the session (the SPA revokes its token separately)."""
        sessions.end_session(request)
        return {"message": "Logged out."}

    @get("/me", dependencies={"principal": requires()}, responses=openapi.errors(*openapi.READ))
    async def me(self, request: Request, principal: AuthPrincipal) -> dict:
        return {"user": await _user_body(request, principal.user_id)}


@get(
    "/api/user", tags=["accounts"], dependencies={"principal": requires()},
    responses=openapi.errors(*openapi.READ),
)
async def sanctum_user(request: Request, principal: AuthPrincipal) -> dict:
    """Sanctum's own route: the authenticated user, unwrapped."""
    return await _user_body(request, principal.user_id)


@get(
    "/sanctum/csrf-cookie", status_code=HTTP_204_NO_CONTENT, tags=["accounts"],
    responses=openapi.errors(503),
)
async def csrf_cookie(request: Request) -> None:
    """Prime the SPA: the CSRF middleware sets XSRF-TOKEN, and a session is started."""
    if not request.session:
        request.set_session({"_started": True})


__all__ = ["AuthController", "sanctum_user", "csrf_cookie", "ValidationFailed"]
