"""Celery tasks. Each takes ids, opens one transaction, and calls one service.

Every task may run twice (`acks_late`): the services make that harmless through unique
keys, statuses and watermarks. A row that is gone means there is nothing left to do.
"""

from __future__ import annotations

import logging

from hub.db import session_scope
from hub.services import digests, inbound, indexing, notifications, outbox
from workers.app import app

log = logging.getLogger(__name__)

RETRY = {"max_retries": 5, "retry_backoff": True, "retry_backoff_max": 300, "retry_jitter": True}


@app.task(name="plein.inbound.process", bind=True, max_retries=5)
def process_inbound(task, inbound_id: int) -> None:
    try:
        with session_scope() as session:
            inbound.process_inbound(session, inbound_id)
    except Exception as error:
        if task.request.retries >= task.max_retries:
            log.exception("inbound message %s failed for good", inbound_id)
            with session_scope() as session:
                inbound.mark_failed(session, inbound_id, f"processing failed: {error!r}")
            return
        raise task.retry(exc=error, countdown=2 ** task.request.retries)


@app.task(name="plein.inbound.sweep")
def sweep_inbound() -> None:
    with session_scope() as session:
        inbound.requeue_stalled(session)


@app.task(name="plein.search.index_post", autoretry_for=(Exception,), **RETRY)
def index_post(post_id: int) -> None:
    with session_scope() as session:
        indexing.index_post(session, post_id)


@app.task(name="plein.delivery.notify_post", autoretry_for=(Exception,), **RETRY)
def notify_post(post_id: int) -> None:
    with session_scope() as session:
        notifications.notify_post(session, post_id)


@app.task(name="plein.delivery.notify_comment", autoretry_for=(Exception,), **RETRY)
def notify_comment(comment_id: int) -> None:
    with session_scope() as session:
        notifications.notify_comment(session, comment_id)


@app.task(name="plein.outbox.send", bind=True, max_retries=8)
def send_outgoing(task, outgoing_id: int) -> None:
    with session_scope() as session:
        delivered = outbox.send_queued(session, outgoing_id)
    if not delivered:
        raise task.retry(countdown=min(600, 5 * 2 ** task.request.retries))


@app.task(name="plein.outbox.sweep")
def sweep_outbox() -> None:
    with session_scope() as session:
        outbox.requeue_stalled(session)


@app.task(name="plein.digests.send")
def send_digests(frequency: str) -> None:
    with session_scope() as session:
        digests.send_digests(session, frequency)
