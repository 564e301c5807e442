"""Where the IMAP watcher stands in each mailbox, and which messages it has already taken.

An IMAP UID means something only together with the folder's UIDVALIDITY (RFC 3501 section
2.3.1.1). `ImapMailbox` keeps both, advanced in the same transaction that stores a message,
so a restart resumes exactly after the last stored message. `ImapMessage` remembers each
message by a key (its Message-ID, or a hash of its bytes), so a folder whose UIDVALIDITY
changed can be read again from the start without taking anything twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class ImapMailbox(Base):
    __tablename__ = "imap_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    """`user@host:port/FOLDER`: the mailbox, without its password."""
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    """The highest UID under `uidvalidity` whose message is stored (or known to be stored already)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImapMessage(Base):
    __tablename__ = "imap_messages"
    __table_args__ = (UniqueConstraint("mailbox_id", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("imap_mailboxes.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(64))
    """sha256 of the Message-ID, or of the raw bytes when the message has none."""
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
