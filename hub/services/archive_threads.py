"""Threads of an imported archive: which post or comment of the group an old message answers.

A message answers what its In-Reply-To and References name (nearest first), among the posts and
comments of the group it is imported into, never another group's. Without one found, a reply by
its subject alone (`Re:`, `AW:`, `Antw:`, `Fwd:` and list tags taken off, `mailgateway.replies.
thread_subject`) answers the group's post of that subject from the 30 days before it was written.

Archives are not always in order: a reply may come before the message it answers. It is posted
on its own at first and waits (`LateParents`); when the message it names arrives, the waiting
post becomes a comment under it, with its answers and files. What waits is kept in memory for the
run: the few messages out of order, not the archive.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.models import Attachment, Comment, Post, Tagging
from hub.services import indexing, tags
from mailgateway.message import ParsedMessage
from mailgateway.replies import thread_subject

SUBJECT_THREAD_DAYS = 30
SUBJECT_CANDIDATES = 500
"""Posts of the subject window compared by title, newest first."""


def answered(
    session: Session, group_id: int, message: ParsedMessage, written_at: datetime
) -> tuple[Post | None, Comment | None]:
    """The post (and comment) of the group that `message` answers, or (None, None): a new thread."""
    for message_id in message.thread_ids:
        comment = _comment_in_group(session, group_id, message_id)
        if comment is not None:
            return comment.post, comment
        post = session.scalar(select(Post).where(Post.group_id == group_id, Post.message_id == message_id))
        if post is not None:
            return post, None
    return _by_subject(session, group_id, message, written_at), None


def _by_subject(session: Session, group_id: int, message: ParsedMessage, written_at: datetime) -> Post | None:
    subject, prefixed = thread_subject(message.subject)
    if not subject or not (prefixed or message.thread_ids):
        return None
    recent = session.scalars(
        select(Post)
        .where(
            Post.group_id == group_id,
            Post.created_at >= written_at - timedelta(days=SUBJECT_THREAD_DAYS),
            Post.created_at <= written_at,
        )
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(SUBJECT_CANDIDATES)
    )
    return next((post for post in recent if thread_subject(post.title)[0] == subject), None)


MESSAGE_ID_COPIES = 20
"""Comments with one Message-ID looked at: the same mail in a few groups, never more in practice."""


def _comment_in_group(session: Session, group_id: int, message_id: str) -> Comment | None:
    """The group's comment made from the message `message_id`, found from the Message-ID's index.

    Not as a join: SQLite's planner would walk the group's posts first, a lookup that grows with the group."""
    found = session.execute(
        select(Comment.id, Comment.post_id).where(Comment.message_id == message_id).limit(MESSAGE_ID_COPIES)
    ).all()
    if not found:
        return None
    in_group = set(session.scalars(
        select(Post.id).where(Post.id.in_({post_id for _, post_id in found}), Post.group_id == group_id)
    ))
    comment_id = next((comment_id for comment_id, post_id in found if post_id in in_group), None)
    return session.get(Comment, comment_id) if comment_id is not None else None


def already_taken(session: Session, group_id: int, message_id: str) -> bool:
    """Whether the group has a post or comment made from the message `message_id` already."""
    if session.scalar(select(Post.id).where(Post.group_id == group_id, Post.message_id == message_id)):
        return True
    return _comment_in_group(session, group_id, message_id) is not None


class LateParents:
    """Posts made from replies whose parent the archive has not given yet, by the ids they name."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[tuple[int, str]]] = {}

    def wait(self, post: Post, message: ParsedMessage) -> None:
        """`post` was made from `message`, a reply to something not in the group yet."""
        for message_id in message.thread_ids:
            self._waiting.setdefault(message_id, []).append((post.id, message.reply_text))

    def arrived(self, session: Session, message_id: str | None, post: Post, comment: Comment | None) -> int:
        """Move the posts waiting for `message_id`, now `post` (or its `comment`), under it; how many moved."""
        moved = 0
        for orphan_id, reply_text in self._waiting.pop(message_id, []) if message_id else []:
            orphan = session.get(Post, orphan_id)
            if orphan is not None and orphan.id != post.id:
                adopt(session, orphan, reply_text, post, comment)
                moved += 1
        return moved


def adopt(session: Session, orphan: Post, reply_text: str, post: Post, parent: Comment | None) -> Comment:
    """Make the post `orphan` a comment on `post` (under `parent`), with its files and the answers under it."""
    comment = Comment(
        post=post, parent=parent, author_id=orphan.author_id, body_text=(reply_text or orphan.body_text).strip(),
        original_text=orphan.body_text, message_id=orphan.message_id, created_at=orphan.created_at,
        import_id=orphan.import_id,
    )
    session.add(comment)
    session.flush()
    session.execute(
        update(Attachment).where(Attachment.post_id == orphan.id, Attachment.comment_id.is_(None))
        .values(comment_id=comment.id)
    )
    session.execute(update(Attachment).where(Attachment.post_id == orphan.id).values(post_id=post.id))
    session.execute(
        update(Comment).where(Comment.post_id == orphan.id, Comment.parent_id.is_(None)).values(parent_id=comment.id)
    )
    session.execute(update(Comment).where(Comment.post_id == orphan.id).values(post_id=post.id))
    session.execute(
        update(Tagging).where(Tagging.post_id == orphan.id, Tagging.comment_id.is_not(None)).values(post_id=post.id)
    )
    session.execute(delete(Post).where(Post.id == orphan.id))
    session.expire_all()  # the rows moved under the ORM's feet: read them again
    session.expunge(orphan)
    tags.tag_comment(session, comment)
    indexing.mark(session, "post", orphan.id)
    indexing.mark(session, "post", post.id)
    return comment
