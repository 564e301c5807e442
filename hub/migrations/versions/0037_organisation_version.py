"""organisation version: one number that changes with the department tree or who is counted in it

Revision ID: 0037
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "organisation_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_organisation_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("organisation_version")
