"""Who wrote an anonymous item, sealed, and the audit log of what administrators did with it.

`AnonymousAuthor` holds the only link from an anonymous post or comment to its author, sealed with
the public key `PLEIN_ANONYMOUS_KEY`: the web and the workers can write it but not read it; only the
private key, kept by an administrator, opens it (`plein anonymous reveal`, `hub.services.anonymity`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow


class AnonymousAuthor(Base):
    __tablename__ = "anonymous_authors"
    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    """"post" or "comment"."""
    item_id: Mapped[int]
    sealed_author: Mapped[bytes] = mapped_column(LargeBinary)
    """The author's user id, sealed to `PLEIN_ANONYMOUS_KEY` (X25519, HKDF-SHA256, ChaCha20-Poly1305)."""


class AuditEntry(Base):
    """One administrator's action that the hub keeps a record of, such as revealing an anonymous author."""

    __tablename__ = "audit_entries"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    """Who did it, as they were named then (an address, or "command line")."""
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
