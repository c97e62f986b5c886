"""Initial schema: layers, leads, decisions, filings, history, tokens, audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from geo_service.db.models import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    Base.metadata.create_all(bind)
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
    Base.metadata.drop_all(op.get_bind())
