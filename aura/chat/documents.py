"""Beanie documents for the collections the Flask chat service wrote.

The models accept the Flask shapes as they are: `user_id` is the PostgreSQL id as a string,
datetimes may be naive UTC, `theme` and `last_message_at` may be missing. The indexes are
declared here so that `init_beanie` creates them at start. Every chat read matches one of them
in filter and sort; the reads after a paging cursor also name it in a hint, so that their
`$or` can never fall back to a collection scan.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, IndexModel

DEFAULT_TITLE = "Nueva conversación"
DEFAULT_BUBBLE_COLOR = "#7B2FE3"
DEFAULT_BACKGROUND_COLOR = "#070a14"

HISTORY_INDEX = "user_id_1_last_message_at_-1__id_-1"
MESSAGES_INDEX = "conversation_id_1_created_at_1__id_1"
CLIENT_MESSAGE_INDEX = "user_id_1_client_message_id_1"


class Theme(BaseModel):
    bubble_color: str = DEFAULT_BUBBLE_COLOR
    background_color: str = DEFAULT_BACKGROUND_COLOR


class Conversation(Document):
    user_id: str
    title: str = DEFAULT_TITLE
    created_at: datetime
    updated_at: datetime | None = None
    last_message_at: datetime | None = None
    theme: Theme | None = None

    class Settings:
        name = "conversations"
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
                name=HISTORY_INDEX,
            ),
        ]


class Message(Document):
    conversation_id: PydanticObjectId
    user_id: str
    role: str
    content: str
    created_at: datetime
    client_message_id: str | None = None

    class Settings:
        name = "messages"
        indexes = [
            IndexModel(
                [("conversation_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name=MESSAGES_INDEX,
            ),
            # Only string keys take part, so the many messages without one never collide.
            IndexModel(
                [("user_id", ASCENDING), ("client_message_id", ASCENDING)],
                name=CLIENT_MESSAGE_INDEX,
                unique=True,
                partialFilterExpression={"client_message_id": {"$type": "string"}},
            ),
        ]
