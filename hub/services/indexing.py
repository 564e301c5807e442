"""Marking what the search index must take in, in the transaction that changes it.

A service that changes something searchable marks it with `mark` in its own transaction: a
row in `index_pending`, and one `plein.search.flush` job after commit. The indexer
(`hub.services.index_writer`) takes the rows in batches and writes them to the index; a row is
deleted only after its commit, so a crash or a lost job never loses a change: the sweep
queues a flush for rows that wait too long (`requeue_stalled`).

Every writer imports this module, the SMTP side among them, so it stays light: it knows the
`index_pending` table and the job queue, and nothing of Tantivy, the index's documents or
the reading of attachments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub import jobs
from hub.models import Comment, IndexPending, Post, utcnow

FLUSH_TASK = "plein.search.flush"
PENDING_KINDS = ("post", "person", "group")
"""What may be marked: a `post` stands for its whole thread, with its comments and attachments."""
STALLED_AFTER = timedelta(seconds=5)
"""A pending row this old had its flush lost (or the indexer is behind): the sweep queues one."""


def mark(session: Session, kind: str, item_id: int) -> None:
    """Record, in the caller's transaction, that item `kind`/`item_id` must be indexed again."""
    if kind not in PENDING_KINDS:
        raise ValueError(f"unknown pending kind {kind!r}, expected one of {PENDING_KINDS}")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(IndexPending)
        .values(kind=kind, item_id=item_id, version=1, queued_at=utcnow())
        .on_conflict_do_update(index_elements=["kind", "item_id"], set_={"version": IndexPending.version + 1})
    )
    jobs.after_commit_coalesced(session, FLUSH_TASK)


def mark_many(session: Session, kind: str, item_ids: Iterable[int]) -> None:
    """`mark` for many items of one kind at once (an import of thousands of people), as one executemany."""
    if kind not in PENDING_KINDS:
        raise ValueError(f"unknown pending kind {kind!r}, expected one of {PENDING_KINDS}")
    ids = sorted(set(item_ids))
    if not ids:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = insert(IndexPending).on_conflict_do_update(
        index_elements=["kind", "item_id"], set_={"version": IndexPending.version + 1}
    )
    now = utcnow()
    session.connection().execute(upsert, [{"kind": kind, "item_id": i, "version": 1, "queued_at": now} for i in ids])
    jobs.after_commit_coalesced(session, FLUSH_TASK)


def mark_writers(session: Session, post: Post) -> None:
    """Mark everyone who wrote in `post`'s thread, before it or a comment in it is deleted.

    A person's item carries what they are learned to know about from the threads they wrote
    in; once a post or comment is deleted nothing names who wrote it, so they are marked first.
    """
    writers = {post.author_id, *session.scalars(select(Comment.author_id).where(Comment.post_id == post.id))}
    writers.discard(None)  # anonymous items: their authors learned nothing from them
    for user_id in sorted(writers):
        mark(session, "person", user_id)


def pending(session: Session) -> tuple[int, datetime | None]:
    """How many items wait for the index, and since when the oldest waits."""
    count, oldest = session.execute(select(func.count(), func.min(IndexPending.queued_at))).one()
    return count, oldest


def requeue_stalled(session: Session, older_than: timedelta = STALLED_AFTER) -> bool:
    """Queue a flush when an item waits longer than a flush takes (a lost job, a broker that was down)."""
    _, oldest = pending(session)
    stalled = oldest is not None and oldest < utcnow() - older_than
    if stalled:
        jobs.after_commit_coalesced(session, FLUSH_TASK)
    return stalled
