"""Laravel's identity tables: users, password_reset_tokens, sessions, personal_access_tokens.

On an empty database this creates them exactly as Laravel 11/12 and Sanctum 4 migrate them.
On a database Laravel already migrated, every table that exists is adopted as it is: nothing
is dropped, rewritten or retyped. Laravel 9 and older keep their `password_resets` table.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", TIMESTAMP(precision=0), nullable=True),
        sa.Column("updated_at", TIMESTAMP(precision=0), nullable=True),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    if "users" not in existing:
        op.create_table(
            "users",
            sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("email", sa.String(255), nullable=False),
            sa.Column("email_verified_at", TIMESTAMP(precision=0), nullable=True),
            sa.Column("password", sa.String(255), nullable=False),
            sa.Column("remember_token", sa.String(100), nullable=True),
            *_timestamps(),
            sa.PrimaryKeyConstraint("id", name="users_pkey"),
            sa.UniqueConstraint("email", name="users_email_unique"),
        )

    if not existing & {"password_reset_tokens", "password_resets"}:
        op.create_table(
            "password_reset_tokens",
            sa.Column("email", sa.String(255), nullable=False),
            sa.Column("token", sa.String(255), nullable=False),
            sa.Column("created_at", TIMESTAMP(precision=0), nullable=True),
            sa.PrimaryKeyConstraint("email", name="password_reset_tokens_pkey"),
        )

    if "sessions" not in existing:
        op.create_table(
            "sessions",
            sa.Column("id", sa.String(255), nullable=False),
            sa.Column("user_id", sa.BigInteger, nullable=True),
            sa.Column("ip_address", sa.String(45), nullable=True),
            sa.Column("user_agent", sa.Text, nullable=True),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("last_activity", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("id", name="sessions_pkey"),
        )
        op.create_index("sessions_user_id_index", "sessions", ["user_id"])
        op.create_index("sessions_last_activity_index", "sessions", ["last_activity"])

    if "personal_access_tokens" not in existing:
        op.create_table(
            "personal_access_tokens",
            sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),
            sa.Column("tokenable_type", sa.String(255), nullable=False),
            sa.Column("tokenable_id", sa.BigInteger, nullable=False),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("token", sa.String(64), nullable=False),
            sa.Column("abilities", sa.Text, nullable=True),
            sa.Column("last_used_at", TIMESTAMP(precision=0), nullable=True),
            sa.Column("expires_at", TIMESTAMP(precision=0), nullable=True),
            *_timestamps(),
            sa.PrimaryKeyConstraint("id", name="personal_access_tokens_pkey"),
            sa.UniqueConstraint("token", name="personal_access_tokens_token_unique"),
        )
        op.create_index(
            "personal_access_tokens_tokenable_type_tokenable_id_index",
            "personal_access_tokens",
            ["tokenable_type", "tokenable_id"],
        )


def downgrade() -> None:
    # Removing identity tables would destroy users and tokens that Laravel may share.
    raise NotImplementedError("the Laravel baseline is not reversible")
