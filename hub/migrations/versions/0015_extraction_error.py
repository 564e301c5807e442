"""attachments.extraction_error: why an attachment's text could not be read, so it is found by name and counted

A branch of its own from 0012, as migrations written side by side are: `upgrade_database` applies every head.

Revision ID: 0015
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as table:
        table.add_column(sa.Column("extraction_error", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as table:
        table.drop_column("extraction_error")
