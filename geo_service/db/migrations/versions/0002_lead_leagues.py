"""Leads remember every league their damage area touches (for the league filter).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("leagues", sa.String(length=120), nullable=True))
    # Fill it from each lead's latest decision (decisions are never edited, so this is exact).
    bind = op.get_bind()
    latest = bind.execute(
        sa.text(
            "SELECT d.lead_id, d.result FROM decision d "
            "JOIN (SELECT lead_id, max(id) AS id FROM decision GROUP BY lead_id) m ON m.id = d.id"
        )
    ).all()
    for lead_id, result in latest:
        stored = json.loads(result) if isinstance(result, str) else (result or {})
        units = (stored.get("jurisdiction") or {}).get("leagues") or []
        codes = sorted({str(u["code"]) for u in units if u.get("code")})
        if codes:
            bind.execute(
                sa.text("UPDATE lead SET leagues = :v WHERE id = :id"),
                {"v": "," + ",".join(codes) + ",", "id": lead_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("leagues")
