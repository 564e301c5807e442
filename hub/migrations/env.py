"""Alembic's entry point. `hub.db.upgrade_database` hands in the connection it holds and the settings it
migrates for; run by the alembic CLI (`alembic revision --autogenerate`, with alembic.ini at the top of the
repository), it builds the settings of the `PLEIN_*` environment and takes the same kind of connection to
Plein's database, `PLEIN_DATABASE_URL` or the embedded one. A migration that needs the data directory reads
it from `context.config.attributes["settings"]`."""

from alembic import context
from sqlalchemy import Connection

from hub.db import migration_connection
from hub.models import Base
from hub.settings import Settings


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if "settings" not in context.config.attributes:
    context.config.attributes["settings"] = Settings()
if (handed_in := context.config.attributes.get("connection")) is not None:
    run_migrations(handed_in)
else:
    with migration_connection(context.config.attributes["settings"]) as connection:
        run_migrations(connection)
