"""The organisation: departments as a tree, each named by its path from the top (`KPN/Consumer/Field Service`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, event, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from hub.models.accounts import User
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


class OrganisationVersion(Base):
    """One row: a number that changes in every transaction that changes the department tree or who is counted in it,
    so that a process may keep the tree it counted until then (`hub.services.departments.department_tree`)."""

    __tablename__ = "organisation_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)


_COUNTED = ("department_id", "deactivated_at")
"""What of a person the tree counts them by: where they work, and whether they still do."""


def _changes_the_tree(session: Session) -> bool:
    for item in (*session.new, *session.deleted):
        if isinstance(item, (User, Department)):
            return True
    for item in session.dirty:
        if isinstance(item, Department) and session.is_modified(item):
            return True
        if isinstance(item, User) and any(inspect(item).attrs[name].history.has_changes() for name in _COUNTED):
            return True
    return False


@event.listens_for(Session, "before_flush")
def _note_a_new_tree(session: Session, flush_context, instances) -> None:
    """Every writer goes through the ORM (an import, the directory sync, a sign-up, a deactivation), so every change
    to the tree passes here, in the transaction that makes it."""
    if _changes_the_tree(session):
        session.connection().execute(
            update(OrganisationVersion.__table__).values(version=OrganisationVersion.__table__.c.version + 1)
        )
