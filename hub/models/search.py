"""What the search index still has to take in: one row per item changed since it was last indexed.

A service that changes content writes the item's row in its own transaction, so a change that
commits can never be missed by the index, even when the job that should index it is lost.
The flush (`plein.search.flush`) indexes the rows in batches, one Tantivy commit each, and
deletes a row only after that commit and only if no one marked the item again meanwhile:
each mark bumps `version`. `queued_at` is when the oldest change not yet indexed was marked,
so the oldest row tells how far search trails the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, UTCDateTime, utcnow


class IndexPending(Base):
    __tablename__ = "index_pending"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    """`post` (the whole thread: post, comments, documents, and its writers), `person` or `group`."""
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
