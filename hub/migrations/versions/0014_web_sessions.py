"""web_sessions, used_sign_in_links and sign_in_requests: sessions the server can end, links used once, requests counted

Revision ID: 0014
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "used_sign_in_links",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_used_sign_in_links")),
    )
    op.create_index(op.f("ix_used_sign_in_links_expires_at"), "used_sign_in_links", ["expires_at"], unique=False)
    op.create_table(
        "sign_in_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_requests")),
    )
    op.create_index(
        op.f("ix_sign_in_requests_address_digest"), "sign_in_requests", ["address_digest"], unique=False
    )
    op.create_index(op.f("ix_sign_in_requests_client"), "sign_in_requests", ["client"], unique=False)
    op.create_index(op.f("ix_sign_in_requests_requested_at"), "sign_in_requests", ["requested_at"], unique=False)


def downgrade() -> None:
    op.drop_table("sign_in_requests")
    op.drop_table("used_sign_in_links")
    op.drop_table("web_sessions")
