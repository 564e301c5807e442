"""Background work, handed to Celery by task name and only after the transaction commits.

Services call `after_commit(session, "plein.inbound.process", inbound_id)`; `hub.db.session_scope`
sends the queued jobs once its commit succeeded and forgets them on rollback, so a worker never
looks for a row that was never written. The hub names tasks; it does not import `workers`.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Celery
from sqlalchemy.orm import Session

from hub.settings import get_settings

DEFAULT_QUEUE = "plein"
INBOUND_QUEUE = "plein.inbound"
"""Mail to process: its own queue, so a post is never waiting behind the fan-out of the last ones."""
INDEX_QUEUE = "plein.index"
"""Index tasks have a queue of their own with exactly one consumer: Tantivy allows one writer."""

_PENDING = "plein.pending_jobs"
log = logging.getLogger(__name__)


@lru_cache
def celery_app() -> Celery:
    """The Celery app every process shares: producers here, consumers in `workers`."""
    settings = get_settings()
    broker_url = settings.broker_url
    if settings.uses_embedded_broker:
        # kombu takes the transport from a `sqla+` prefix and would ignore `broker_transport`.
        broker_url = broker_url.removeprefix("sqla+")
    app = Celery("plein", broker=broker_url)
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        timezone=settings.timezone,
        task_default_queue=DEFAULT_QUEUE,
        # The sweep only looks at the database and queues a flush: it need not wait behind index work.
        task_routes={
            "plein.inbound.process": {"queue": INBOUND_QUEUE},
            "plein.search.sweep": {"queue": DEFAULT_QUEUE},
            "plein.search.*": {"queue": INDEX_QUEUE},
        },
    )
    if settings.uses_embedded_broker:
        app.conf.broker_transport = "hub.broker:EmbeddedTransport"
    if settings.broker_url.startswith("redis"):
        # Redis gives an unacknowledged task to another worker after this long (acks_late).
        app.conf.broker_transport_options = {"visibility_timeout": 3600}
    return app


def queue_depths() -> dict[str, int]:
    """How many tasks wait in each of Plein's queues, as the broker counts them."""
    with celery_app().connection_for_read() as connection:
        channel = connection.default_channel
        return {queue: channel.queue_declare(queue).message_count for queue in (INBOUND_QUEUE, DEFAULT_QUEUE, INDEX_QUEUE)}


def after_commit(session: Session, task_name: str, *args: object) -> None:
    session.info.setdefault(_PENDING, []).append((task_name, args))


def after_commit_once(session: Session, task_name: str, *args: object) -> None:
    """Like `after_commit`, but a job already queued in this transaction is not queued again."""
    if (task_name, args) not in session.info.get(_PENDING, []):
        after_commit(session, task_name, *args)


def send_committed(session: Session) -> None:
    """Send the jobs of a committed transaction.

    The data is already safe, so a broker that is down must not fail the caller: the job is
    logged and the periodic sweeps pick the rows up again.
    """
    for task_name, args in session.info.pop(_PENDING, []):
        try:
            celery_app().send_task(task_name, args=args)
        except Exception:
            log.exception("could not send %s%r; the sweep will retry it", task_name, args)


def discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
