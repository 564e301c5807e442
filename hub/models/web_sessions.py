"""Signing in on the web: sessions the server can end, links that work once, and requests counted.

A browser's cookie holds a random id and nothing else (hub.web.browser); `web_sessions` says
whose it is, so signing out, or out everywhere, ends a session even in a stolen cookie. Ids and
links are kept as SHA-256 digests: a copy of the database signs no one in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.accounts import User
from hub.models.base import Base, UTCDateTime, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The SHA-256, in hex, of the random id in the browser's cookie."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """Updated at most every few minutes; a session unseen for 30 days has ended."""
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class UsedSignInLink(Base):
    """A sign-in link that signed someone in; kept until it would have expired anyway."""

    __tablename__ = "used_sign_in_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignInRequest(Base):
    """One ask for a sign-in link, counted per address and per client over a quarter of an hour."""

    __tablename__ = "sign_in_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_digest: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
