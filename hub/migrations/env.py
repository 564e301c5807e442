"""Alembic's entry point: migrations run on the connection `hub.db.upgrade_database` holds."""

from alembic import context

from hub.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
