"""Beanie documents for the collections the Flask chat service wrote."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, IndexModel

DEFAULT_BUBBLE_COLOR = "#7B2FE3"
DEFAULT_BACKGROUND_COLOR = "#070a14"


class Theme(BaseModel):
    bubble_color: str = DEFAULT_BUBBLE_COLOR
    background_color: str = DEFAULT_BACKGROUND_COLOR


class Conversation(Document):
    user_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None = None
    theme: Theme | None = None

    class Settings:
        name = "conversations"
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
                name="user_id_1_last_message_at_-1__id_-1",
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
                name="conversation_id_1_created_at_1__id_1",
            ),
            IndexModel(
                [("user_id", ASCENDING), ("client_message_id", ASCENDING)],
                name="user_id_1_client_message_id_1",
                unique=True,
                partialFilterExpression={"client_message_id": {"$type": "string"}},
            ),
        ]
