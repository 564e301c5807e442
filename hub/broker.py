"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, asked often.

kombu polls virtual transports once a second and passes every transport option on to
`create_engine`, so the interval cannot be set as an option; a subclass sets it instead.
A tenth of a second keeps a mailed post searchable within about a second.
"""

import sqlite3
from pathlib import Path

from kombu.transport.sqlalchemy import Transport


class EmbeddedTransport(Transport):
    polling_interval = 0.1


def use_write_ahead_log(database: Path) -> None:
    """Let the broker's readers and its one writer work at once (the mode stays with the file).

    Every poll of every worker takes SQLite's write lock (BEGIN IMMEDIATE); in the default
    rollback-journal mode each one also waits for the others' reads.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
