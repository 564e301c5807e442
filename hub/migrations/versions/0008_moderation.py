"""Who may post: group posting policies, moderators, and mail held for them

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("posting_policy", sa.String(length=16), server_default="members", nullable=False))
        batch.add_column(sa.Column("untrusted_mail", sa.String(length=16), server_default="hold", nullable=False))
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("inbound_id", sa.Integer(), sa.ForeignKey("inbound_messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("comments.id", ondelete="SET NULL"), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("inbound_id", "group_id"),
    )
    op.create_index("ix_held_messages_inbound_id", "held_messages", ["inbound_id"])
    op.create_index("ix_held_messages_group_id", "held_messages", ["group_id"])
    op.create_index("ix_held_messages_status", "held_messages", ["status"])


def downgrade() -> None:
    op.drop_table("held_messages")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("is_moderator")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("untrusted_mail")
        batch.drop_column("posting_policy")
