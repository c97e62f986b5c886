"""Decisions that hold up: caller-scoped idempotency, obligor name keys, filing findings.

Revision ID: 0005_decisions
Revises: 0004_audit_chain
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from screening.obligor import normalise_obligor_name

revision = "0005_decisions"
down_revision = "0004_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("idempotency_body_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("obligor_name_key", sa.String(length=300), nullable=True))
        batch.create_index("ix_lead_obligor_name_key", ["obligor_name_key"], unique=False)
    with op.batch_alter_table("filing") as batch:
        batch.add_column(sa.Column("no_compensation_needed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("impact_criterion", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decided_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, obligor_name FROM lead WHERE obligor_name IS NOT NULL")
    ).all()
    for lead_id, name in rows:
        key = normalise_obligor_name(name)
        if key:
            bind.execute(
                sa.text("UPDATE lead SET obligor_name_key = :k WHERE id = :id"),
                {"k": key, "id": lead_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("filing") as batch:
        batch.drop_column("decision_id")
        batch.drop_column("decided_on")
        batch.drop_column("impact_criterion")
        batch.drop_column("no_compensation_needed")
    with op.batch_alter_table("lead") as batch:
        batch.drop_index("ix_lead_obligor_name_key")
        batch.drop_column("obligor_name_key")
        batch.drop_column("idempotency_body_hash")
