"""Storage: SQLAlchemy 2 models, engine helpers and Alembic migrations."""
