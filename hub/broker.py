"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, asked often.

kombu polls virtual transports once a second and passes every transport option on to
`create_engine`, so the interval cannot be set as an option; a subclass sets it instead.
A tenth of a second keeps a mailed post searchable within about a second.
"""

from kombu.transport.sqlalchemy import Transport


class EmbeddedTransport(Transport):
    polling_interval = 0.1
