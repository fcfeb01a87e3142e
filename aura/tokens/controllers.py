"""`/api/auth/token*`: mint, revoke and list personal access tokens."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath

from aura import openapi
from aura.dates import iso_utc
from aura.errors import NotFound
from aura.tokens import repository, service
from aura.tokens.guard import AuthPrincipal, requires
from aura.validation import json_object


class TokenController(Controller):
    path = "/api/auth"
    tags = ["tokens"]
    dependencies = {"principal": requires()}

    @post(
        "/token", status_code=200, responses=openapi.errors(*openapi.WRITE),
        operation_class=openapi.json_body(openapi.MINT, required=False),
    )
    async def create(self, request: Request, principal: AuthPrincipal) -> dict:
        """Mint a token, replacing the caller's tokens of the same name (default `chat`)."""
        name, abilities, expires_in = service.read_mint_options(
            await json_object(request, optional=True)
        )
        settings = request.app.state.settings

        token = await service.mint(
            request.app.state.engine, settings, principal.user_id, name, abilities, expires_in
        )

        return {"token": token.plain_text, "type": "Bearer"}

    @post(
        "/token/revoke", status_code=200, responses=openapi.errors(*openapi.WRITE),
        operation_class=openapi.json_body(openapi.TOKEN_NAME, required=False),
    )
    async def revoke(self, request: Request, principal: AuthPrincipal) -> dict:
        """With a bearer token, revoke that token; with a session, the tokens of a name."""
        settings = request.app.state.settings
        async with request.app.state.engine.begin() as connection:
            if principal.via_token:
                await repository.delete_token(connection, principal.token_id)
            else:
                name = service.require_name(await json_object(request, optional=True))
                await repository.delete_named(
                    connection, principal.user_id, settings.sanctum_tokenable_type, name
                )
        return {"revoked": True}

    @get("/tokens", responses=openapi.errors(*openapi.READ))
    async def index(self, request: Request, principal: AuthPrincipal) -> dict:
        """The caller's tokens, without secrets or hashes."""
        async with request.app.state.engine.connect() as connection:
            rows = await repository.list_tokens(
                connection, principal.user_id, request.app.state.settings.sanctum_tokenable_type
            )
        for row in rows:
            for key in ("last_used_at", "expires_at", "created_at"):
                row[key] = iso_utc(row[key])
            row["current"] = row["id"] == principal.token_id
        return {"tokens": rows}

    @delete(
        "/tokens/{token_id:str}", status_code=200,
        responses=openapi.errors(401, 404, 419, 422, 503),
    )
    async def destroy(
        self, request: Request, principal: AuthPrincipal, token_id: FromPath[str]
    ) -> dict:
        """Revoke one of the caller's tokens; another user's token is 404."""
        number = service.token_id_from_path(token_id)
        async with request.app.state.engine.begin() as connection:
            deleted = await repository.delete_token(
                connection, number, principal.user_id,
                request.app.state.settings.sanctum_tokenable_type,
            )
        if not deleted:
            raise NotFound()
        return {"revoked": True}
