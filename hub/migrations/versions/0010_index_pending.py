"""index_pending: items the search index has yet to take in, written with the change itself

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_pending",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", name=op.f("pk_index_pending")),
    )
    op.create_index(op.f("ix_index_pending_queued_at"), "index_pending", ["queued_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_index_pending_queued_at"), table_name="index_pending")
    op.drop_table("index_pending")
