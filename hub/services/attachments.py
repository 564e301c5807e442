"""Attached files: bytes in a content-addressed store, metadata in the database.

A file is written under its SHA-256, fsynced and renamed into place, so the same file sent
to ten threads is stored once and a crash never leaves half a file under a real name. A file
uploaded on the web is already on disk under the data directory (hub.web.uploads): it is
hashed in chunks and moved into place, never read whole into memory.

A file sent with a web post that waits for a moderator is stored at once too, named by a
`HeldFile` until the decision (`hold_file`, `attach_held`).

So a file is removed only when no attachment (nor held file) names its SHA-256 any more, and only once the
deletion that freed it has committed (a rollback loses nothing): deleting calls `release`,
which queues `plein.attachments.sweep` after commit. A job rather than an unlink in the
request: web and worker machines share the store, the sweep must wait for every transaction
that may be adding the same file, and a sweep that fails is retried without failing a deletion
that has already committed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import false, select, text, update
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import context_of
from hub.models import Attachment, Comment, HeldFile, HeldMessage, Post, User
from hub.services import documents
from hub.services.digest_horizon import NEW_ITEMS_LOCK_ID, announce_new_item
from hub.services.errors import NotFound
from hub.services.visibility import can_see

SWEEP_TASK = "plein.attachments.sweep"
PHOTO_SIZES_TASK = "plein.media.photo_sizes"
"""Queued for each photo as it is attached: a worker makes its sizes (hub/services/photo_sizes.py)."""
VIDEO_POSTER_TASK = "plein.media.video_poster"
"""Queued for each video as it is attached: a worker makes its poster frame (hub/services/videos.py)."""

PHOTO, VIDEO, DOCUMENT = "photo", "video", "document"
_PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"}
_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif"}
_VIDEO_TYPES = {"video/mp4", "video/webm", "video/quicktime"}
_VIDEO_SUFFIXES = {".mp4", ".m4v", ".webm", ".mov"}

_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)
_CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def media_kind(content_type: str, filename: str) -> str:
    """PHOTO, VIDEO or DOCUMENT: how a file is shown and found. Phones often send `application/octet-stream`,
    so the file's suffix counts as much as its declared type."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    suffix = Path(filename).suffix.lower()
    if content_type in _PHOTO_TYPES or suffix in _PHOTO_SUFFIXES:
        return PHOTO
    if content_type in _VIDEO_TYPES or suffix in _VIDEO_SUFFIXES:
        return VIDEO
    return DOCUMENT


def blob_path(folder: Path, sha256: str) -> Path:
    """Where the store under `folder` (`PLEIN_DATA_DIR/attachments`) keeps the file with this SHA-256."""
    return folder / sha256[:2] / sha256[2:4] / sha256


def sizes_path(held: Session | Attachment, sha256: str) -> Path:
    """Where the sizes made of the photo with this SHA-256 (hub/services/photo_sizes.py) are, beside one another
    under `PLEIN_DATA_DIR/photo_sizes`: `<this>-<pixels>.jpg`. They go when the photo does (`sweep`)."""
    return blob_path(context_of(held).settings.data_dir / "photo_sizes", sha256)


def poster_file(folder: Path, sha256: str) -> Path:
    """Where the store under `folder` keeps the poster frame of the video with this SHA-256 (hub.services.videos)."""
    return folder / "posters" / sha256[:2] / f"{sha256}.jpg"


def store_blob(folder: Path, data: bytes) -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(folder, sha256)
    if not path.exists():
        write_durably(path, data)
    return sha256


