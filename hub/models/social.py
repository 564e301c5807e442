"""The social graph: who follows or mutes whom and what, the tags on what people write, and
how far each reader has read each thread.

A follow names exactly one target: a person, a group, a thread (its post) or a tag. One row
holds a reader's whole standing towards that target, following and muting side by side, so
that muting and unmuting a thread one follows leaves the follow as it was.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class FollowKind(enum.StrEnum):
    PERSON = "person"
    GROUP = "group"
    POST = "post"
    TAG = "tag"


def _one_per_target(column: str) -> Index:
    return Index(
        f"uq_follows_user_{column}",
        "user_id",
        column,
        unique=True,
        sqlite_where=text(f"{column} IS NOT NULL"),
        postgresql_where=text(f"{column} IS NOT NULL"),
    )


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = tuple(_one_per_target(column) for column in ("person_id", "group_id", "post_id", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """Which of the four targets below is set (`FollowKind`)."""
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str | None] = mapped_column(String(64), index=True)
    following: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tagging(Base):
    """A `#tag` written in a post (its title or body) or in a comment; `comment_id` is None for the post's own."""

    __tablename__ = "taggings"
    __table_args__ = (
        Index("ix_taggings_tag_created_at", "tag", "created_at"),
        # Whether a post or a comment has a followed or muted tag, from the index alone (hub.services.feed).
        Index("ix_taggings_post_id_comment_id_tag", "post_id", "comment_id", "tag"),
        Index("ix_taggings_comment_id_tag", "comment_id", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the tagged item was written: tag pages list newest first without a join."""


class ThreadRead(Base):
    """How far one reader has read one thread: everything written after `read_at` is unread to them."""

    __tablename__ = "thread_reads"
    __table_args__ = (UniqueConstraint("user_id", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
