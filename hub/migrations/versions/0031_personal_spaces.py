"""personal spaces: a group row of kind "personal", owned by one person, for their statuses and blog

Revision ID: 0031
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0033"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""SQLite rebuilds the table to add a column with a default or a foreign key: keep its AUTOINCREMENT."""


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="group", nullable=False))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_groups_owner_id"), ["owner_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_groups_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    op.execute("DELETE FROM groups WHERE kind = 'personal'")
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_groups_owner_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_groups_owner_id"), type_="unique")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("kind")
