"""What the chat endpoints accept and what they answer, in the Flask service's JSON shapes.

Bodies are read as plain JSON objects and checked field by field, so that a MongoDB operator
sent where a value belongs (`{"$ne": null}`) is just a value of the wrong type: a 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from aura.chat.documents import DEFAULT_BACKGROUND_COLOR, DEFAULT_BUBBLE_COLOR, DEFAULT_TITLE
from aura.dates import iso_utc
from aura.errors import ValidationFailed
from aura.validation import Checker

ROLES = ("user", "assistant", "system")
MAX_TITLE = 200
MAX_CLIENT_MESSAGE_ID = 200
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
LIMIT = re.compile(r"[0-9]{1,3}")
THEME_FIELDS = ("bubble_color", "background_color")


@dataclass(frozen=True, slots=True)
class NewMessage:
    conversation_id: ObjectId
    role: str
    content: str
    client_message_id: str | None


@dataclass(frozen=True, slots=True)
class ConversationChanges:
    """A PUT body; None means "leave as it is"."""

    title: str | None
    theme: dict[str, str]


def _is_object_id(value: Any) -> bool:
    """24 hex digits exactly; bson would also take any 12-character string as an id."""
    return isinstance(value, str) and OBJECT_ID.fullmatch(value) is not None


def _invalid_id(field: str) -> str:
    return f"The {field.replace('_', ' ')} field must be a valid id."


def object_id(value: Any, field: str = "id") -> ObjectId:
    """An ObjectId from a path segment; anything else is a 422 on `field`."""
    if not _is_object_id(value):
        raise ValidationFailed.field(field, _invalid_id(field))
    return ObjectId(value)


def page_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if LIMIT.fullmatch(raw) and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    raise ValidationFailed.field(
        "limit", f"The limit field must be an integer between 1 and {MAX_LIMIT}."
    )


def _title(checker: Checker) -> str | None:
    """Trimmed; blank becomes the default title; None when the field was not sent."""
    value = checker.string("title", required=False)
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_TITLE:
        checker.fail("title", f"The title field must not be greater than {MAX_TITLE} characters.")
        return None
    return value or DEFAULT_TITLE


def read_start(data: dict) -> str:
    checker = Checker(data)
    title = _title(checker)
    checker.check()
    return title or DEFAULT_TITLE


def read_message(data: dict, max_content: int) -> NewMessage:
    checker = Checker(data)
    conversation_id = data.get("conversation_id")
    if not _is_object_id(conversation_id):
        checker.fail("conversation_id", _invalid_id("conversation_id"))
    content = checker.string("content", max_length=max_content)
    role = data.get("role")
    role = "user" if role is None else role
    if role not in ROLES:
        checker.fail("role", "The selected role is invalid.")
    client_message_id = checker.string(
        "client_message_id", required=False, max_length=MAX_CLIENT_MESSAGE_ID
    )
    if client_message_id is not None and not client_message_id.strip():
        checker.fail("client_message_id", "The client message id field must not be blank.")
    checker.check()
    return NewMessage(ObjectId(conversation_id), role, content, client_message_id)


def read_changes(data: dict) -> ConversationChanges:
    checker = Checker(data)
    title = _title(checker)
    theme = {}
    for field in THEME_FIELDS:
        value = checker.string(field, required=False)
        if value is None:
            continue
        if COLOR.fullmatch(value):
            theme[field] = value
        else:
            label = field.replace("_", " ")
            checker.fail(field, f"The {label} field must be a colour like #1A2B3C.")
    checker.check()
    return ConversationChanges(title, theme)


def theme_json(theme: Any) -> dict[str, str]:
    """The stored theme with defaults for what is missing (Flask documents may have none)."""
    theme = theme if isinstance(theme, dict) else {}
    return {
        "bubble_color": theme.get("bubble_color") or DEFAULT_BUBBLE_COLOR,
        "background_color": theme.get("background_color") or DEFAULT_BACKGROUND_COLOR,
    }


def conversation_json(document: dict) -> dict:
    return {
        "id": str(document["_id"]),
        "title": document.get("title") or DEFAULT_TITLE,
        "created_at": iso_utc(document.get("created_at")),
        "updated_at": iso_utc(document.get("updated_at")),
        "last_message_at": iso_utc(document.get("last_message_at")),
        "theme": theme_json(document.get("theme")),
    }


def message_json(document: dict) -> dict:
    return {
        "id": str(document["_id"]),
        "role": document.get("role"),
        "content": document.get("content"),
        "created_at": iso_utc(document.get("created_at")),
    }
