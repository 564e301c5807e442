"""The organisation: departments as a tree, each named by its path from the top (`KPN/Consumer/Field Service`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    """Every name from the top down to this one, joined by `/`: what an import or a directory server names it by."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped["Department | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Department"]] = relationship(back_populates="parent", order_by="Department.name")
