"""groups whose membership follows the directory: the all-company group and department groups

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""SQLite rebuilds the table to add a column with a default or a foreign key: keep its AUTOINCREMENT."""


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("follows_everyone", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("follows_department_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_groups_follows_department_id"), ["follows_department_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_groups_follows_department_id_departments"),
            "departments",
            ["follows_department_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_groups_follows_department_id_departments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_groups_follows_department_id"))
        batch_op.drop_column("follows_department_id")
        batch_op.drop_column("follows_everyone")
