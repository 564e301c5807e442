"""Who came and took part: raw page views, and the daily rollups the statistics read (hub.services.participation).

A signed-in person's page request is one `ViewEvent` row (one insert, nothing read); a worker folds each day's
events, posts, comments and reactions into the three rollups, and removes raw events after
`PLEIN_STATS_VIEW_RETENTION_DAYS`. The rollups are kept: they are what the statistics of past years read.
The raw table has no foreign keys, so that recording a view checks nothing and deleting a post or person
never scans it; the rollup drops what is gone.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class ViewEvent(Base):
    __tablename__ = "view_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    """The thread the page showed; None for any other page."""
    from_mail: Mapped[bool] = mapped_column(Boolean, default=False)
    """The page was opened from a link in a mail Plein sent (`?via=mail`)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ActivityChannel(enum.StrEnum):
    WEB = "web"
    MAIL = "mail"


class HubDay(Base):
    """The whole hub on one day (UTC): what the rollup of that day found."""

    __tablename__ = "stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitors: Mapped[int] = mapped_column(Integer)
    views: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    """Posts and comments and reactions of that day, anonymous ones too."""
    comments: Mapped[int] = mapped_column(Integer)
    reactions: Mapped[int] = mapped_column(Integer)
    rolled_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonDay(Base):
    """What one person did on one day, by channel: on the web (pages, clicks from mail, what they wrote or reacted
    there) or by mail (posts and comments sent to Plein). Anonymous items are in no person's row."""

    __tablename__ = "stats_person_days"
    __table_args__ = (Index("ix_stats_person_days_user_id_day", "user_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    """`ActivityChannel`."""
    visits: Mapped[int] = mapped_column(Integer, default=0)
    mail_clicks: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)


class PostViewDay(Base):
    """One person opened one thread on one day (however often)."""

    __tablename__ = "stats_post_views"
    __table_args__ = (Index("ix_stats_post_views_post_id_day", "post_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
