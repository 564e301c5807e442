"""Imports of old group mail (`plein import`): one row per run, so it can be listed and undone as a whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow
from hub.models.groups import Group


class ArchiveImport(Base):
    """One run of `plein import` into one group; the posts and comments it made carry its id."""

    __tablename__ = "archive_imports"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """`mbox`, `maildir` or `imap`."""
    source: Mapped[str] = mapped_column(String(1000))
    """The path or URL it read, an IMAP URL without its password."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    threaded: Mapped[int] = mapped_column(Integer, default=0)
    """Of `imported`, those that became a comment in a thread rather than a post of their own."""
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[str] = mapped_column(Text, default="")
    """One line per refused message: where it is in the archive, and why (the first `REFUSALS_KEPT`)."""

    group: Mapped[Group] = relationship()
