"""anonymous posting: groups.anonymous, posts and comments without an author, the sealed link and the audit log

Revision ID: 0035
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from hub.migrations.rebuilds import rebuilt

revision = "0035"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuilt("groups", lambda batch: batch.add_column(
        sa.Column("anonymous", sa.String(length=16), server_default="off", nullable=False)
    ))
    for table in ("posts", "comments"):
        rebuilt(table, _without_author)
    with op.batch_alter_table("revisions") as batch_op:
        batch_op.alter_column("editor_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
    rebuilt("held_messages", lambda batch: batch.add_column(
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False)
    ))
    op.create_table(
        "anonymous_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sealed_author", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_authors")),
        sa.UniqueConstraint("item_kind", "item_id", name=op.f("uq_anonymous_authors_item_kind_item_id")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_entries_created_at"), "audit_entries", ["created_at"], unique=False)


def _without_author(batch: BatchOperations) -> None:
    batch.alter_column("author_id", existing_type=sa.Integer(), nullable=True)
    batch.add_column(sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False))
    batch.add_column(sa.Column("author_mark", sa.String(length=64), nullable=True))


def _with_author(batch: BatchOperations) -> None:
    batch.drop_column("author_mark")
    batch.drop_column("anonymous")
    batch.alter_column("author_id", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    """Anonymous items cannot go back to a column that needs an author: they are deleted with the sealed links."""
    op.drop_index(op.f("ix_audit_entries_created_at"), table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("anonymous_authors")
    rebuilt("held_messages", lambda batch: batch.drop_column("anonymous"))
    op.execute("DELETE FROM notifications WHERE actor_id IS NULL")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM revisions WHERE editor_id IS NULL")
    with op.batch_alter_table("revisions") as batch_op:
        batch_op.alter_column("editor_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM comments WHERE author_id IS NULL")
    op.execute("DELETE FROM posts WHERE author_id IS NULL")
    for table in ("comments", "posts"):
        rebuilt(table, _with_author)
    rebuilt("groups", lambda batch: batch.drop_column("anonymous"))


