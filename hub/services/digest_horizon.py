"""How far a digest may read: the newest post or comment id below which no other can still appear.

A digest's watermark is the newest id it covered, so it must never move past an id that has
been handed out but not yet committed. On PostgreSQL ids come from a sequence at INSERT and
transactions commit in any order: post 41 may still be open while post 42 is committed and
read, and a watermark at 42 would skip 41 for good. So every transaction that adds a post or a
comment holds a shared advisory lock from before its INSERT until it ends (`announce_new_item`),
and a digest takes the lock exclusively for the moment it reads the newest ids
(`settled_newest`): by then every id handed out is committed or rolled back, and ids handed
out after it are higher. On SQLite one writer at a time commits in id order, and no lock is
needed.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.models import Comment, Post

NEW_ITEMS_LOCK_ID = 7_346_202
"""PostgreSQL advisory lock: shared by writers of posts and comments, exclusive while a digest reads."""


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def announce_new_item(session: Session) -> None:
    """Call before adding a post or comment: a digest reading now waits for this transaction."""
    if _postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:id)"), {"id": NEW_ITEMS_LOCK_ID})


def settled_newest(session: Session) -> tuple[int, int]:
    """The newest post and comment ids, read once no transaction that adds one is still open."""
    newest = select(func.max(Post.id)).scalar_subquery(), select(func.max(Comment.id)).scalar_subquery()
    if not _postgresql(session):
        post_id, comment_id = session.execute(select(*newest)).one()
        return post_id or 0, comment_id or 0
    # A session-level lock, released at once: a digest run is long, and posting must not wait for it.
    session.execute(text("SELECT pg_advisory_lock(:id)"), {"id": NEW_ITEMS_LOCK_ID})
    try:
        post_id, comment_id = session.execute(select(*newest)).one()
    finally:
        session.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": NEW_ITEMS_LOCK_ID})
    return post_id or 0, comment_id or 0
