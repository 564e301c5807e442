"""mail gateway: IMAP mailbox watermarks and the messages taken from them

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imap_mailboxes")),
        sa.UniqueConstraint("key", name=op.f("uq_imap_mailboxes_key")),
    )
    op.create_table(
        "imap_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["imap_mailboxes.id"],
            name=op.f("fk_imap_messages_mailbox_id_imap_mailboxes"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"], ["inbound_messages.id"],
            name=op.f("fk_imap_messages_inbound_id_inbound_messages"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imap_messages")),
        sa.UniqueConstraint("mailbox_id", "message_key", name=op.f("uq_imap_messages_mailbox_id_message_key")),
    )
    with op.batch_alter_table("imap_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imap_messages_inbound_id"), ["inbound_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("imap_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imap_messages_inbound_id"))
    op.drop_table("imap_messages")
    op.drop_table("imap_mailboxes")
