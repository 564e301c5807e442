"""Altering a table that SQLite must rebuild, for migrations.

SQLite changes a column (a new one with a foreign key, a column made nullable) by copying the table
into a new one. The copy would forget the table's AUTOINCREMENT and hand a deleted last row's id out
again, an id that mail sent already names (`tests/hub/test_ids_never_reused.py`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations


def rebuilt(table: str, alter: Callable[[BatchOperations], None]) -> None:
    """Alter `table`; on SQLite, where that rebuilds it, keep it AUTOINCREMENT and going on from its last id."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        with op.batch_alter_table(table) as batch:
            alter(batch)
        return
    values = {
        "table": table,
        "last": connection.execute(
            sa.text("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = :table"), {"table": table}
        ).scalar(),
    }
    with op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": True}) as batch:
        alter(batch)
    connection.execute(sa.text("UPDATE sqlite_sequence SET seq = :last WHERE name = :table AND seq < :last"), values)
    connection.execute(
        sa.text(
            "INSERT INTO sqlite_sequence (name, seq) SELECT :table, :last"
            " WHERE :last > 0 AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = :table)"
        ),
        values,
    )
