"""Server-side browser sessions, and tokens that expire.

Revision ID: 0003_sessions
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sessions"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_api_token_revoked_at", ["revoked_at"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_hash"),
    )
    op.create_index("ix_web_session_token_id", "web_session", ["token_id"])
    op.create_index("ix_web_session_ended_at", "web_session", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_web_session_ended_at", table_name="web_session")
    op.drop_index("ix_web_session_token_id", table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_index("ix_api_token_revoked_at")
        batch.drop_column("expires_at")
