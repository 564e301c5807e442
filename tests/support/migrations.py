"""Migration tests: a hub's database made at an older revision, filled with rows as Plein made them then."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from hub.context import Context
from hub.db import MIGRATIONS_DIR, get_engine


@contextmanager
def at_revision(context: Context, revision: str) -> Iterator[Connection]:
    """A connection to `context`'s database migrated up to `revision`, in one transaction committed on leaving."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = context.settings
    engine = get_engine(context.settings.database_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection
    finally:
        engine.dispose()


def insert(connection: Connection, table: str, **values) -> None:
    names = ", ".join(values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"), values)
