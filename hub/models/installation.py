"""This installation: one row of what was chosen once, when its database was made.

`mail_id_part` is a random word in the Message-ID of every mail Plein sends about a post,
a comment or a digest (`hub.services.message_ids`), so that two installations, or one
reinstalled, never send two different mails under one id. It lives in the database, not in
the data directory: every process of an installation shares the database, while web, SMTP
and worker processes may run on machines that each have a data directory of their own.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base


class Installation(Base):
    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mail_id_part: Mapped[str] = mapped_column(String(20))
    """Lower-case letters and digits, chosen by migration 0012 and never changed."""
