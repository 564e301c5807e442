"""Celery tasks. Each takes ids, opens one transaction on the worker's context, and calls one service.

Every task may run twice (`acks_late`): the services make that harmless through unique
keys, statuses and watermarks. A row that is gone means there is nothing left to do.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded

from hub.models import utcnow
from hub.services import (
    attachments,
    digests,
    inbound,
    inbox,
    index_writer,
    indexing,
    notifications,
    outbox,
    participation,
    photo_sizes,
    videos,
)
from hub.services.ldap_directory import apply_directory, read_people
from hub.services.people import Outcome
from workers.app import app, context

log = logging.getLogger(__name__)

RETRY = {"max_retries": 5, "retry_backoff": True, "retry_backoff_max": 300, "retry_jitter": True}


@app.task(name="plein.inbound.process", bind=True, max_retries=5)
def process_inbound(task, inbound_id: int) -> None:
    try:
        with context.session_scope() as session:
            processed = inbound.process_inbound(session, inbound_id)
            outcome = processed and {
                "message_id": processed.message_id, "inbound_id": inbound_id,
                "status": processed.status.value, "reason": processed.reason,
            }
        if outcome:
            log.info("inbound message %s: %s", outcome["status"], outcome["reason"], extra=outcome)
    except Exception as error:
        if task.request.retries >= task.max_retries:
            log.exception("inbound message %s failed for good", inbound_id)
            with context.session_scope() as session:
                inbound.mark_failed(session, inbound_id, f"processing failed: {error!r}")
            return
        raise task.retry(exc=error, countdown=2 ** task.request.retries)


@app.task(name="plein.inbound.sweep")
def sweep_inbound() -> None:
    with context.session_scope() as session:
        inbound.requeue_stalled(session, timedelta(seconds=context.settings.sweep_after))


@app.task(name=indexing.FLUSH_TASK, autoretry_for=(Exception,), **RETRY)
def flush_index() -> None:
    """Index every pending item; flushes queued during a burst find the first drained them all."""
    index_writer.flush(context)


@app.task(name=index_writer.READ_TASK, autoretry_for=(Exception,), **RETRY)
def read_documents(attachment_ids: list[int]) -> None:
    """The extraction lane: read these files' text, each within its limits, and mark their posts for the indexer."""
    index_writer.read_documents(context, attachment_ids)


@app.task(name="plein.search.sweep")
def sweep_index() -> None:
    with context.session_scope() as session:
        indexing.requeue_stalled(session)


@app.task(name=notifications.NOTIFY_POST, autoretry_for=(Exception,), **RETRY)
def notify_post(post_id: int) -> None:
    with context.session_scope() as session:
        notifications.notify_post(session, post_id)


@app.task(name=notifications.NOTIFY_COMMENT, autoretry_for=(Exception,), **RETRY)
def notify_comment(comment_id: int) -> None:
    with context.session_scope() as session:
        notifications.notify_comment(session, comment_id)


@app.task(name=inbox.NOTIFY_POST, autoretry_for=(Exception,), **RETRY)
def notify_followers(post_id: int) -> None:
    with context.session_scope() as session:
        inbox.notify_post(session, post_id)


@app.task(name="plein.outbox.drain")
def drain_outbox() -> None:
    """Send what is due over one connection; each outcome commits on its own (see outbox.drain)."""
    outbox.drain(context)


@app.task(name="plein.outbox.sweep")
def sweep_outbox() -> None:
    with context.session_scope() as session:
        outbox.requeue_stalled(session)


@app.task(name=attachments.SWEEP_TASK, autoretry_for=(Exception,), **RETRY)
def sweep_attachments(sha256s: list[str]) -> None:
    """Remove the stored files a committed deletion left that no attachment names any more."""
    with context.session_scope() as session:
        removed = attachments.sweep(session, sha256s)
    if removed:
        log.info("removed %d stored file(s) nothing names any more", len(removed))


@app.task(name=attachments.PHOTO_SIZES_TASK, soft_time_limit=60, time_limit=90, autoretry_for=(OSError,), **RETRY)
def make_photo_sizes(attachment_id: int) -> None:
    """A photo's thumbnail and large size; a photo that cannot be shown is recorded as such, not retried. The
    time limits end a decoding that runs away (the pixel limit should never let one)."""
    try:
        with context.session_scope() as session:
            photo = photo_sizes.make_sizes(session, attachment_id)
            failure = photo and photo.media_error
    except SoftTimeLimitExceeded:
        with context.session_scope() as session:
            failure = photo_sizes.record_failure(session, attachment_id, photo_sizes.TOO_SLOW)
    if failure:
        log.info("photo %s cannot be shown: %s", attachment_id, failure)


@app.task(name=attachments.VIDEO_POSTER_TASK, autoretry_for=(Exception,), **RETRY)
def video_poster(attachment_id: int) -> None:
    """A video's poster frame and duration; a video ffmpeg cannot read is recorded as such, not retried."""
    with context.session_scope() as session:
        videos.make_poster(session, attachment_id)


@app.task(name="plein.digests.send")
def send_digests(frequency: str) -> None:
    with context.session_scope() as session:
        digests.send_digests(session, frequency)


@app.task(name="plein.digests.send_due")
def send_due_digests() -> None:
    """Every person whose digest hour has come, in chunks of users, each chunk one transaction; then the daily
    mail of notifications, the same way."""
    now = utcnow()
    for queue_due in (digests.queue_due_digests, inbox.queue_daily_mails):
        after_user_id = 0
        while True:
            with context.session_scope() as session:
                run = queue_due(session, now, after_user_id=after_user_id)
            if run.last_user_id == after_user_id:
                break
            after_user_id = run.last_user_id


@app.task(name="plein.people.sync_ldap")
def sync_ldap() -> None:
    """Bring people in line with the directory server; a server that is down fails this run, and beat tries again."""
    records = read_people(context.settings)
    with context.session_scope() as session:
        report = apply_directory(session, records)
        counts = {outcome.value: report.count(outcome) for outcome in Outcome}
    for result in report.rejected:
        log.warning("directory entry %s rejected: %s", result.record.where, result.reason)
    log.info("directory synced: %s, %s deactivated", counts, len(report.deactivated), extra=counts)


@app.task(name=participation.ROLLUP_TASK, autoretry_for=(Exception,), **RETRY)
def roll_up_participation() -> None:
    """Fold the finished days, and today so far, into the statistics' rollups; a day rolled up twice is replaced."""
    with context.session_scope() as session:
        days = participation.roll_up_due(session, context.settings.stats_view_retention_days)
    log.info("statistics rolled up for %d day(s)", len(days))


@app.task(name=participation.CLEANUP_TASK, autoretry_for=(Exception,), **RETRY)
def remove_old_views() -> None:
    with context.session_scope() as session:
        removed = participation.remove_old_views(session, context.settings.stats_view_retention_days)
    log.info("removed %d page view(s) older than %d days", removed, context.settings.stats_view_retention_days)
