"""Reactions: one row per person, item (a post, or a comment on it) and reaction.

Every row names its post, also when it reacts to a comment, so that a whole thread's reactions
are one query on `post_id`. A post's own reactions have no `comment_id`; since SQL counts two
NULLs as different, uniqueness is two partial indexes, one for each kind of item.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (
        Index(
            "uq_reactions_post_reaction",
            "post_id",
            "user_id",
            "reaction",
            unique=True,
            sqlite_where=text("comment_id IS NULL"),
            postgresql_where=text("comment_id IS NULL"),
        ),
        Index(
            "uq_reactions_comment_reaction",
            "comment_id",
            "user_id",
            "reaction",
            unique=True,
            sqlite_where=text("comment_id IS NOT NULL"),
            postgresql_where=text("comment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reaction: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
