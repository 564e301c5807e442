"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, asked often.

kombu polls virtual transports once a second and passes every transport option on to
`create_engine`, so the interval cannot be set as an option; a subclass sets it instead.
A tenth of a second keeps a mailed post searchable within about a second.

The broker's file does not sync its log on every commit (synchronous=NORMAL): a task
survives a crash of its process, and after a crash of the machine the sweeps find the work
again in the database, where every received message is on record for good.
"""

import sqlite3
from pathlib import Path

from kombu.transport.sqlalchemy import Channel, Transport
from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError


class EmbeddedChannel(Channel):
    def _engine_from_config(self) -> Engine:
        engine = super()._engine_from_config()
        event.listen(engine, "connect", _sync_normally)
        return engine

    def _get_or_create(self, queue: str):
        """The queue's row, also when another process created it between our look and our insert.

        kombu only expects that race to end in an OperationalError; on SQLite it ends in an
        IntegrityError, and the first job a fresh `plein run` sent could be lost to it.
        """
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return super()._get_or_create(queue)

    def close(self) -> None:
        """Give the channel's database connection back to the pool.

        kombu's channel keeps its session open after closing, and with it a pooled
        connection: counting the queues (`hub.jobs.queue_depths`, for /metrics and the
        inbound sweep) opens a channel each time and would run the pool dry.
        """
        if self._session is not None:
            self._session.close()
            self._session = None
        super().close()


def _sync_normally(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class EmbeddedTransport(Transport):
    Channel = EmbeddedChannel
    polling_interval = 0.1


def use_write_ahead_log(database: Path) -> None:
    """Let the broker's readers and its one writer work at once (the mode stays with the file).

    Every poll of every worker takes SQLite's write lock (BEGIN IMMEDIATE); in the default
    rollback-journal mode each one also waits for the others' reads.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
