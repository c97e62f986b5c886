"""Initial schema: layers, leads, decisions, filings, history, tokens, audit log.

Explicit operations (not metadata.create_all), so later revisions build on a fixed starting point.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geo_service.db.types import GeometryColumn

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GEOMETRY_COLUMNS = (("layer_feature", "geom"), ("lead", "damage_geom"), ("lead", "act_geom"))


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "historical_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligor_id", sa.String(length=30), nullable=False),
        sa.Column("damage_date", sa.Date(), nullable=False),
        sa.Column("case_ref", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("obligor_id", "damage_date", "case_ref"),
    )
    with op.batch_alter_table("historical_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_historical_case_obligor_id"), ["obligor_id"], unique=False
        )

    op.create_table(
        "layer_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("layer_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_layer_series_kind"), ["kind"], unique=False)

    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("obligor_id", sa.String(length=30), nullable=True),
        sa.Column("obligor_name", sa.String(length=300), nullable=True),
        sa.Column("league_code", sa.String(length=6), nullable=True),
        sa.Column("is_major", sa.Boolean(), nullable=False),
        sa.Column("minor_override", sa.Boolean(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("damage_geom", GeometryColumn("GEOMETRY"), nullable=True),
        sa.Column("act_geom", GeometryColumn("GEOMETRY"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("source_system", "external_ref"),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_league_code"), ["league_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_next_due"), ["next_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_obligor_id"), ["obligor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_status"), ["status"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("rulebook_version", sa.String(length=40), nullable=False),
        sa.Column("layer_versions", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_lead_id"), ["lead_id"], unique=False)

    op.create_table(
        "filing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("damage_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("filing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_lead_id"), ["lead_id"], unique=False)

    op.create_table(
        "layer_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_filename", sa.String(length=500), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("source_crs", sa.String(length=100), nullable=True),
        sa.Column("conversion", sa.Text(), nullable=True),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["layer_series.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series_id", "version_no"),
    )
    with op.batch_alter_table("layer_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_layer_version_series_id"), ["series_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_layer_version_status"), ["status"], unique=False)

    op.create_table(
        "layer_feature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("geom", GeometryColumn("GEOMETRY"), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["layer_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("layer_feature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_layer_feature_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_layer_feature_version_id"), ["version_id"], unique=False
        )
    if postgres:
        # GiST indexes for QGIS and spatial SQL (GeoAlchemy2 may have made them already).
        for table, column in GEOMETRY_COLUMNS:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS idx_{table}_{column} ON {table} USING gist ({column})"
            )
    if postgres:
        # The audit log is append-only (R9): the database itself refuses edits.
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    # One view a GIS analyst can add in QGIS: the features of every active layer version.
    op.execute(
        """
        CREATE VIEW active_layer_feature AS
        SELECT f.id, s.kind, s.name AS series, v.id AS version_id, v.version_no,
               f.code, f.name, f.geom
        FROM layer_feature f
        JOIN layer_version v ON v.id = f.version_id
        JOIN layer_series s ON s.id = v.series_id
        WHERE v.status = 'active'
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS active_layer_feature")
    for table in (
        "layer_feature",
        "layer_version",
        "filing",
        "decision",
        "lead",
        "layer_series",
        "historical_case",
        "audit_log",
        "api_token",
    ):
        op.drop_table(table)
