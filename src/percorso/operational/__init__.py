"""The operational database: company-managed state (keys, users, maps...) via SQLAlchemy 2 + Alembic."""
