"""archive imports: a row per `plein import` run, the posts and comments it made, and external authors

Revision ID: 0034
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0034"
down_revision = "0035"
branch_labels = None
depends_on = None

KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}
"""SQLite rebuilds the table to add a column with a default or a foreign key: keep its AUTOINCREMENT."""


def upgrade() -> None:
    op.create_table(
        "archive_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("threaded", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_archive_imports_group_id_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_imports")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_archive_imports_group_id"), "archive_imports", ["group_id"], unique=False)
    for table in ("posts", "comments"):
        with op.batch_alter_table(table, schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
            batch_op.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_import_id"), ["import_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_import_id_archive_imports"), "archive_imports", ["import_id"], ["id"],
                ondelete="SET NULL",
            )
    op.create_index("ix_comments_message_id", "comments", ["message_id"], unique=False)
    with op.batch_alter_table("users", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("external", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("external")
    op.drop_index("ix_comments_message_id", table_name="comments")
    for table in ("comments", "posts"):
        with op.batch_alter_table(table, schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_import_id_archive_imports"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_import_id"))
            batch_op.drop_column("import_id")
    op.drop_index(op.f("ix_archive_imports_group_id"), table_name="archive_imports")
    op.drop_table("archive_imports")
