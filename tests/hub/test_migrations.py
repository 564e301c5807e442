from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.db import get_engine
from hub.models import Base


def test_migrations_build_exactly_the_schema_of_the_models(data_dir):
    with get_engine().connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
