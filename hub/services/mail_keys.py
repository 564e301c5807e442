"""The outbox keys of mail about one post or comment, made in this one place.

A key makes queuing the same mail twice impossible (`hub.services.outbox.queue_mail`), so it
must name its item for good. An id alone does not wherever a database may hand one out again
(SQLite did, for a deleted last row, until migration 0013; so may a database restored from a
backup): a post undone and sent again found the keys of the undone one taken, and its mail was
never sent. Each key also names the moment its item was made: `post:12:to:5:20260101T093000123456Z`.
"""

from __future__ import annotations

from hub.models import Comment, Post, User


def post_mail(post: Post, recipient: User) -> str:
    return f"post:{post.id}:to:{recipient.id}:{_made(post)}"


def comment_mail(comment: Comment, recipient: User) -> str:
    return f"comment:{comment.id}:to:{recipient.id}:{_made(comment)}"


def reaction_mail(item: Post | Comment, recipient: User, reactor_id: int, reaction: str) -> str:
    kind = "comment" if isinstance(item, Comment) else "post"
    return f"{kind}:{item.id}:to:{recipient.id}:reaction:{reaction}:{reactor_id}:{_made(item)}"


def daily_notifications(recipient: User, period: str) -> str:
    return f"notifications:daily:{recipient.id}:{period}"


def receipt(kind: str, item: Post | Comment) -> str:
    return f"receipt:{kind}:{item.id}:{_made(item)}"


def about(kind: str, item: Post | Comment) -> list[str]:
    """SQL LIKE patterns matching the key of every mail about `item` (`kind` is post or comment): to anyone, and its receipt."""
    return [f"{kind}:{item.id}:to:%:{_made(item)}", receipt(kind, item)]


def _made(item: Post | Comment) -> str:
    """When `item` was made, to the microsecond that SQLite and PostgreSQL both keep."""
    return item.created_at.strftime("%Y%m%dT%H%M%S%fZ")
