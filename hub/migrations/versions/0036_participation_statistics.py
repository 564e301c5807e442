"""participation statistics: raw page views and the daily rollups of the whole hub, each person and each thread

Revision ID: 0036
Revises: 0037
"""

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision = "0036"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("view_events",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("post_id", sa.Integer(), nullable=True),
    sa.Column("from_mail", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_view_events")),
    )
    op.create_index(op.f("ix_view_events_created_at"), "view_events", ["created_at"], unique=False)
    op.create_table("stats_days",
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("visitors", sa.Integer(), nullable=False),
    sa.Column("views", sa.Integer(), nullable=False),
    sa.Column("posts", sa.Integer(), nullable=False),
    sa.Column("comments", sa.Integer(), nullable=False),
    sa.Column("reactions", sa.Integer(), nullable=False),
    sa.Column("rolled_up_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("day", name=op.f("pk_stats_days")),
    )
    op.create_table("stats_person_days",
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("channel", sa.String(length=8), nullable=False),
    sa.Column("visits", sa.Integer(), nullable=False),
    sa.Column("mail_clicks", sa.Integer(), nullable=False),
    sa.Column("posts", sa.Integer(), nullable=False),
    sa.Column("comments", sa.Integer(), nullable=False),
    sa.Column("reactions", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_stats_person_days_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("day", "user_id", "channel", name=op.f("pk_stats_person_days")),
    )
    op.create_index("ix_stats_person_days_user_id_day", "stats_person_days", ["user_id", "day"], unique=False)
    op.create_table("stats_post_views",
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("post_id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_stats_post_views_post_id_posts"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_stats_post_views_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("day", "post_id", "user_id", name=op.f("pk_stats_post_views")),
    )
    op.create_index("ix_stats_post_views_post_id_day", "stats_post_views", ["post_id", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stats_post_views_post_id_day", table_name="stats_post_views")
    op.drop_table("stats_post_views")
    op.drop_index("ix_stats_person_days_user_id_day", table_name="stats_person_days")
    op.drop_table("stats_person_days")
    op.drop_table("stats_days")
    op.drop_index(op.f("ix_view_events_created_at"), table_name="view_events")
    op.drop_table("view_events")
