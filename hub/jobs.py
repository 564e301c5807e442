"""Background work, handed to Celery by task name and only after the transaction commits.

Services call `after_commit(session, "plein.inbound.process", inbound_id)`; `Context.session_scope`
(hub/context.py) sends the queued jobs once its commit succeeded and forgets them on rollback, so a worker never
looks for a row that was never written. The hub names tasks; it does not import `workers`.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from sqlalchemy.orm import Session

from hub.settings import Settings

DEFAULT_QUEUE = "plein"
INBOUND_QUEUE = "plein.inbound"
"""Mail to process: its own queue, so a post is never waiting behind the fan-out of the last ones."""
INDEX_QUEUE = "plein.index"
"""Index tasks have a queue of their own with exactly one consumer: Tantivy allows one writer."""
EXTRACT_QUEUE = "plein.extract"
"""Reading the text of attached files (OCR takes seconds): a lane of its own, so no index flush waits for it."""

COALESCE_SECONDS = 0.2
"""How long a process holds a coalesced job (`after_commit_coalesced`) before it starts."""

_PENDING = "plein.pending_jobs"
_COALESCED = "plein.coalesced_jobs"
_held_until: dict[tuple[str, str], float] = {}
"""When the coalesced job this process last sent starts, by broker URL and task name."""
_held_lock = threading.Lock()
log = logging.getLogger(__name__)


def build_celery(settings: Settings) -> Celery:
    """The Celery app of a process's context (`hub.context`): producers here, consumers in `workers`."""
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
            "plein.extract.*": {"queue": EXTRACT_QUEUE},
        },
    )
    if settings.uses_embedded_broker:
        app.conf.broker_transport = "hub.broker:EmbeddedTransport"
    if settings.broker_url.startswith("redis"):
        # Redis gives an unacknowledged task to another worker after this long (acks_late).
        app.conf.broker_transport_options = {"visibility_timeout": 3600}
    return app


def queue_depths(app: Celery) -> dict[str, int]:
    """How many tasks wait in each of Plein's queues, as the broker counts them."""
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        return {queue: channel.queue_declare(queue).message_count for queue in (INBOUND_QUEUE, DEFAULT_QUEUE, INDEX_QUEUE)}


def after_commit(session: Session, task_name: str, *args: object) -> None:
    session.info.setdefault(_PENDING, []).append((task_name, args))


def after_commit_coalesced(session: Session, task_name: str) -> None:
    """Ask for a job that does everything there is to do whenever it runs (an outbox drain, an index flush).

    Every transaction that queues mail or marks an item for the index asks for one. A process
    sends it to start `COALESCE_SECONDS` later, and not again while the one it sent has yet to
    start: that one will find what later commits left. At a hundred messages a second this
    is a few drains and flushes a second instead of hundreds of no-ops.
    """
    session.info.setdefault(_COALESCED, set()).add(task_name)


def queued(session: Session) -> list[tuple[str, tuple]]:
    """The jobs this transaction will send once it commits: `(task name, arguments)`."""
    return [*session.info.get(_PENDING, []), *((name, ()) for name in sorted(session.info.get(_COALESCED, ())))]


def cancel(session: Session, task_name: str, *args: object) -> None:
    """Forget a job this transaction queued, because the work was done in it after all."""
    pending = session.info.get(_PENDING, [])
    if (task_name, args) in pending:
        pending.remove((task_name, args))


def send_committed(session: Session, app: Celery) -> None:
    """Send the jobs of a committed transaction.

    The data is already safe, so a broker that is down must not fail the caller: the job is
    logged and the periodic sweeps pick the rows up again.
    """
    for task_name, args in session.info.pop(_PENDING, []):
        _send(app, task_name, args)
    for task_name in sorted(session.info.pop(_COALESCED, ())):
        _send_coalesced(app, task_name)


def _send(app: Celery, task_name: str, args: tuple, **options: object) -> bool:
    try:
        app.send_task(task_name, args=args, **options)
        return True
    except Exception:
        log.exception("could not send %s%r; the sweep will retry it", task_name, args)
        return False


def _send_coalesced(app: Celery, task_name: str) -> None:
    """Send `task_name` to start `COALESCE_SECONDS` from now, unless one sent from here starts later still.

    Celery starts a job no earlier than its countdown, so a job that has yet to start reads
    what this transaction committed. Across machines that holds as far as their clocks agree;
    what a skewed clock leaves behind, the periodic sweep picks up.
    """
    key = (app.conf.broker_url, task_name)
    now = time.time()
    with _held_lock:
        if _held_until.get(key, 0.0) > now:
            return
        _held_until[key] = now + COALESCE_SECONDS
    if not _send(app, task_name, (), countdown=COALESCE_SECONDS):
        with _held_lock:
            _held_until.pop(key, None)


def discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_COALESCED, None)
