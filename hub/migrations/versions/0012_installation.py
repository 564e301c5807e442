"""installation: one row with the random part of this installation's Message-IDs, chosen here once

Revision ID: 0012
Revises: 0011
"""

import secrets
import string

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ALPHABET = string.ascii_lowercase + string.digits
LENGTH = 10
"""36**10, about 2**52: two installations drawing the same part is not a worry."""


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mail_id_part", sa.String(length=20), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_installation_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    part = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    op.bulk_insert(installation, [{"id": 1, "mail_id_part": part}])


def downgrade() -> None:
    op.drop_table("installation")
