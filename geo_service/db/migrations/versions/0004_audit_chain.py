"""The audit log becomes a hash chain and truly append-only.

Adds `prev_hash`/`row_hash` (geo_service.audit_chain) and fills them for existing rows in id
order. PostgreSQL: a BEFORE TRUNCATE trigger joins the UPDATE/DELETE one. SQLite: an INSERT that
would replace an existing row (`INSERT OR REPLACE`) is refused, whatever `recursive_triggers` says.
Rights for the serving role (INSERT/SELECT only on audit_log) are granted by `geo-screen init`
(geo_service.db.migrate.grant_app_role), which knows the role names.

Revision ID: 0004_audit_chain
Revises: 0003_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_chain"
down_revision = "0003_sessions"
branch_labels = None
depends_on = None

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("row_hash", sa.String),
)

_SQLITE_NO_REPLACE = (
    "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
    "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)


def _sqlite_edit_triggers(create: bool) -> None:
    for verb in ("UPDATE", "DELETE"):
        name = f"audit_log_no_{verb.lower()}"
        if create:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _backfill() -> None:
    from geo_service.audit_chain import GENESIS, chain_hash

    bind = op.get_bind()
    prev = GENESIS
    rows = bind.execute(sa.select(_audit).order_by(_audit.c.id)).all()
    for row in rows:
        digest = chain_hash(
            prev, row.at, row.actor, row.action, row.entity, row.entity_id, row.detail or {}
        )
        bind.execute(
            _audit.update().where(_audit.c.id == row.id).values(prev_hash=prev, row_hash=digest)
        )
        prev = digest


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(length=64), nullable=True))
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        _backfill()
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        _sqlite_edit_triggers(create=False)
        _backfill()
        _sqlite_edit_triggers(create=True)
        op.execute(_SQLITE_NO_REPLACE)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
