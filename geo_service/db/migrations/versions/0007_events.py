"""Case events after filing (第十五条 to 第三十八条): the `case_event` table; every existing
立案 filing becomes its `filed` event.

Revision ID: 0007_events
Revises: 0006_feature_kind
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0007_events"
down_revision = "0006_feature_kind"
branch_labels = None
depends_on = None

CHINA = timezone(timedelta(hours=8))


def upgrade() -> None:
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("lead.id"), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
    )
    op.create_index("ix_case_event_lead_id", "case_event", ["lead_id"])
    bind = op.get_bind()
    filings = bind.execute(
        sa.text(
            "SELECT lead_id, decided_on, created_at, created_by FROM filing "
            "WHERE decision = 'file' ORDER BY id"
        )
    ).all()
    table = sa.table(
        "case_event",
        sa.column("lead_id", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("on", sa.Date()),
        sa.column("data", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String()),
    )
    for lead_id, decided_on, created_at, created_by in filings:
        if isinstance(created_at, str):  # SQLite hands raw text back
            created_at = datetime.fromisoformat(created_at)
        if isinstance(decided_on, str):
            decided_on = date.fromisoformat(decided_on[:10])
        if created_at.tzinfo is None:  # stored as UTC
            created_at = created_at.replace(tzinfo=UTC)
        on = decided_on or created_at.astimezone(CHINA).date()  # the office's day
        bind.execute(
            table.insert().values(
                lead_id=lead_id, type="filed", on=on, data={}, created_at=created_at,
                created_by=created_by,
            )
        )


def downgrade() -> None:
    op.drop_index("ix_case_event_lead_id", table_name="case_event")
    op.drop_table("case_event")