def store_file(folder: Path, path: Path) -> str:
    """Move the file at `path`, on the data directory's file system, into the store under `folder`; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
        os.fsync(file.fileno())
    sha256 = digest.hexdigest()
    target = blob_path(folder, sha256)
    if target.exists():
        path.unlink()
        return sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    _sync_directory(target.parent)
    return sha256


def visible_attachment(session: Session, reader: User, attachment_id: int) -> Attachment:
    """The attachment, if `reader` may see its post; one that is hidden is as missing, in the same words.
    Every download, size and poster of a file goes through here."""
    found = session.get(Attachment, attachment_id)
    if found is None or not can_see(session, reader, found.post.group):
        raise NotFound("no attachment %(id)s", id=attachment_id)
    return found


def read_blob(attachment: Attachment) -> bytes:
    return stored_path(attachment).read_bytes()


def stored_path(attachment: Attachment) -> Path:
    return blob_path(_store(attachment), attachment.sha256)


def _store(held: Session | Attachment) -> Path:
    """The store of the context `held` (a session or a row) was opened in."""
    return context_of(held).settings.attachments_dir


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
    return _record(session, post, comment, filename, content_type, len(data), store_blob(_store(session), data), content_id)


def attach_file(
    session: Session, post: Post, filename: str, content_type: str, path: Path, *, comment: Comment | None = None,
) -> Attachment:
    """Attach the uploaded file at `path` to `post` (or to its `comment`), moving it into the store."""
    size = path.stat().st_size
    return _record(session, post, comment, filename, content_type, size, store_file(_store(session), path), None)


def hold_file(session: Session, held: HeldMessage, filename: str, content_type: str, path: Path) -> HeldFile:
    """Keep the uploaded file at `path` for `held` (a web post waiting for a moderator), moving it into the store.

    Call after `held` is flushed: like a transaction adding a post, this one then keeps a sweep
    out until the row naming the file commits (`sweep`).
    """
    announce_new_item(session)
    content_type = (content_type or "application/octet-stream").lower()
    kept = HeldFile(
        filename=safe_filename(filename, content_type), content_type=content_type, size=path.stat().st_size,
        sha256=store_file(_store(session), path),
    )
    held.files.append(kept)
    session.flush()
    return kept


def attach_held(session: Session, post: Post, comment: Comment | None, held_file: HeldFile) -> Attachment:
    """Make a held file, in the store already, an attachment of `post` (or of its `comment`)."""
    return _record(
        session, post, comment, held_file.filename, held_file.content_type, held_file.size, held_file.sha256, None,
    )


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
    kind = media_kind(content_type, attachment.filename)
    if kind == PHOTO:
        jobs.after_commit(session, PHOTO_SIZES_TASK, attachment.id)
    elif kind == VIDEO:
        jobs.after_commit(session, VIDEO_POSTER_TASK, attachment.id)
    documents.file_version(session, attachment, by_name=kind == DOCUMENT)
    return attachment


def release(session: Session, attachments: Iterable[Attachment | HeldFile]) -> None:
    """Call before deleting `attachments` (or held files): once that commits, their files go unless another
    attachment or held file names them.

    Passing more attachments than are deleted is harmless: the sweep keeps every file still named.
    """
    sha256s = sorted({attachment.sha256 for attachment in attachments})
    if sha256s:
        jobs.after_commit(session, SWEEP_TASK, sha256s)


def sweep(session: Session, sha256s: Iterable[str]) -> list[str]:
    """Remove the stored files among `sha256s` that no attachment or held file names any more; those removed.

    A transaction adding an attachment may have found its file in the store and not yet
    committed the row that names it. Every such transaction adds a post, a comment or a held
    message first, so the sweep looks while none is open (`_exclude_new_items`), and one that
    starts after it finds the file gone and writes it again.
    """
    candidates = {sha256 for sha256 in sha256s if _SHA256.fullmatch(sha256)}
    if not candidates:
        return []
    _exclude_new_items(session)
    named = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(candidates))))
    named |= set(session.scalars(select(HeldFile.sha256).where(HeldFile.sha256.in_(candidates))))
    removed = []
    for sha256 in sorted(candidates - named):
        path = blob_path(_store(session), sha256)
        if path.exists():
            path.unlink()
            removed.append(sha256)
        for made in sizes_path(session, sha256).parent.glob(f"{sha256}-*"):
            made.unlink(missing_ok=True)
        poster_file(_store(session), sha256).unlink(missing_ok=True)
    return removed


def _exclude_new_items(session: Session) -> None:
    """Wait for every open transaction that adds a post or comment, and keep new ones waiting until this one ends.

    PostgreSQL: such transactions hold `NEW_ITEMS_LOCK_ID` shared (`digest_horizon`), so take it
    exclusively. SQLite: they have written before they attach, so take the one write lock with
    a write that changes nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": NEW_ITEMS_LOCK_ID})
    else:
        session.execute(update(Attachment).where(false()).values(size=Attachment.size))
