"""profile photos: the version of each person's photo, so its URL changes with it

Revision ID: 0028
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("photo_version", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("photo_version")
