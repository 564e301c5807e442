"""A group's library: each file shared in a group is a version of a document, and a file with the name of one
already there is its newest version."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import IDS_NEVER_REUSED, Base


class Document(Base):
    """The files of one name in one group; its current version is its newest attachment still there.

    Its id is in links written into posts, so it is never reused (a link must not come to show another file).
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("group_id", "name_key"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    name_key: Mapped[str | None] = mapped_column(String(255))
    """The file name folded for comparison (`hub.services.documents.name_key`); None for a photo or video,
    which stands alone: cameras and phones give every picture a name like every other."""


class DocumentVersion(Base):
    """One attachment as a version of a document; it goes when its attachment goes (a post or comment deleted)."""

    __tablename__ = "document_versions"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
