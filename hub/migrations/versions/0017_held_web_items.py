"""held_files, and held_messages.inbound_id optional: web posts and comments held for moderation are kept as written

Until now a post or comment written on the web in a moderated group was held as the mail it would
have been: RFC 5322 bytes on an inbound record marked `written_on_web`. Such an item is now a held
message without an inbound record, its files in the attachment store named by `held_files`.

Each item still waiting is moved: its files are parsed from its stored mail once, here, and kept in
the attachment store. Its title and text are on its held row already. Decided items, and the posts
and comments approving made, lose the link to the inbound record, which goes (its raw file stays on
disk, unread). `inbound_messages.written_on_web` goes.

SQLite rebuilds both altered tables; their ids go on from where they were (migration 0013).

Revision ID: 0017
Revises: 0016
"""

import hashlib
import mimetypes
import os
import re
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from hub.migrations.rebuilds import rebuilt
from mailgateway.parsing import parse_message

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

inbound_messages = sa.table(
    "inbound_messages",
    sa.column("id", sa.Integer),
    sa.column("path", sa.String),
    sa.column("written_on_web", sa.Boolean),
)
held_messages = sa.table(
    "held_messages",
    sa.column("id", sa.Integer),
    sa.column("inbound_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("reason", sa.Text),
    sa.column("created_at", sa.DateTime),
)
held_files = sa.table(
    "held_files",
    sa.column("held_id", sa.Integer),
    sa.column("filename", sa.String),
    sa.column("content_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("created_at", sa.DateTime),
)


def upgrade() -> None:
    rebuilt("held_messages", lambda table: table.alter_column("inbound_id", existing_type=sa.Integer(), nullable=True))
    op.create_table(
        "held_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["held_id"], ["held_messages.id"], name=op.f("fk_held_files_held_id_held_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_files")),
    )
    op.create_index(op.f("ix_held_files_held_id"), "held_files", ["held_id"], unique=False)
    _move_web_items(op.get_bind())
    rebuilt("inbound_messages", lambda table: table.drop_column("written_on_web"))


def _move_web_items(connection: sa.Connection) -> None:
    web = sa.select(inbound_messages.c.id).where(inbound_messages.c.written_on_web.is_(True))
    waiting = connection.execute(
        sa.select(held_messages.c.id, held_messages.c.created_at, inbound_messages.c.path)
        .join(inbound_messages, inbound_messages.c.id == held_messages.c.inbound_id)
        .where(held_messages.c.inbound_id.in_(web), held_messages.c.status == "held")
    ).all()
    data_dir = context.config.attributes["settings"].data_dir
    for held_id, created_at, path in waiting:
        raw = data_dir / path
        if not raw.exists():
            connection.execute(
                held_messages.update()
                .where(held_messages.c.id == held_id)
                .values(
                    reason=held_messages.c.reason + f"; its files were lost with its stored mail ({path})",
                )
            )
            continue
        for part in parse_message(raw.read_bytes()).attachments:
            content_type = (part.content_type or "application/octet-stream").lower()
            connection.execute(
                held_files.insert().values(
                    held_id=held_id,
                    filename=_safe_filename(part.filename, content_type),
                    content_type=content_type,
                    size=len(part.data),
                    sha256=_store_blob(data_dir / "attachments", part.data),
                    created_at=created_at,
                )
            )
    for table in ("held_messages", "posts", "comments"):
        item = sa.table(table, sa.column("inbound_id", sa.Integer))
        connection.execute(item.update().where(item.c.inbound_id.in_(web)).values(inbound_id=None))
    connection.execute(inbound_messages.delete().where(inbound_messages.c.written_on_web.is_(True)))


# The attachment store and the file names as hub.services.attachments kept them at this revision, written out
# here so that this migration does the same whatever that module becomes.
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


def _safe_filename(filename: str, content_type: str) -> str:
    name = _UNSAFE_FILENAME.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    if not name:
        name = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    return name[:255]


def _store_blob(store: Path, data: bytes) -> str:
    """Keep `data` in the attachment store under `store` by its SHA-256, fsynced and renamed into place."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = store / sha256[:2] / sha256[2:4] / sha256
    if path.exists():
        return sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return sha256


def downgrade() -> None:
    """Refused while a web post or comment waits for a moderator (it has no mail to go back to);
    the record of decided ones goes."""
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(sa.func.count())
        .select_from(held_messages)
        .where(
            held_messages.c.inbound_id.is_(None),
            held_messages.c.status == "held",
        )
    ).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} web posts or comments wait for a moderator: decide on them before downgrading")
    rebuilt(
        "inbound_messages",
        lambda table: table.add_column(
            sa.Column("written_on_web", sa.Boolean(), server_default=sa.false(), nullable=False)
        ),
    )
    connection.execute(held_messages.delete().where(held_messages.c.inbound_id.is_(None)))
    rebuilt(
        "held_messages", lambda table: table.alter_column("inbound_id", existing_type=sa.Integer(), nullable=False)
    )
    op.drop_index(op.f("ix_held_files_held_id"), table_name="held_files")
    op.drop_table("held_files")
