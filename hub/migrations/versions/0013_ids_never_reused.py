"""Ids are never handed out twice: tables whose ids name mail, tokens and links become AUTOINCREMENT on SQLite

Without AUTOINCREMENT, SQLite gives a new row the id of the deleted last row: a post undone and
sent again became the undone post once more, and the mail about it found its outbox keys taken.
Each table is rebuilt (SQLite cannot add AUTOINCREMENT in place), which copies its rows once.

A rebuilt table goes on from its highest id. For posts, comments and held messages, ids deleted
as the last row before this migration may still be named elsewhere (an outbox key, a digest's
watermark); the table goes on above those too, so none of them comes back.

PostgreSQL's sequences never hand out an id twice: there this migration does nothing.

Revision ID: 0013
Revises: 0012
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = (
    "users", "groups", "memberships", "posts", "comments", "attachments", "held_messages", "inbound_messages",
    "outgoing_mail",
)
NAMED_IN_OUTBOX_KEYS = {
    "posts": re.compile(r"^(?:receipt:)?post:(\d+)"),
    "comments": re.compile(r"^(?:receipt:)?comment:(\d+)"),
    "held_messages": re.compile(r"^(?:held|moderation):(\d+)"),
}


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    for table, highest in _highest_named(connection).items():
        _go_on_above(connection, table, highest)


def _highest_named(connection: sa.Connection) -> dict[str, int]:
    """The highest id of each table that the outbox keys and digest watermarks name."""
    highest = dict.fromkeys(NAMED_IN_OUTBOX_KEYS, 0)
    keys = connection.execute(sa.text(
        "SELECT key FROM outgoing_mail WHERE key LIKE 'post:%' OR key LIKE 'comment:%' OR key LIKE 'receipt:%'"
        " OR key LIKE 'held:%' OR key LIKE 'moderation:%'"
    ))
    for (key,) in keys:
        for table, pattern in NAMED_IN_OUTBOX_KEYS.items():
            if found := pattern.match(key):
                highest[table] = max(highest[table], int(found.group(1)))
    posts, comments = connection.execute(sa.text(
        "SELECT COALESCE(MAX(last_post_id), 0), COALESCE(MAX(last_comment_id), 0) FROM digest_watermarks"
    )).one()
    highest["posts"], highest["comments"] = max(highest["posts"], posts), max(highest["comments"], comments)
    return highest


def _go_on_above(connection: sa.Connection, table: str, highest: int) -> None:
    """Make the next id of an AUTOINCREMENT `table` higher than `highest` (sqlite_sequence holds the last one)."""
    if not highest:
        return
    values = {"table": table, "highest": highest}
    connection.execute(sa.text("UPDATE sqlite_sequence SET seq = :highest WHERE name = :table AND seq < :highest"), values)
    connection.execute(sa.text(
        "INSERT INTO sqlite_sequence (name, seq) SELECT :table, :highest"
        " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = :table)"
    ), values)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
