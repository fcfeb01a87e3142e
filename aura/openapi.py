"""What `/schema` says beyond what Litestar infers: error responses and JSON request bodies.

Handlers read their bodies as plain JSON (aura.validation) so that errors keep Laravel's shape;
Litestar therefore cannot see the bodies, and they are described here, one schema per body.
Every error body is one of two shapes, declared once: `{"message"}` and, for 422,
`{"message", "errors": {field: [messages]}}`. Each area names the sets its handlers answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from aura.tokens.service import MAX_MINUTES


@dataclass
class ErrorBody:
    message: str


@dataclass
class ValidationErrorBody:
    message: str
    errors: dict[str, list[str]]


_ERRORS: dict[int, tuple[str, str]] = {
    401: ("Missing, invalid, expired or revoked credentials.", "Unauthenticated."),
    403: ("The token lacks the ability this route needs.", "Invalid ability provided."),
    404: ("No such resource, or it belongs to another user.", "Not Found."),
    413: ("The request body is larger than MAX_REQUEST_BODY.", "Request Entity Too Large"),
    419: ("A cookie-authenticated unsafe request without a matching X-XSRF-TOKEN.",
          "CSRF token mismatch."),
    429: ("Too many failed logins; Retry-After says when to try again.",
          "Too many login attempts. Please try again in 60 seconds."),
    503: ("A database is unreachable; Retry-After says when to try again.",
          "Service Unavailable."),
}


def _spec(status: int) -> ResponseSpec:
    if status == 422:
        example = {"message": "The email field is required.",
                   "errors": {"email": ["The email field is required."]}}
        return ResponseSpec(
            ValidationErrorBody, description="The request is invalid; `errors` says why, by field.",
            generate_examples=False, examples=[Example(value=example)],
        )
    description, message = _ERRORS[status]
    return ResponseSpec(
        ErrorBody, description=description, generate_examples=False,
        examples=[Example(value={"message": message})],
    )


def errors(*statuses: int) -> Mapping[int, ResponseSpec]:
    """The documented error responses of a handler, by status."""
    return {status: _spec(status) for status in statuses}


# Sets shared by the areas: what any guarded read, and any body-carrying write, may answer.
READ = (401, 503)
WRITE = (401, 413, 419, 422, 503)
# Chat routes also check the token's ability (403), ids and paging parameters (422), and
# answer 404 for another user's conversation as for a missing one.
CHAT_READ = (401, 403, 404, 422, 503)
CHAT_WRITE = (401, 403, 404, 413, 419, 422, 503)


def replayed() -> Mapping[int, ResponseSpec]:
    """The 200 of a message sent again with a known `client_message_id`."""
    return {200: ResponseSpec(
        dict, description="Sent before with this client_message_id: the stored message, "
        "unchanged.", generate_examples=False,
    )}


def _string(**limits) -> Schema:
    return Schema(type=OpenAPIType.STRING, **limits)


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    return Schema(type=OpenAPIType.OBJECT, properties=properties, required=list(required) or None)


def json_body(schema: Schema, *, required: bool = True) -> type[Operation]:
    """An Operation class that documents a JSON body the handler reads itself.

    Litestar documents a body only for a `data` parameter; pass the result as a handler's
    `operation_class`.
    """
    body = RequestBody(
        content={"application/json": OpenAPIMediaType(schema=schema)}, required=required
    )

    @dataclass
    class WithJsonBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return WithJsonBody


OBJECT_ID = _string(pattern="^[0-9a-fA-F]{24}$")
COLOR = _string(pattern="^#[0-9A-Fa-f]{6}$")
TITLE = _string(max_length=200)

REGISTER = _object(
    {
        "name": _string(min_length=1, max_length=255),
        "email": _string(format=OpenAPIFormat.EMAIL, max_length=255),
        "password": _string(min_length=8, max_length=72, description="8 to 72 UTF-8 bytes."),
        "password_confirmation": _string(description="The password again."),
    },
    ("name", "email", "password", "password_confirmation"),
)
LOGIN = _object(
    {"email": _string(max_length=255), "password": _string(), "remember": Schema(
        type=OpenAPIType.BOOLEAN)},
    ("email", "password"),
)
MINT = _object(
    {
        "name": _string(max_length=255),
        "abilities": Schema(
            type=OpenAPIType.ARRAY, items=_string(pattern="^[A-Za-z0-9*:._-]{1,100}$"),
            min_items=1, max_items=50,
        ),
        "expires_in": Schema(
            one_of=[Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_MINUTES),
                    _string(pattern="^[1-9][0-9]{0,2}[mhd]$")],
            description="Minutes, or a number followed by m, h, d or w.",
        ),
    }
)
TOKEN_NAME = _object({"name": _string(max_length=255)})
START = _object({"title": TITLE})
MESSAGE = _object(
    {
        "conversation_id": OBJECT_ID,
        "content": _string(min_length=1, description="At most CHAT_MAX_CONTENT characters."),
        "role": Schema(type=OpenAPIType.STRING, enum=["user", "assistant", "system"]),
        "client_message_id": _string(
            min_length=1, max_length=200,
            description="The client's id for this message: a retry with the same id is "
            "answered with the stored message instead of storing it twice.",
        ),
    },
    ("conversation_id", "content"),
)
CHANGES = _object({"title": TITLE, "bubble_color": COLOR, "background_color": COLOR})
