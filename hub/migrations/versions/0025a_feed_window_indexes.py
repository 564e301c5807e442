"""covering indexes for the home feed's windows of the newest posts and comments

Revision ID: 0025a
Revises: 0027
"""

from alembic import op

revision = "0025a"
down_revision = "0027"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_posts_created_at_id_covering", "posts", ["created_at", "id", "author_id", "group_id"]),
    ("ix_comments_created_at_id_covering", "comments", ["created_at", "id", "post_id", "author_id", "removed_at"]),
    ("ix_taggings_post_id_comment_id_tag", "taggings", ["post_id", "comment_id", "tag"]),
    ("ix_taggings_comment_id_tag", "taggings", ["comment_id", "tag"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
