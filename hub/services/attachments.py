"""Attached files: bytes in a content-addressed store, metadata in the database.

A file is written under its SHA-256, fsynced and renamed into place, so the same file sent
to ten threads is stored once and a crash never leaves half a file under a real name. A file
uploaded on the web is already on disk under the data directory (hub.web.uploads): it is
hashed in chunks and moved into place, never read whole into memory.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from hub.models import Attachment, Comment, Post
from hub.settings import get_settings

_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)
_CHUNK = 1024 * 1024


def write_durably(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that it survives a crash once this returns."""
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
    _sync_directory(path.parent)


def _sync_directory(folder: Path) -> None:
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def blob_path(sha256: str) -> Path:
    return get_settings().attachments_dir / sha256[:2] / sha256[2:4] / sha256


def store_blob(data: bytes) -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(sha256)
    if not path.exists():
        write_durably(path, data)
    return sha256


def store_file(path: Path) -> str:
    """Move the file at `path`, on the data directory's file system, into the store; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
        os.fsync(file.fileno())
    sha256 = digest.hexdigest()
    target = blob_path(sha256)
    if target.exists():
        path.unlink()
        return sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    _sync_directory(target.parent)
    return sha256


def read_blob(attachment: Attachment) -> bytes:
    return blob_path(attachment.sha256).read_bytes()


def safe_filename(filename: str, content_type: str) -> str:
    name = _UNSAFE_FILENAME.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    if not name:
        name = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    return name[:255]


def attach(
    session: Session,
    post: Post,
    filename: str,
    content_type: str,
    data: bytes,
    *,
    comment: Comment | None = None,
    content_id: str | None = None,
) -> Attachment:
    return _record(session, post, comment, filename, content_type, len(data), store_blob(data), content_id)


def attach_file(session: Session, post: Post, filename: str, content_type: str, path: Path) -> Attachment:
    """Attach the uploaded file at `path`, moving it into the store."""
    size = path.stat().st_size
    return _record(session, post, None, filename, content_type, size, store_file(path), None)


def _record(
    session: Session, post: Post, comment: Comment | None, filename: str, content_type: str, size: int,
    sha256: str, content_id: str | None,
) -> Attachment:
    content_type = (content_type or "application/octet-stream").lower()
    attachment = Attachment(
        post=post,
        comment=comment,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        size=size,
        sha256=sha256,
        content_id=content_id,
    )
    session.add(attachment)
    session.flush()
    return attachment
