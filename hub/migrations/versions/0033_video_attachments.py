"""videos: the duration, frame size, poster frame and reading error of a video attachment

Revision ID: 0033
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""Attachment ids are never reused: should SQLite rebuild the table, it keeps its AUTOINCREMENT."""


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("video_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("video_height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("poster_made_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("video_error", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("video_error")
        batch_op.drop_column("poster_made_at")
        batch_op.drop_column("video_height")
        batch_op.drop_column("video_width")
        batch_op.drop_column("duration_ms")
