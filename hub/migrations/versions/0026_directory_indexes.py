"""the directory's indexes: people A to Z by name, their locations, and the people of each department

Revision ID: 0026
Revises: 0025a
"""

from alembic import op

revision = "0026"
down_revision = "0025a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_name_id", "users", ["name", "id"])
    op.create_index("ix_users_location_deactivated_at", "users", ["location", "deactivated_at"])
    op.create_index("ix_users_department_id_deactivated_at", "users", ["department_id", "deactivated_at"])


def downgrade() -> None:
    op.drop_index("ix_users_department_id_deactivated_at", table_name="users")
    op.drop_index("ix_users_location_deactivated_at", table_name="users")
    op.drop_index("ix_users_name_id", table_name="users")
