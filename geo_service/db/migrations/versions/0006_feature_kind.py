"""Feature rows carry their kind, series and active flag, so the QGIS view is index-driven.

"Features of kind K at point P" through `active_layer_feature` used to take the kind from a
joined table: PostgreSQL ran the exact geometry test on every box candidate of every version
(the 50,000-vertex province outline included) before it could drop the wrong kinds (266 ms per
point). Now `kind`, `series` and `active` are columns of `layer_feature`, kept by triggers:
- a new feature row takes them from its version and series (so no writer has to set them);
- a version whose status changes sets `active` on its rows;
- a series whose kind or name changes passes them on.
On PostgreSQL a partial GiST index covers the active rows (geometry) and a partial b-tree their
kind; the view filters on the row's own columns, so the plan is an index scan whatever the
number of versions kept.

Revision ID: 0006_feature_kind
Revises: 0005_decisions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_feature_kind"
down_revision = "0005_decisions"
branch_labels = None
depends_on = None

_OLD_VIEW = """
    CREATE VIEW active_layer_feature AS
    SELECT f.id, s.kind, s.name AS series, v.id AS version_id, v.version_no,
           f.code, f.name, f.geom
    FROM layer_feature f
    JOIN layer_version v ON v.id = f.version_id
    JOIN layer_series s ON s.id = v.series_id
    WHERE v.status = 'active'
"""

_NEW_VIEW = """
    CREATE VIEW active_layer_feature AS
    SELECT f.id, f.kind, f.series, f.version_id, v.version_no, f.code, f.name, f.geom
    FROM layer_feature f
    JOIN layer_version v ON v.id = f.version_id
    WHERE f.active
"""

_POSTGRES_TRIGGERS = (
    """
    CREATE FUNCTION layer_feature_fill() RETURNS trigger AS $$
    BEGIN
        SELECT s.kind, s.name, v.status = 'active' INTO NEW.kind, NEW.series, NEW.active
        FROM layer_version v JOIN layer_series s ON s.id = v.series_id
        WHERE v.id = NEW.version_id;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER layer_feature_fill BEFORE INSERT OR UPDATE OF version_id ON layer_feature
    FOR EACH ROW EXECUTE FUNCTION layer_feature_fill()
    """,
    """
    CREATE FUNCTION layer_version_status() RETURNS trigger AS $$
    BEGIN
        UPDATE layer_feature SET active = (NEW.status = 'active')
        WHERE version_id = NEW.id AND active IS DISTINCT FROM (NEW.status = 'active');
        RETURN NULL;
    END; $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER layer_version_status AFTER UPDATE OF status ON layer_version
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION layer_version_status()
    """,
    """
    CREATE FUNCTION layer_series_kind() RETURNS trigger AS $$
    BEGIN
        UPDATE layer_feature f SET kind = NEW.kind, series = NEW.name
        FROM layer_version v WHERE v.id = f.version_id AND v.series_id = NEW.id;
        RETURN NULL;
    END; $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER layer_series_kind AFTER UPDATE OF kind, name ON layer_series
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION layer_series_kind()
    """,
)

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER layer_feature_fill AFTER INSERT ON layer_feature
    BEGIN
        UPDATE layer_feature SET
            kind = (SELECT s.kind FROM layer_version v JOIN layer_series s ON s.id = v.series_id
                    WHERE v.id = NEW.version_id),
            series = (SELECT s.name FROM layer_version v JOIN layer_series s ON s.id = v.series_id
                      WHERE v.id = NEW.version_id),
            active = (SELECT v.status = 'active' FROM layer_version v WHERE v.id = NEW.version_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER layer_version_status AFTER UPDATE OF status ON layer_version
    WHEN OLD.status IS NOT NEW.status
    BEGIN
        UPDATE layer_feature SET active = (NEW.status = 'active') WHERE version_id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER layer_series_kind AFTER UPDATE OF kind, name ON layer_series
    BEGIN
        UPDATE layer_feature SET kind = NEW.kind, series = NEW.name
        WHERE version_id IN (SELECT id FROM layer_version WHERE series_id = NEW.id);
    END
    """,
)

_BACKFILL = """
    UPDATE layer_feature SET
        kind = (SELECT s.kind FROM layer_version v JOIN layer_series s ON s.id = v.series_id
                WHERE v.id = layer_feature.version_id),
        series = (SELECT s.name FROM layer_version v JOIN layer_series s ON s.id = v.series_id
                  WHERE v.id = layer_feature.version_id),
        active = (SELECT v.status = 'active' FROM layer_version v
                  WHERE v.id = layer_feature.version_id)
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP VIEW IF EXISTS active_layer_feature")
    with op.batch_alter_table("layer_feature") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("series", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(_BACKFILL)
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)
    if postgres:
        op.execute(
            "CREATE INDEX ix_layer_feature_active_geom ON layer_feature USING gist (geom) "
            "WHERE active"
        )
        op.execute("CREATE INDEX ix_layer_feature_active_kind ON layer_feature (kind) WHERE active")
        op.execute("ANALYZE layer_feature")
    else:
        op.execute("CREATE INDEX ix_layer_feature_active_kind ON layer_feature (active, kind)")
    op.execute(_NEW_VIEW)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP VIEW IF EXISTS active_layer_feature")
    for trigger, table in (
        ("layer_feature_fill", "layer_feature"),
        ("layer_version_status", "layer_version"),
        ("layer_series_kind", "layer_series"),
    ):
        op.execute(
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}"
            if postgres
            else f"DROP TRIGGER IF EXISTS {trigger}"
        )
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    op.execute("DROP INDEX IF EXISTS ix_layer_feature_active_kind")
    op.execute("DROP INDEX IF EXISTS ix_layer_feature_active_geom")
    with op.batch_alter_table("layer_feature") as batch:
        batch.drop_column("active")
        batch.drop_column("series")
        batch.drop_column("kind")
    op.execute(_OLD_VIEW)
