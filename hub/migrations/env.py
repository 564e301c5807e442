"""Alembic's entry point. `hub.db.upgrade_database` hands in the connection it holds; run by the
alembic CLI (`alembic revision --autogenerate`, with alembic.ini at the top of the repository),
it takes the same kind of connection to Plein's database, `PLEIN_DATABASE_URL` or the embedded one."""

from alembic import context
from sqlalchemy import Connection

from hub.db import migration_connection
from hub.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if (handed_in := context.config.attributes.get("connection")) is not None:
    run_migrations(handed_in)
else:
    with migration_connection() as connection:
        run_migrations(connection)
