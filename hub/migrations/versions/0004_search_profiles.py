"""profile columns people are found by: department, job title, bio, expertise

Revision ID: 0004
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("job_title", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("bio", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("expertise", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("expertise")
        batch.drop_column("bio")
        batch.drop_column("job_title")
        batch.drop_column("department")
