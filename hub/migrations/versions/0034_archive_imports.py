"""archive imports: a row per `plein import` run, the posts and comments it made, and external authors

Revision ID: 0034
Revises: 0035
"""

import functools

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from hub.migrations.rebuilds import rebuilt
from hub.models.base import UTCDateTime

revision = "0034"
down_revision = "0035"
branch_labels = None
depends_on = None

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
        rebuilt(table, functools.partial(_with_import, table))
    op.create_index("ix_comments_message_id", "comments", ["message_id"], unique=False)
    rebuilt("users", lambda batch: batch.add_column(
        sa.Column("external", sa.Boolean(), server_default=sa.false(), nullable=False)
    ))


def _with_import(table: str, batch: BatchOperations) -> None:
    batch.add_column(sa.Column("import_id", sa.Integer(), nullable=True))
    batch.create_index(batch.f(f"ix_{table}_import_id"), ["import_id"], unique=False)
    batch.create_foreign_key(
        batch.f(f"fk_{table}_import_id_archive_imports"), "archive_imports", ["import_id"], ["id"],
        ondelete="SET NULL",
    )


def _without_import(table: str, batch: BatchOperations) -> None:
    batch.drop_constraint(batch.f(f"fk_{table}_import_id_archive_imports"), type_="foreignkey")
    batch.drop_index(batch.f(f"ix_{table}_import_id"))
    batch.drop_column("import_id")


def downgrade() -> None:
    rebuilt("users", lambda batch: batch.drop_column("external"))
    op.drop_index("ix_comments_message_id", table_name="comments")
    for table in ("comments", "posts"):
        rebuilt(table, functools.partial(_without_import, table))
    op.drop_index(op.f("ix_archive_imports_group_id"), table_name="archive_imports")
    op.drop_table("archive_imports")
