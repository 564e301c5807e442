"""People and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The directory reads people A to Z and offers their locations (hub.services.directory); the department
        # tree counts the people still with the company in each department (hub.services.departments).
        Index("ix_users_name_id", "name", "id"),
        Index("ix_users_location_deactivated_at", "location", "deactivated_at"),
        Index("ix_users_department_id_deactivated_at", "department_id", "deactivated_at"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How this person wants their mail (hub.services.preferences); new users get the hub's defaults
    # (hub.services.accounts.create_user).
    timezone: Mapped[str] = mapped_column(String(64))
    digest_hour: Mapped[int] = mapped_column(Integer)
    digest_weekday: Mapped[int] = mapped_column(Integer)
    """0 = Monday."""
    language: Mapped[str] = mapped_column(String(8))
    notify_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    """Mail each answer to this person's posts and to threads they commented in."""
    default_delivery: Mapped[str] = mapped_column(String(10), default="each", server_default="each")
    """How this person gets the mail of a group they join themselves (see `Delivery`)."""
    receipts: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Mail a receipt for each post and comment this person sends by mail (hub.services.receipts)."""
    # What colleagues find this person by (hub.services.profiles); all optional.
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    job_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    expertise: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Expertise tags, comma-separated, as the person typed them."""
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Sees the inbound quarantine on the web (/admin/inbound) and may retry its messages."""
    # Where this person stands in the organisation (hub.services.people); filled by an import or the
    # directory server, or by the person on their profile.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"), index=True)
    """Their place in the department tree; `department` keeps its path as text for search and display."""
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    languages: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The languages they speak, comma-separated, as they typed them."""
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When they left: they cannot sign in, get no mail and may not send any; what they wrote stays, under
    their name, as a former colleague's."""
    external: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Someone outside the company who wrote in an imported archive (`hub.services.archive_import`): a name and an
    address under what they wrote. They are deactivated from the start, so they never sign in and are never
    mailed; an administrator may merge them into a person later (`plein people merge-external`)."""
    photo_version: Mapped[str | None] = mapped_column(String(32))
    """A random name of their profile photo, new with each one (hub/services/photos.py); None for none."""

    memberships: Mapped[list["Membership"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
