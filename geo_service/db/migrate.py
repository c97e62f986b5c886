"""Create or migrate the schema with Alembic (`geo-screen init`), and the serving role's rights.

PostgreSQL with two roles (docs/security.md): the owner role (GEO_SCREEN_DATABASE_OWNER_URL) owns
the tables and runs the migrations; the serving role (GEO_SCREEN_DATABASE_URL) gets what the
service needs and no more — on `audit_log` only INSERT and SELECT, and never ownership, so it can
neither TRUNCATE nor ALTER/DISABLE/DROP the append-only triggers.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"

APPEND_ONLY_TABLES = ("audit_log",)
READ_ONLY_TABLES = ("alembic_version",)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def grant_app_role(owner: Engine, app_role: str) -> None:
    """As the owner: give `app_role` read/write on the service's tables, INSERT/SELECT only on
    the audit log, SELECT only on the migration stamp; take everything else away."""
    quoted = owner.dialect.identifier_preparer.quote(app_role)
    with owner.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p') "
                "AND pg_get_userbyid(c.relowner) = current_user"
            )
        ).scalars()
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        for table in tables:
            name = owner.dialect.identifier_preparer.quote(table)
            conn.execute(text(f"REVOKE ALL ON {name} FROM {quoted}"))
            if table in APPEND_ONLY_TABLES:
                rights = "SELECT, INSERT"
            elif table in READ_ONLY_TABLES:
                rights = "SELECT"
            else:
                rights = "SELECT, INSERT, UPDATE, DELETE"
            conn.execute(text(f"GRANT {rights} ON {name} TO {quoted}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
