"""photos: their size, caption, and whether a worker made their thumbnail and large size

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""Attachment ids are never reused: keep the AUTOINCREMENT should SQLite rebuild the table."""


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("caption", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("media_ready_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("media_error", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("media_error")
        batch_op.drop_column("media_ready_at")
        batch_op.drop_column("caption")
        batch_op.drop_column("height")
        batch_op.drop_column("width")
