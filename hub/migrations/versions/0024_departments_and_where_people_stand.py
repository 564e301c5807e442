"""departments as a tree, and where each person stands: department, manager, phone, location, languages,
and when they left

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("departments",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("path", sa.String(length=1000), nullable=False),
    sa.Column("parent_id", sa.Integer(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
    sa.UniqueConstraint("path", name=op.f("uq_departments_path")),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departments_parent_id"), ["parent_id"], unique=False)

    # The foreign keys make SQLite rebuild the table: keep its AUTOINCREMENT (see IDS_NEVER_REUSED).
    with op.batch_alter_table("users", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("location", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("languages", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("deactivated_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_manager_id"), ["manager_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_department_id_departments"), "departments", ["department_id"], ["id"], ondelete="SET NULL")
        batch_op.create_foreign_key(batch_op.f("fk_users_manager_id_users"), "users", ["manager_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_manager_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_users_department_id_departments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_manager_id"))
        batch_op.drop_index(batch_op.f("ix_users_department_id"))
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("languages")
        batch_op.drop_column("location")
        batch_op.drop_column("phone")
        batch_op.drop_column("manager_id")
        batch_op.drop_column("department_id")

    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departments_parent_id"))

    op.drop_table("departments")
