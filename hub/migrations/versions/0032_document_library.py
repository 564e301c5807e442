"""a group's library: documents and their versions

Every file already shared becomes a version of a document, as sharing it does from now on: by
group and name folded for comparison, photos and videos each a document of their own, and parts
shown inside a mail (with a Content-ID) left out.

Revision ID: 0032
Revises: 0029
"""

from pathlib import PurePath

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0030"
branch_labels = None
depends_on = None

# hub.services.attachments.media_kind as it was when this migration was written: what is not a document.
PICTURE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/heic",
    "image/heif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
}
PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".mp4", ".m4v", ".webm", ".mov"}


def _name_key(filename, content_type):
    if content_type.split(";", 1)[0].strip().lower() in PICTURE_TYPES:
        return None
    if PurePath(filename).suffix.lower() in PICTURE_SUFFIXES:
        return None
    return filename.casefold()


def upgrade() -> None:
    documents = op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_documents_group_id_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("group_id", "name_key", name=op.f("uq_documents_group_id_name_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_documents_group_id"), "documents", ["group_id"], unique=False)
    versions = op.create_table(
        "document_versions",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_document_versions_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_document_versions")),
    )
    op.create_index(op.f("ix_document_versions_document_id"), "document_versions", ["document_id"], unique=False)
    _file_what_was_shared(documents, versions)


def _file_what_was_shared(documents, versions) -> None:
    connection = op.get_bind()
    shared = connection.execute(
        sa.text(
            "SELECT attachments.id, posts.group_id, attachments.filename, attachments.content_type "
            "FROM attachments JOIN posts ON posts.id = attachments.post_id "
            "WHERE attachments.content_id IS NULL ORDER BY attachments.id"
        )
    )
    filed: dict[tuple[int, str], int] = {}
    for attachment_id, group_id, filename, content_type in shared:
        key = _name_key(filename, content_type)
        document_id = filed.get((group_id, key)) if key is not None else None
        if document_id is None:
            document_id = connection.execute(
                documents.insert().values(group_id=group_id, name_key=key).returning(documents.c.id)
            ).scalar_one()
            if key is not None:
                filed[group_id, key] = document_id
        connection.execute(versions.insert().values(attachment_id=attachment_id, document_id=document_id))


def downgrade() -> None:
    op.drop_index(op.f("ix_document_versions_document_id"), table_name="document_versions")
    op.drop_table("document_versions")
    op.drop_index(op.f("ix_documents_group_id"), table_name="documents")
    op.drop_table("documents")
