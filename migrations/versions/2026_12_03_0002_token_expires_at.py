"""Add `personal_access_tokens.expires_at` where an older Sanctum (2.x) left it out.

Sanctum 3's upgrade guide adds the same nullable timestamp after `last_used_at`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("personal_access_tokens")}
    if "expires_at" not in columns:
        op.add_column(
            "personal_access_tokens",
            sa.Column("expires_at", TIMESTAMP(precision=0), nullable=True),
        )


def downgrade() -> None:
    pass
