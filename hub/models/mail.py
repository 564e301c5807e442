"""Mail as records: every message received, every message to send, and digest watermarks.

The database is the source of truth for mail too: an inbound message is recorded before
SMTP answers 250, and an outgoing one before it is handed to the transport.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e])


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"
    POSTED = "posted"
    DUPLICATE = "duplicate"
    COMMAND = "command"
    REFUSED = "refused"
    FAILED = "failed"
    HELD = "held"
    """Waiting for a moderator (`HeldMessage`); approving posts it, rejecting refuses it."""


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    envelope_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text)
    """Envelope recipients, one per line."""
    path: Mapped[str] = mapped_column(String(500))
    """Where the raw message is kept, relative to the data directory."""
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[InboundStatus] = mapped_column(_enum(InboundStatus), default=InboundStatus.RECEIVED, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutgoingStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(Base):
    """One message to one recipient. `key` makes sending the same notice twice impossible."""

    __tablename__ = "outgoing_mail"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    envelope_from: Mapped[str] = mapped_column(String(320))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[OutgoingStatus] = mapped_column(_enum(OutgoingStatus), default=OutgoingStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """After a temporary failure: not before this time (exponential backoff)."""


class DigestWatermark(Base):
    """The newest post and comment a user's digest of one frequency has covered."""

    __tablename__ = "digest_watermarks"
    __table_args__ = (UniqueConstraint("user_id", "frequency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(10))
    last_post_id: Mapped[int] = mapped_column(Integer, default=0)
    last_comment_id: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period: Mapped[str | None] = mapped_column(String(16))
    """The last scheduled period (`2026-11-25`, `2026-W48`) this watermark was moved for."""
