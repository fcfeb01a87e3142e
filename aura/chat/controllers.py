"""`/chat/*`: the Flask chat service's routes, paths and JSON unchanged, plus paging."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from aura import openapi
from aura.chat import schemas
from aura.chat.service import ChatService, cursor_codec
from aura.dates import iso_utc
from aura.tokens.guard import authorize
from aura.validation import json_object


def _needs(ability: str) -> dict[str, Provide]:
    """The caller's chat, once the guard has let the caller in with `ability`.

    One dependency that authenticates and builds the chat, rather than a principal dependency
    and a chat dependency on it: each dependency Litestar resolves costs a chat request CPU.
    Handler dependencies, not controller ones: Litestar gives the controller's to its
    generated OPTIONS handlers too, which have no principal to build a chat from.
    """

    async def provide_chat(request: Request) -> ChatService:
        principal = await authorize(request, ability)
        return ChatService(principal.user_id, cursor_codec(request.app.state.settings.signing_key))

    return {"chat": Provide(provide_chat)}


Chat = NamedDependency[ChatService]
READ = _needs("chat:read")
WRITE = _needs("chat:write")


class ChatController(Controller):
    path = "/chat"
    tags = ["chat"]

    @get("/history", dependencies=READ, responses=openapi.errors(*openapi.CHAT_READ))
    async def history(
        self, chat: Chat, limit: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None
    ) -> dict:
        """The caller's conversations, newest activity first, a page at a time."""
        page = await chat.history(schemas.page_limit(limit), cursor)
        return {
            "conversations": [schemas.conversation_json(row) for row in page.items],
            "next_cursor": page.next_cursor,
        }

    @post(
        "/start", status_code=201, dependencies=WRITE,
        responses=openapi.errors(*openapi.CHAT_WRITE),
        operation_class=openapi.json_body(openapi.START, required=False),
    )
    async def start(self, request: Request, chat: Chat) -> dict:
        title = schemas.read_start(await json_object(request, optional=True))

        conversation = await chat.start(title)

        return {
            "id": str(conversation.id),
            "title": conversation.title,
            "created_at": iso_utc(conversation.created_at),
            "theme": conversation.theme.model_dump(),
        }

    @post(
        "/message", dependencies=WRITE,
        responses={**openapi.errors(*openapi.CHAT_WRITE), **openapi.replayed()},
        operation_class=openapi.json_body(openapi.MESSAGE),
    )
    async def message(self, request: Request, chat: Chat) -> Response:
        """201 for a new message; 200 with the stored one for a repeated client_message_id."""
        settings = request.app.state.settings
        new = schemas.read_message(await json_object(request), settings.chat_max_content)

        message, created = await chat.append(new)

        body = {"id": str(message["_id"]), "created_at": iso_utc(message["created_at"])}
        return Response({"ok": True, "message": body}, status_code=201 if created else 200)

    @get(
        "/conversations/{conversation_id:str}/messages", dependencies=READ,
        responses=openapi.errors(*openapi.CHAT_READ),
    )
    async def messages(
        self, chat: Chat, conversation_id: FromPath[str], limit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> dict:
        """A conversation's messages, oldest first, a page at a time."""
        page = await chat.messages(schemas.object_id(conversation_id), schemas.page_limit(limit),
                                   cursor)
        return {
            "messages": [schemas.message_json(row) for row in page.items],
            "next_cursor": page.next_cursor,
        }

    @put(
        "/conversations/{conversation_id:str}", dependencies=WRITE,
        responses=openapi.errors(*openapi.CHAT_WRITE),
        operation_class=openapi.json_body(openapi.CHANGES),
    )
    async def update(self, request: Request, chat: Chat, conversation_id: FromPath[str]) -> dict:
        """Rename (blank means the default title) or recolour a conversation."""
        target = schemas.object_id(conversation_id)
        changes = schemas.read_changes(await json_object(request))

        conversation = await chat.update(target, changes)

        return {"conversation": schemas.conversation_json(conversation)}

    @delete(
        "/conversations/{conversation_id:str}", status_code=200, dependencies=WRITE,
        responses=openapi.errors(*openapi.CHAT_WRITE),
    )
    async def destroy(self, chat: Chat, conversation_id: FromPath[str]) -> dict:
        """Delete a conversation and every message in it."""
        await chat.delete(schemas.object_id(conversation_id))
        return {"ok": True}
