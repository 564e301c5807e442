"""Merge the branches written side by side: web sessions (0014), edit history (0018) and reactions (0019).

Revision ID: 0020
Revises: 0014, 0018, 0019
"""

revision = "0020"
down_revision = ("0014", "0018", "0019")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
