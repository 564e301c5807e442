"""outgoing mail: mail preferences per user, outbox backoff, digest periods, bounce scores

Revision ID: 0003
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="Europe/Amsterdam"))
        batch_op.add_column(sa.Column("digest_hour", sa.Integer(), nullable=False, server_default="7"))
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="en"))
        batch_op.add_column(sa.Column("notify_replies", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("timezone", "digest_hour", "digest_weekday", "language", "notify_replies"):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("digest_watermarks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period", sa.String(length=16), nullable=True))

    op.create_table(
        "address_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("last_bounce_at", sa.DateTime(), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_health")),
        sa.UniqueConstraint("address", name=op.f("uq_address_health_address")),
    )
    op.create_table(
        "bounce_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outgoing_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outgoing_id"], ["outgoing_mail.id"],
            name=op.f("fk_bounce_reports_outgoing_id_outgoing_mail"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_reports")),
        sa.UniqueConstraint("outgoing_id", name=op.f("uq_bounce_reports_outgoing_id")),
    )
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bounce_reports_address"), ["address"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bounce_reports_address"))
    op.drop_table("bounce_reports")
    op.drop_table("address_health")
    with op.batch_alter_table("digest_watermarks", schema=None) as batch_op:
        batch_op.drop_column("period")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("notify_replies", "language", "digest_weekday", "digest_hour", "timezone"):
            batch_op.drop_column(column)
