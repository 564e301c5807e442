"""A person's notifications (what the bell in the header counts) and how they want each kind delivered.

A notification names its event once (`key`, unique per person): `mention:comment:7`,
`reaction:post:3:like:5`. Making one twice, say when a job runs again or a mention is edited
back in, finds the key taken and makes nothing. `group_id` is the group the item is in, kept on
the row so that the unread count, which filters on what the reader may still see, is one query.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class NotificationKind(enum.StrEnum):
    REPLY = "reply"
    MENTION = "mention"
    REACTION = "reaction"
    POST = "post"
    """A new post in a group, by a person or with a tag the reader follows."""
    STATUS = "status"
    """A new status (a post without a title) by a person, in a group or a tag the reader follows."""


class Channel(enum.StrEnum):
    MAIL = "mail"
    """By mail at once."""
    DAILY = "daily"
    WEB = "web"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    """Who did it; None for an anonymous post or comment (`hub.services.anonymity`)."""
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reaction: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    """The channel the person had chosen for its kind when it was made."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When it went out by mail, at once or in the daily mail; None while a daily one waits."""


class NotificationChannel(Base):
    """A person's choice of channel for one kind; without a row the kind's default holds."""

    __tablename__ = "notification_channels"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
