"""group owners, and archived groups

Groups that exist already get no owner: hub admins act as their owners and may name one
(`PUT /api/groups/SLUG/members/EMAIL` with role owner, or the group's settings page).

Revision ID: 0027
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0027"
down_revision = "0024"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""SQLite rebuilds a table to add a column with a default: keep its AUTOINCREMENT (see IDS_NEVER_REUSED)."""


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("archived_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("memberships", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("is_owner", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("is_owner")
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("archived_at")
