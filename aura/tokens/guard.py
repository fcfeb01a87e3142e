"""The one guard behind every protected route: a Sanctum bearer token or the session cookie.

When the request carries an `Authorization` header, the header alone decides (a bad token is
401 even beside a valid cookie, so that a client learns its token is gone); otherwise the
logged-in session authenticates with every ability, as Sanctum's transient token does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeAlias

from litestar import Request
from litestar.di import NamedDependency, Provide

from aura.accounts.sessions import session_user_id
from aura.errors import MissingAbility, Unauthenticated
from aura.metrics import count_auth_failure, pool_connection
from aura.tokens import repository
from aura.tokens.scheme import parse_bearer

PRINCIPAL_KEY = "aura_principal"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, and the token when a bearer token authenticated."""

    user_id: int
    token_id: int | None = None
    abilities: tuple[str, ...] = ("*",)

    @property
    def via_token(self) -> bool:
        return self.token_id is not None

    def can(self, ability: str) -> bool:
        return "*" in self.abilities or ability in self.abilities

    def cant(self, ability: str) -> bool:
        return not self.can(ability)


# Handlers declare `principal: AuthPrincipal` to receive the dependency `requires()` provides.
AuthPrincipal: TypeAlias = NamedDependency[Principal]


def _is_expired(token: repository.AccessToken, expiration_minutes: int | None) -> bool:
    now = repository.utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return True
    if expiration_minutes and token.created_at is not None:
        return token.created_at + timedelta(minutes=expiration_minutes) <= now
    return False


def _refusal_reason(token: repository.AccessToken | None, tokenable_type: str) -> str:
    """Why a presented token was refused, for the metrics only: the client always sees 401."""
    if token is None or token.tokenable_type != tokenable_type:
        return "unknown"
    return "expired" if token.user_exists else "revoked"


async def _from_token(request: Request, header: str) -> Principal:
    settings = request.app.state.settings
    bearer = parse_bearer(header)
    if bearer is None:
        count_auth_failure("malformed")
        raise Unauthenticated()

    async with pool_connection(request.app.state.guard_pool) as connection:
        token = await repository.find_token(connection, bearer)
        if (
            token is None
            or token.tokenable_type != settings.sanctum_tokenable_type
            or not token.user_exists
            or _is_expired(token, settings.sanctum_expiration)
        ):
            count_auth_failure(_refusal_reason(token, settings.sanctum_tokenable_type))
            raise Unauthenticated()

        interval = settings.sanctum_last_used_interval
        last = token.last_used_at
        if last is None or last <= repository.utcnow() - timedelta(seconds=interval):
            await repository.touch_last_used(connection, token.id, interval)

    return Principal(user_id=token.user_id, token_id=token.id, abilities=token.abilities)


async def current_principal(request: Request) -> Principal:
    """Authenticate the request once; later calls in the same request reuse the answer."""
    cached = request.scope.get(PRINCIPAL_KEY)
    if cached is not None:
        return cached

    header = request.headers.get("authorization")
    if header is not None:
        principal = await _from_token(request, header)
    else:
        user_id = session_user_id(request)
        if user_id is None:
            count_auth_failure("missing")
            raise Unauthenticated()
        principal = Principal(user_id=user_id)

    request.scope[PRINCIPAL_KEY] = principal  # type: ignore[literal-required]
    return principal


async def authorize(request: Request, ability: str | None = None) -> Principal:
    """The caller's Principal; 401 without one, 403 without `ability`."""
    principal = await current_principal(request)
    if ability is not None and principal.cant(ability):
        count_auth_failure("ability")
        raise MissingAbility()
    return principal


def requires(ability: str | None = None) -> Provide:
    """A dependency giving the caller's Principal; 401 without one, 403 without `ability`."""

    async def provide(request: Request) -> Principal:
        return await authorize(request, ability)

    return Provide(provide)
