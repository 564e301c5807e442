"""Groups and who is in them, with how each member wants to get the group's mail, and who may post."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.accounts import User
from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow


class Delivery(enum.StrEnum):
    EACH = "each"
    DAILY = "daily"
    WEEKLY = "weekly"
    NONE = "none"


class PostingPolicy(enum.StrEnum):
    MEMBERS = "members"
    """Only the group's members post (and hub admins); others may read a public group and join it."""
    ANYONE = "anyone"
    """Any user of the hub posts, also to a private group they cannot read (a helpdesk address)."""
    MODERATED = "moderated"
    """Every post and comment waits for a moderator, except the moderators' own."""


class UntrustedMail(enum.StrEnum):
    """What happens to mail whose From could not be verified (`PLEIN_INBOUND_AUTH`)."""

    HOLD = "hold"
    REFUSE = "refuse"


class AnonymousPosting(enum.StrEnum):
    """Whether a group takes posts and comments without their author's name (`hub.services.anonymity`)."""

    OFF = "off"
    MODERATED = "moderated"
    """Anonymous items wait for a moderator, who sees them without their author."""
    ON = "on"


class GroupKind(enum.StrEnum):
    GROUP = "group"
    PERSONAL = "personal"
    """A person's own space: their statuses to their followers and their blog. Everyone signed in reads it,
    only its owner posts in it, and it is never listed, joined or mailed as a group (`hub.services.personal`)."""


PERSONAL_SLUG_PREFIX = "personal."
"""A personal space's slug is this and its owner's id; no group's slug starts with it."""


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    posting_policy: Mapped[str] = mapped_column(String(16), default="members", server_default="members")
    """Who may post (see `PostingPolicy`)."""
    untrusted_mail: Mapped[str] = mapped_column(String(16), default="hold", server_default="hold")
    """Mail with a From that could not be verified is held for a moderator or refused (`UntrustedMail`)."""
    anonymous: Mapped[str] = mapped_column(String(16), default="off", server_default="off")
    """Whether members may post and comment anonymously (`AnonymousPosting`)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set by an admin: the group stays readable and searchable, and takes no posts, comments, reactions or members."""
    follows_everyone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The all-company group: every active person is a member (`hub.services.directory_members`)."""
    follows_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    """A department group: the active people of this department and of every department below it are its members."""
    kind: Mapped[str] = mapped_column(String(16), default="group", server_default="group")
    """A group, or a person's personal space (`GroupKind`)."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    """Whose personal space this is; None for a group."""

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "group_id"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    delivery: Mapped[Delivery] = mapped_column(
        Enum(Delivery, native_enum=False, values_callable=lambda e: [m.value for m in e]),
        default=Delivery.EACH,
    )
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Approves or rejects the group's held mail (hub admins may too)."""
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Edits the group and its members on `/g/SLUG/settings` (hub admins may too). Whoever creates a
    group on the web or the API owns it; groups made before owners existed have none until an admin names one."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")
