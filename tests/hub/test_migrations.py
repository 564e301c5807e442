"""Migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.db import get_engine, upgrade_database
from hub.models import Base


def differences_from_the_models() -> list:
    with get_engine().connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_migrations_build_exactly_the_schema_of_the_models(data_dir):
    assert differences_from_the_models() == []


def test_migrations_build_exactly_the_schema_of_the_models_on_postgresql(postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLEIN_DATABASE_URL", postgres.fresh_database("migrations_check"))
    try:
        upgrade_database()
        upgrade_database()  # a second run, as every `plein` command does, changes nothing
        assert differences_from_the_models() == []
    finally:
        get_engine().dispose()
