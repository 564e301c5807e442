"""Whether mail reaches an address: the bounce score kept per address from delivery reports.

A report (RFC 3464) that arrives at a VERP bounce address (`bounces+TOKEN@domain`) names the
message it is about, so it is tied to one recipient without trusting what the report says.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class AddressHealth(Base):
    __tablename__ = "address_health"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reason: Mapped[str] = mapped_column(Text, default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when the score reached the threshold: no more list mail until the owner confirms."""


class BounceReport(Base):
    """One delivery report, at most one per outgoing message, so a resent report counts once."""

    __tablename__ = "bounce_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    outgoing_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_mail.id", ondelete="CASCADE"), unique=True
    )
    address: Mapped[str] = mapped_column(String(320), index=True)
    status: Mapped[str] = mapped_column(String(16))
    """The RFC 3463 status code, such as 5.1.1."""
    hard: Mapped[bool] = mapped_column(Boolean)
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
