"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file."""

from __future__ import annotations

from kombu import Connection
from sqlalchemy import event

from hub.broker import EmbeddedTransport


def test_a_queue_another_process_creates_meanwhile_takes_the_job_instead_of_refusing_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'broker.db'}"
    with Connection(url, transport=EmbeddedTransport) as ours, Connection(url, transport=EmbeddedTransport) as theirs:
        channel, other = ours.channel(), theirs.channel()

        def created_elsewhere(*_: object) -> None:  # after our look found no queue, before our insert
            other.session.add(other.queue_cls("plein"))
            other.session.commit()

        event.listen(channel.session, "before_flush", created_elsewhere, once=True)
        channel._put("plein", {"body": "a job"})
        assert channel._size("plein") == 1
        channel.close()
        other.close()
