"""The database engines, and the migrations that bring a database up to date.

A process builds its engines once, in its context (hub/context.py), whose `session_scope` is
the one place that owns a transaction: an edge (a request, a task, a CLI command, the SMTP
hook) opens it; services add and flush but never commit. Jobs registered with
`hub.jobs.after_commit` are sent only when the scope commits, and dropped when it rolls back.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text

from hub.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def get_engine(database_url: str | None = None, *, durable: bool = False) -> Engine:
    """A new engine for the database; `durable` for commits that must outlive a power cut.

    SQLite runs its write-ahead log with synchronous=NORMAL: a commit survives the process
    crashing but not the machine, which is right for everything Plein can redo. A durable
    engine syncs the log on every commit (synchronous=FULL), for what a 250 has promised.
    PostgreSQL commits durably either way.
    """
    url = database_url or get_settings().database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        synchronous = "FULL" if durable else "NORMAL"
        event.listen(engine, "connect", lambda connection, _record: _tune_sqlite(connection, synchronous))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(dbapi_connection, synchronous: str) -> None:
    """WAL lets the web, SMTP and worker processes read while one of them writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


MIGRATION_LOCK_ID = 7_346_201
"""PostgreSQL advisory lock that lets one process migrate while the others wait."""


def upgrade_database() -> None:
    """Apply every Alembic migration not yet applied, on every branch (a new database gets all).

    Every `plein` command calls this on start, so processes starting together take turns:
    a file lock on SQLite, an advisory lock on PostgreSQL.
    """
    settings = get_settings()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / "migrate.lock", "w") as lock, engine.connect() as connection:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Batch migrations rebuild tables; SQLite's foreign keys must be off while they do.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "heads")
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
