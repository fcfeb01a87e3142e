"""Sanctum's `personal_access_tokens` table, as Sanctum 4 migrates it."""

from sqlalchemy import BigInteger, Column, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TIMESTAMP

from aura.db import metadata

personal_access_tokens = Table(
    "personal_access_tokens",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tokenable_type", String(255), nullable=False),
    Column("tokenable_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("token", String(64), nullable=False),
    Column("abilities", Text, nullable=True),
    Column("last_used_at", TIMESTAMP(precision=0), nullable=True),
    Column("expires_at", TIMESTAMP(precision=0), nullable=True),
    Column("created_at", TIMESTAMP(precision=0), nullable=True),
    Column("updated_at", TIMESTAMP(precision=0), nullable=True),
    UniqueConstraint("token", name="personal_access_tokens_token_unique"),
    Index("personal_access_tokens_tokenable_type_tokenable_id_index", "tokenable_type", "tokenable_id"),
)
