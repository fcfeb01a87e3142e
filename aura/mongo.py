"""MongoDB access: one AsyncMongoClient per process, Beanie initialised on it."""

from __future__ import annotations

from beanie import init_beanie
from pymongo import AsyncMongoClient

from aura.settings import Settings


def document_models() -> list[type]:
    from aura.chat.documents import Conversation, Message

    return [Conversation, Message]


def create_client(settings: Settings, uri: str | None = None) -> AsyncMongoClient:
    raw = uri or (settings.mongo_uri.get_secret_value() if settings.mongo_uri else None)
    if raw is None:
        raise RuntimeError("MONGO_URI is not set")
    timeout = settings.mongo_timeout_ms
    return AsyncMongoClient(
        raw,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=max(timeout, 10_000),
        appname="aura",
    )


async def init_documents(client: AsyncMongoClient, settings: Settings) -> None:
    """Bind the documents to the database and create their declared indexes."""
    await init_beanie(database=client[settings.mongo_db], document_models=document_models())


def describe_uri(uri: str) -> str:
    """A URI fit for printing: hosts and nothing else."""
    rest = uri.split("://", 1)[-1]
    hosts = rest.split("@", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    return f"mongodb://{hosts}"
