"""the directory's indexes: people A to Z by name, and their locations

Revision ID: 0026
Revises: 0024
"""

from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_name_id", "users", ["name", "id"])
    op.create_index("ix_users_location", "users", ["location"])


def downgrade() -> None:
    op.drop_index("ix_users_location", table_name="users")
    op.drop_index("ix_users_name_id", table_name="users")
