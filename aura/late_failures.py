"""A database failure while a response starts is a 503, not a bare 500.

Litestar's server-side sessions are saved as the response starts. When PostgreSQL is down or
its pool is exhausted at that moment, the save raises after Litestar has marked the response
as started, and its exception handling gives up with a 500. Nothing has reached the client
yet, though: this middleware, placed outside the session middleware, answers with the error
table's own 503 in that case, and lets every other failure pass as before.
"""

from __future__ import annotations

from litestar import Request, Response
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from aura.errors import EXCEPTION_HANDLERS


def _unavailable_response(request: Request, error: BaseException | None) -> Response | None:
    """The 503 the error table gives for `error` or one of its causes, or None."""
    while error is not None:
        handler = next(
            (EXCEPTION_HANDLERS[kind] for kind in type(error).__mro__ if kind in EXCEPTION_HANDLERS),
            None,
        )
        if handler is not None:
            response = handler(request, error)
            if response.status_code == 503:
                return response
        error = error.__cause__ or error.__context__
    return None


class LateFailureMiddleware(ASGIMiddleware):
    scopes = ("http",)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        sent = False

        async def tracking_send(message: Message) -> None:
            nonlocal sent
            await send(message)
            sent = True

        try:
            await next_app(scope, receive, tracking_send)
        except Exception as exc:
            request = scope["litestar_app"].request_class(scope, receive)
            response = None if sent else _unavailable_response(request, exc)
            if response is None:
                raise
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
