"""CSRF with Litestar's middleware under Laravel's names, for cookie-authenticated requests.

Litestar checks every unsafe request; Sanctum checks only those that ride on the session
cookie. A request with an `Authorization` header, or with no session cookie at all, carries no
ambient authority a forged page could borrow, so it is passed through. A mismatch answers
Laravel's 419 instead of Litestar's 403.
"""

from __future__ import annotations

from litestar._parsers import parse_cookie_string
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Headers
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import Receive, Scope, Send

from aura.errors import CsrfMismatch

COOKIE_NAME = "XSRF-TOKEN"
HEADER_NAME = "x-xsrf-token"


def csrf_config(secret: str, secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=secret,
        cookie_name=COOKIE_NAME,
        header_name=HEADER_NAME,
        cookie_httponly=False,  # the SPA reads it and echoes it in X-XSRF-TOKEN
        cookie_samesite="lax",
        cookie_secure=secure,
    )


class AuraCSRFMiddleware(CSRFMiddleware):
    session_cookie: str = "aura_session"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return

        headers = Headers.from_scope(scope)
        # A bearer request is neither checked nor handed an XSRF-TOKEN cookie it has no use
        # for (minting one costs an HMAC and a Set-Cookie on every API read).
        if "authorization" in headers:
            await self.app(scope, receive, send)
            return
        if scope["method"] in self.config.safe_methods:
            await super().__call__(scope, receive, send)
            return

        cookies = _cookies(headers.get("cookie", ""))
        if self.session_cookie not in cookies:
            await self.app(scope, receive, send)
            return

        sent = headers.get(HEADER_NAME)
        cookie = cookies.get(COOKIE_NAME)
        if not sent or not cookie or not self._csrf_tokens_match(sent, cookie):
            raise CsrfMismatch()
        await self.app(scope, receive, send)


def _cookies(header: str) -> dict[str, str]:
    return parse_cookie_string(header)


def csrf_middleware(secret: str, secure: bool, session_cookie: str) -> DefineMiddleware:
    middleware = type("SessionAwareCSRF", (AuraCSRFMiddleware,), {"session_cookie": session_cookie})
    return DefineMiddleware(middleware, config=csrf_config(secret, secure))
