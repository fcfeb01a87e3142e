"""Laravel's identity tables, column for column (users, password_reset_tokens, sessions)."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TIMESTAMP

from aura.db import metadata

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("email", String(255), nullable=False),
    Column("email_verified_at", TIMESTAMP(precision=0), nullable=True),
    Column("password", String(255), nullable=False),
    Column("remember_token", String(100), nullable=True),
    Column("created_at", TIMESTAMP(precision=0), nullable=True),
    Column("updated_at", TIMESTAMP(precision=0), nullable=True),
    UniqueConstraint("email", name="users_email_unique"),
)

# `remember_token` of an account being deleted (aura.accounts.deletion). Laravel writes 60
# letters and digits there, so this value can never be a real remember token.
DELETION_MARK = "!aura:deleting"

password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("email", String(255), primary_key=True),
    Column("token", String(255), nullable=False),
    Column("created_at", TIMESTAMP(precision=0), nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("user_id", BigInteger, nullable=True),
    Column("ip_address", String(45), nullable=True),
    Column("user_agent", Text, nullable=True),
    Column("payload", Text, nullable=False),
    Column("last_activity", Integer, nullable=False),
    Index("sessions_user_id_index", "user_id"),
    Index("sessions_last_activity_index", "last_activity"),
)
