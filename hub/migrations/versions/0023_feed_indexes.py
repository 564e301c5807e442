"""indexes for the home feed: posts and comments newest first per author, group and thread

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_posts_author_id_created_at", "posts", ["author_id", "created_at", "id"]),
    ("ix_posts_group_id_created_at", "posts", ["group_id", "created_at", "id"]),
    ("ix_comments_author_id_created_at", "comments", ["author_id", "created_at", "id"]),
    ("ix_comments_post_id_created_at", "comments", ["post_id", "created_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
