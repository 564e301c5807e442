"""revisions, and comments.removed_at: the edit history of posts and comments, and comments their author deleted

A revision keeps what an edit replaced. A comment its author deletes stays in its thread, without
its words, as "removed by its author", so the answers under it keep their place.

Both are additions: no table is rebuilt, and ids go on as they were (migration 0013).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(post_id IS NULL) <> (comment_id IS NULL)", name=op.f("ck_revisions_post_or_comment")),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_revisions_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"], name=op.f("fk_revisions_editor_id_users")),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_revisions_post_id_posts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
    )
    op.create_index(op.f("ix_revisions_comment_id"), "revisions", ["comment_id"], unique=False)
    op.create_index(op.f("ix_revisions_post_id"), "revisions", ["post_id"], unique=False)
    op.add_column("comments", sa.Column("removed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Comments removed by their author go with their answers, as deleting did before; the history goes."""
    op.execute("DELETE FROM comments WHERE removed_at IS NOT NULL")
    op.drop_column("comments", "removed_at")
    op.drop_index(op.f("ix_revisions_post_id"), table_name="revisions")
    op.drop_index(op.f("ix_revisions_comment_id"), table_name="revisions")
    op.drop_table("revisions")
