"""What waits for a group's moderators: who wrote it where, why it was held, and what they decided.

Held mail keeps its inbound record (the raw mail is published on approval, as mail in would be).
A post or comment written on the web is kept as written: its title, its text and its files.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.accounts import User
from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow
from hub.models.content import Comment, Post
from hub.models.groups import Group
from hub.models.mail import InboundMessage


class HeldStatus(enum.StrEnum):
    HELD = "held"
    APPROVED = "approved"
    REJECTED = "rejected"


class HeldMessage(Base):
    """One post or comment held for one group: an inbound mail, or (without one) written on the web.

    Approving posts it as its sender: mail as mail in would have been, a web item as it was written.
    """

    __tablename__ = "held_messages"
    __table_args__ = (UniqueConstraint("inbound_id", "group_id"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True)
    """The mail held; None for a post or comment written on the web."""
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    """The thread a held comment answers; None for a new post."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(Text, default="")
    """The title a new post gets (a held comment that becomes a post: its thread is gone or hidden)."""
    text: Mapped[str] = mapped_column(Text, default="")
    """The text as it would be posted, for the moderator to read; for a web item, what it posts."""
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """To be posted without its author's name: moderators see it without its sender (`hub.services.anonymity`)."""
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was held: a moderated group, or a From that could not be verified."""
    status: Mapped[str] = mapped_column(String(16), default=HeldStatus.HELD.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")
    """What the decision did: the post or comment made, or who rejected it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inbound: Mapped[InboundMessage | None] = relationship()
    group: Mapped[Group] = relationship()
    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    post: Mapped[Post | None] = relationship()
    parent: Mapped[Comment | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    files: Mapped[list["HeldFile"]] = relationship(
        back_populates="held", order_by="HeldFile.id", cascade="all, delete-orphan"
    )

    @property
    def written_on_web(self) -> bool:
        return self.inbound_id is None


class HeldFile(Base):
    """A file sent with a web post that waits for a moderator. Its bytes are in the attachment store
    already (`hub.services.attachments`); approving makes it the post's attachment, and any
    decision removes this row."""

    __tablename__ = "held_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_id: Mapped[int] = mapped_column(ForeignKey("held_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    held: Mapped[HeldMessage] = relationship(back_populates="files")
