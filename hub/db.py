"""The database engines, and the migrations that bring a database up to date.

A process builds its engines once, in its context (hub/context.py), whose `session_scope` is
the one place that owns a transaction: an edge (a request, a task, a CLI command, the SMTP
hook) opens it; services add and flush but never commit. Jobs registered with
`hub.jobs.after_commit` are sent only when the scope commits, and dropped when it rolls back.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from hub.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def get_engine(database_url: str, *, durable: bool = False) -> Engine:
    """A new engine for the database; `durable` for commits that must outlive a power cut.

    SQLite runs its write-ahead log with synchronous=NORMAL: a commit survives the process
    crashing but not the machine, which is right for everything Plein can redo. A durable
    engine syncs the log on every commit (synchronous=FULL), for what a 250 has promised.
    PostgreSQL commits durably either way.
    """
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})
        synchronous = "FULL" if durable else "NORMAL"
        event.listen(engine, "connect", lambda connection, _record: _tune_sqlite(connection, synchronous))
        return engine
    return create_engine(database_url, pool_pre_ping=True)


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


def upgrade_database(settings: Settings) -> None:
    """Apply every Alembic migration not yet applied, on every branch (a new database gets all).

    `plein db upgrade` does this, and `plein run` on the embedded database; processes that
    upgrade together take turns (`migration_connection`). The migrations are handed `settings`
    in `config.attributes`, as they are the connection.
    """
    before = database_revisions(settings)
    _refuse_unknown(before, ScriptDirectory.from_config(_alembic_config()))
    config = _alembic_config()
    with migration_connection(settings) as connection:
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings
        command.upgrade(config, "heads")
        if connection.dialect.name == "sqlite" and before and _revisions_on(connection) != before:
            # A migration that rebuilt a table took its statistics with it, and SQLite's planner would choose
            # without them: the home feed's p95 went from 39 to 59 ms after 0034 and 0035 (docs/performance.md).
            connection.exec_driver_sql("ANALYZE")


@contextmanager
def migration_connection(settings: Settings) -> Iterator[Connection]:
    """A connection to migrate on, held by one process at a time: a file lock on SQLite, an
    advisory lock on PostgreSQL."""
    with _engine_of(settings) as engine:
        if engine.dialect.name == "sqlite":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            with open(settings.data_dir / "migrate.lock", "w") as lock, engine.connect() as connection:
                fcntl.flock(lock, fcntl.LOCK_EX)
                # Batch migrations rebuild tables; SQLite's foreign keys must be off while they do.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
                try:
                    with connection.begin():
                        yield connection
                finally:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
        else:
            with engine.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
                yield connection


@contextmanager
def _engine_of(settings: Settings) -> Iterator[Engine]:
    """An engine of its own for migrating and checking revisions, disposed of after."""
    engine = get_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


class DatabaseNotReady(Exception):
    """The database cannot be used by this code as it is; the message says why, and what to run."""


def require_head(settings: Settings) -> None:
    """Raise `DatabaseNotReady` unless the database is at the head revision(s) of the migrations.

    Every process but `plein db upgrade` (and `plein run` on the embedded database) checks
    this before it starts: a new database, one an upgrade has not reached yet, or one that
    newer code migrated, is refused in one line rather than failing later on a missing column.
    """
    current, scripts = database_revisions(settings), ScriptDirectory.from_config(_alembic_config())
    _refuse_unknown(current, scripts)
    needed = set(scripts.get_heads())
    if current != needed:
        where = f"at revision {_listed(current)}" if current else "not migrated yet"
        raise DatabaseNotReady(f"Plein's database is {where}, the code needs {_listed(needed)}: run plein db upgrade.")


def _refuse_unknown(current: set[str], scripts: ScriptDirectory) -> None:
    """A revision the migrations do not have: newer code migrated the database, and this code must not use it."""
    if current - {script.revision for script in scripts.walk_revisions()}:
        raise DatabaseNotReady(
            f"Plein's database is at revision {_listed(current)}, newer than this code knows"
            f" (it needs {_listed(set(scripts.get_heads()))}): run the Plein that migrated it."
        )


def database_revisions(settings: Settings) -> set[str]:
    """The revisions the database is at: none for a new one (a SQLite file not there yet stays so)."""
    with _engine_of(settings) as engine:
        if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").exists():
            return set()
        try:
            with engine.connect() as connection:
                return set(MigrationContext.configure(connection).get_current_heads())
        except OperationalError as error:
            where, why = engine.url.render_as_string(hide_password=True), " ".join(str(error.orig).split())
            raise DatabaseNotReady(f"Plein cannot reach its database {where}: {why}") from error


def _revisions_on(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def _listed(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions))


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
