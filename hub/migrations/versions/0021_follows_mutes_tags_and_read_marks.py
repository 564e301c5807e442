"""follows and mutes, tags, and how far each reader has read each thread

Existing members follow their groups and existing writers their threads, as joining and
writing do from now on; the tags already written are recorded.

Revision ID: 0021
Revises: 0020
"""

import re

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The tag syntax of hub.services.tags as it was when this migration was written.
TAG = re.compile(r"(?<![\w&/#])#(\w[\w-]*)")


def _tags(text):
    found = []
    for match in TAG.finditer(text or ""):
        tag = match.group(1).rstrip("-_").casefold()
        if tag and len(tag) <= 64 and any(c.isalpha() for c in tag) and tag not in found:
            found.append(tag)
    return found


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(length=64), nullable=True),
        sa.Column("following", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("muted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_follows_group_id_groups"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["users.id"], name=op.f("fk_follows_person_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_follows_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
    )
    for column in ("group_id", "person_id", "post_id", "tag", "user_id"):
        op.create_index(op.f(f"ix_follows_{column}"), "follows", [column], unique=False)
    for column in ("group_id", "person_id", "post_id", "tag"):
        op.create_index(
            f"uq_follows_user_{column}",
            "follows",
            ["user_id", column],
            unique=True,
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )

    op.create_table(
        "thread_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_thread_reads_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_thread_reads_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_reads")),
        sa.UniqueConstraint("user_id", "post_id", name=op.f("uq_thread_reads_user_id_post_id")),
    )
    op.create_index(op.f("ix_thread_reads_post_id"), "thread_reads", ["post_id"], unique=False)

    op.create_table(
        "taggings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_taggings_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_taggings_post_id_posts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taggings")),
    )
    op.create_index(op.f("ix_taggings_comment_id"), "taggings", ["comment_id"], unique=False)
    op.create_index(op.f("ix_taggings_post_id"), "taggings", ["post_id"], unique=False)
    op.create_index("ix_taggings_tag_created_at", "taggings", ["tag", "created_at"], unique=False)

    _backfill()


def _backfill() -> None:
    op.execute(
        "INSERT INTO follows (user_id, kind, group_id, following, muted, created_at)"
        " SELECT user_id, 'group', group_id, true, false, created_at FROM memberships"
    )
    op.execute(
        "INSERT INTO follows (user_id, kind, post_id, following, muted, created_at)"
        " SELECT user_id, 'post', post_id, true, false, MIN(created_at) FROM ("
        "  SELECT author_id AS user_id, id AS post_id, created_at FROM posts"
        "  UNION ALL SELECT author_id, post_id, created_at FROM comments"
        " ) AS writers GROUP BY user_id, post_id"
    )
    connection = op.get_bind()
    taggings = sa.table(
        "taggings",
        sa.column("tag", sa.String),
        sa.column("post_id", sa.Integer),
        sa.column("comment_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
    )
    posts = connection.execute(
        sa.text("SELECT id, title, body_text, created_at FROM posts").columns(created_at=sa.DateTime)
    )
    rows = [
        {"tag": tag, "post_id": post_id, "comment_id": None, "created_at": created_at}
        for post_id, title, body, created_at in posts
        for tag in _tags(f"{title}\n{body}")
    ]
    comments = connection.execute(
        sa.text("SELECT id, post_id, body_text, created_at FROM comments WHERE removed_at IS NULL").columns(
            created_at=sa.DateTime
        )
    )
    rows += [
        {"tag": tag, "post_id": post_id, "comment_id": comment_id, "created_at": created_at}
        for comment_id, post_id, body, created_at in comments
        for tag in _tags(body)
    ]
    if rows:
        op.bulk_insert(taggings, rows)


def downgrade() -> None:
    op.drop_table("taggings")
    op.drop_table("thread_reads")
    op.drop_table("follows")
