"""Mail held for a group's moderators: who sent it where, why it was held, and what they decided."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
    """One inbound message held for one group; approving posts it as its sender, as mail in would have."""

    __tablename__ = "held_messages"
    __table_args__ = (UniqueConstraint("inbound_id", "group_id"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    """The thread a held comment answers; None for a new post."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    """The text as it would be posted, for the moderator to read."""
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was held: a moderated group, or a From that could not be verified."""
    status: Mapped[str] = mapped_column(String(16), default=HeldStatus.HELD.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")
    """What the decision did: the post or comment made, or who rejected it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inbound: Mapped[InboundMessage] = relationship()
    group: Mapped[Group] = relationship()
    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    post: Mapped[Post | None] = relationship()
    parent: Mapped[Comment | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
