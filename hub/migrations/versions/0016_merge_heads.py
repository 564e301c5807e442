"""Merge the ids-never-reused and attachment-extraction branches into one line again.

Revision ID: 0016
Revises: 0013, 0015
"""

revision = "0016"
down_revision = ("0013", "0015")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
