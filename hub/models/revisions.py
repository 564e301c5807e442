"""What a post or comment said before each edit, so readers can see how it changed.

A revision keeps the words an edit replaced: `Post.revisions` and `Comment.revisions`, oldest
first, are the item's history, and the newest one's time is when it was last edited. A row
names either a post or a comment, and goes with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from hub.models.accounts import User
from hub.models.base import Base, UTCDateTime, utcnow
from hub.models.content import Comment, Post


class Revision(Base):
    __tablename__ = "revisions"
    __table_args__ = (CheckConstraint("(post_id IS NULL) <> (comment_id IS NULL)", name="post_or_comment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """None for an edit of an anonymous item: it names no one (`hub.services.anonymity`)."""
    title: Mapped[str | None] = mapped_column(String(300))
    """The post's title before the edit; None for a comment."""
    body_text: Mapped[str] = mapped_column(Text)
    """The text before the edit."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """When the edit was made."""

    editor: Mapped[User | None] = relationship()
    post: Mapped[Post | None] = relationship(
        backref=backref("revisions", order_by="Revision.id", cascade="all, delete-orphan", passive_deletes=True)
    )
    comment: Mapped[Comment | None] = relationship(
        backref=backref("revisions", order_by="Revision.id", cascade="all, delete-orphan", passive_deletes=True)
    )
