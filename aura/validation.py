"""Small request-body checks that answer with Laravel's messages and 422 shape.

Litestar's own validation reports errors in its own shape; the existing frontend reads
Laravel's `{"message", "errors": {field: [...]}}`, so request bodies are read as plain JSON
objects and checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from aura.errors import ValidationFailed

EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")


async def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or a 422 that says what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise ValidationFailed.field("body", "The request body must be a JSON object.")
    try:
        data = await request.json()
    except (SerializationException, ValueError, RecursionError) as exc:
        # RecursionError: the decoder gives up on deeply nested input, which is not JSON we take.
        raise ValidationFailed.field("body", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "The request body must be a JSON object.")
    return data


def is_clean_text(value: str) -> bool:
    """No NUL byte and no lone surrogate: text that PostgreSQL and MongoDB store unchanged."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Checker:
    """Collects every field's errors before failing, as Laravel's validator does."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def string(
        self, field: str, *, required: bool = True, max_length: int | None = None,
        label: str | None = None,
    ) -> str | None:
        label = label or field.replace("_", " ")
        value = self.data.get(field)
        if value is None or (isinstance(value, str) and value.strip() == "" and required):
            if required:
                self.fail(field, f"The {label} field is required.")
            return None
        if not isinstance(value, str):
            self.fail(field, f"The {label} field must be a string.")
            return None
        if not is_clean_text(value):
            self.fail(field, f"The {label} field contains characters that are not allowed.")
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(field, f"The {label} field must not be greater than {max_length} characters.")
            return None
        return value

    def email(self, field: str = "email") -> str | None:
        value = self.string(field, max_length=255)
        if value is None:
            return None
        value = value.strip()
        if not EMAIL_PATTERN.match(value):
            self.fail(field, f"The {field} field must be a valid email address.")
            return None
        return value

    def boolean(self, field: str) -> bool:
        value = self.data.get(field, False)
        if value in (True, False, 0, 1, "0", "1", "true", "false", None):
            return value in (True, 1, "1", "true")
        self.fail(field, f"The {field} field must be true or false.")
        return False

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
