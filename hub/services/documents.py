"""A group's library: every file shared in the group, one entry per document, searched, sorted and paged.

A file shared in a group (with a post or comment, by mail or on the web) is a version of a document: of the one
with the same name in that group, compared after the store's cleaning of names (`safe_filename`) and case-folded,
or of a new one. Photos and videos stand alone, since cameras name every picture alike; a part shown inside a
mail (with a Content-ID: a logo in a signature) is not a shared file and stays out.

A document's current version is its newest attachment still there: a version goes with its post or comment
(the database cascades), and the one before it is current again. A document with no version left is not shown
anywhere; a file of its name shared later is its version again.

Who may see a document is who may see its group (`visibility`); to anyone else it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import false, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from hub.models import Attachment, Comment, Document, DocumentVersion, Group, Post, User
from hub.services.errors import Invalid, NotFound
from hub.services.visibility import can_see, visible_group_ids

PAGE_SIZE = 25
SORTS = ("date", "name", "size")
ORDERS = ("desc", "asc")

_KIND_BY_SUFFIX = {
    ".pdf": "pdf",
    ".doc": "word",
    ".docx": "word",
    ".docm": "word",
    ".dot": "word",
    ".dotx": "word",
    ".xls": "excel",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xlt": "excel",
    ".xltx": "excel",
    ".ppt": "powerpoint",
    ".pptx": "powerpoint",
    ".pptm": "powerpoint",
    ".pps": "powerpoint",
    ".ppsx": "powerpoint",
    ".odt": "text_document",
    ".rtf": "text_document",
    ".ods": "spreadsheet",
    ".csv": "spreadsheet",
    ".odp": "presentation",
    ".txt": "text",
    ".md": "text",
    ".zip": "archive",
    ".7z": "archive",
    ".tar": "archive",
    ".gz": "archive",
    ".rar": "archive",
}
_KIND_BY_TYPE = {
    "application/pdf": "pdf",
    "application/msword": "word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word",
    "application/vnd.ms-excel": "excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
    "application/vnd.ms-powerpoint": "powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "powerpoint",
    "application/vnd.oasis.opendocument.text": "text_document",
    "application/vnd.oasis.opendocument.spreadsheet": "spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "presentation",
    "text/csv": "spreadsheet",
    "application/zip": "archive",
}
_KIND_BY_FAMILY = {"image": "image", "video": "video", "audio": "audio", "text": "text"}


def name_key(filename: str) -> str:
    """A stored file name as compared with others: two names are one document's when these are equal."""
    return filename.casefold()


def kind_of(content_type: str, filename: str) -> str:
    """What a file is, as the library names it: pdf, word, excel, powerpoint, image, video, ..., else file.
    The suffix first: mail programs often send Office files as `application/octet-stream`."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    return (
        _KIND_BY_SUFFIX.get(PurePath(filename).suffix.lower())
        or _KIND_BY_TYPE.get(content_type)
        or _KIND_BY_FAMILY.get(content_type.split("/", 1)[0])
        or "file"
    )


def file_version(session: Session, attachment: Attachment, *, by_name: bool) -> None:
    """File the new `attachment` in its group's library: the newest version of the document of its name when
    `by_name` (a document rather than a photo or video), else a document of its own."""
    if attachment.content_id is not None:
        return
    group_id = attachment.post.group_id
    if by_name:
        key = name_key(attachment.filename)
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        # Two files of one name shared at once: one makes the document, both become its versions.
        session.execute(
            insert(Document)
            .values(group_id=group_id, name_key=key)
            .on_conflict_do_nothing(index_elements=["group_id", "name_key"])
        )
        document_id = session.scalar(select(Document.id).where(Document.group_id == group_id, Document.name_key == key))
    else:
        document = Document(group_id=group_id, name_key=None)
        session.add(document)
        session.flush()
        document_id = document.id
    session.add(DocumentVersion(attachment_id=attachment.id, document_id=document_id))
    session.flush()


@dataclass(frozen=True)
class Entry:
    """A document as the library lists it: its current version and how many it has."""

    document_id: int
    current: Attachment
    versions: int

    @property
    def kind(self) -> str:
        return kind_of(self.current.content_type, self.current.filename)

    @property
    def author(self) -> User:
        return author_of(self.current)


@dataclass(frozen=True)
class Library:
    group: Group
    entries: list[Entry]
    total: int
    page: int
    pages: int
    q: str
    sort: str
    order: str


@dataclass(frozen=True)
class DocumentPage:
    """A document with every version still there, newest first."""

    document_id: int
    group: Group
    versions: list[Attachment]

    @property
    def current(self) -> Attachment:
        return self.versions[0]

    @property
    def kind(self) -> str:
        return kind_of(self.current.content_type, self.current.filename)


def author_of(version: Attachment) -> User:
    """Who shared a file: the author of its comment, else of its post."""
    return version.comment.author if version.comment_id is not None else version.post.author


def _current_versions(*conditions):
    """The current version and the number of versions of each document that meets `conditions`."""
    return (
        select(
            DocumentVersion.document_id,
            func.max(DocumentVersion.attachment_id).label("attachment_id"),
            func.count().label("versions"),
        )
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(*conditions)
        .group_by(DocumentVersion.document_id)
        .subquery()
    )


def _with_people(statement):
    return statement.options(
        selectinload(Attachment.post).selectinload(Post.author),
        selectinload(Attachment.comment).selectinload(Comment.author),
    )


def library(
    session: Session, group: Group, q: str = "", sort: str = "date", order: str = "desc", page: int = 1
) -> Library:
    """The documents of `group` (which the caller found visible to its reader), matching `q` in the current
    version's name or extracted text, sorted by `sort` in `order`, page `page`."""
    if sort not in SORTS:
        raise Invalid("sort must be one of %(choices)s", choices=", ".join(SORTS))
    if order not in ORDERS:
        raise Invalid("order must be one of %(choices)s", choices=", ".join(ORDERS))
    if page < 1:
        raise Invalid("page must be 1 or more")
    q = q.strip()
    current = _current_versions(Document.group_id == group.id)
    statement = select(current.c.document_id, current.c.versions, Attachment).join(
        Attachment, Attachment.id == current.c.attachment_id
    )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(Attachment.filename.ilike(pattern, escape="\\"), Attachment.extracted_text.ilike(pattern, escape="\\"))
        )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    key = {"date": Attachment.id, "name": func.lower(Attachment.filename), "size": Attachment.size}[sort]
    direction = (lambda column: column.desc()) if order == "desc" else (lambda column: column.asc())
    rows = session.execute(
        _with_people(statement)
        .order_by(direction(key), direction(Attachment.id))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Library(
        group=group,
        entries=[Entry(document_id, version, count) for document_id, count, version in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        sort=sort,
        order=order,
    )


def get_document(session: Session, reader: User, document_id: int) -> DocumentPage:
    """Document `document_id` with its versions; NotFound alike if there is none, it has no version left, or
    `reader` may not see its group."""
    document = session.get(Document, document_id)
    group = session.get(Group, document.group_id) if document is not None else None
    versions = (
        list(
            session.scalars(
                _with_people(select(Attachment))
                .join(DocumentVersion, DocumentVersion.attachment_id == Attachment.id)
                .where(DocumentVersion.document_id == document_id)
                .order_by(Attachment.id.desc())
            )
        )
        if group is not None and can_see(session, reader, group)
        else []
    )
    if not versions:
        raise NotFound("no document %(id)s", id=document_id)
    return DocumentPage(document_id=document_id, group=group, versions=versions)


@dataclass(frozen=True)
class Version:
    """Where one file stands among its document's versions: `number` of `count`, oldest first."""

    document_id: int
    number: int
    count: int


def versions_of(session: Session, attachments: Iterable[Attachment]) -> dict[int, Version]:
    """For each of `attachments` that is one of several versions of a document, which one it is; one query.
    The versions are all in the attachments' own group, so whoever sees these files may see them all."""
    ids = {attachment.id for attachment in attachments}
    if not ids:
        return {}
    theirs = select(DocumentVersion.document_id).where(DocumentVersion.attachment_id.in_(ids))
    by_document: dict[int, list[int]] = {}
    for document_id, attachment_id in session.execute(
        select(DocumentVersion.document_id, DocumentVersion.attachment_id)
        .where(DocumentVersion.document_id.in_(theirs))
        .order_by(DocumentVersion.attachment_id)
    ):
        by_document.setdefault(document_id, []).append(attachment_id)
    return {
        attachment_id: Version(document_id, number, len(versions))
        for document_id, versions in by_document.items() if len(versions) > 1
        for number, attachment_id in enumerate(versions, start=1) if attachment_id in ids
    }


def carried(session: Session, reader: User, posts: Iterable[int], comments: Iterable[int]) -> dict[tuple[str, int], list[Entry]]:
    """The documents (not photos or videos) that each of `posts` carries itself and each of `comments` carries,
    keyed `("post", id)` or `("comment", id)`, each as its entry, for a list of items: two queries whatever
    the number of items. Only what `reader` may see."""
    posts, comments = set(posts), set(comments)
    if not posts and not comments:
        return {}
    own = (Attachment.post_id.in_(posts) & Attachment.comment_id.is_(None)) if posts else false()
    rows = session.execute(
        select(Attachment.post_id, Attachment.comment_id, DocumentVersion.document_id)
        .join(DocumentVersion, DocumentVersion.attachment_id == Attachment.id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.name_key.is_not(None), or_(own, Attachment.comment_id.in_(comments)))
        .order_by(Attachment.id)
    ).all()
    entries, _ = visible_entries(session, reader, {document_id for _, _, document_id in rows}, set())
    found: dict[tuple[str, int], list[Entry]] = {}
    for post_id, comment_id, document_id in rows:
        key = ("comment", comment_id) if comment_id is not None else ("post", post_id)
        if document_id in entries and entries[document_id] not in found.get(key, []):
            found.setdefault(key, []).append(entries[document_id])
    return found


def visible_entries(
    session: Session, reader: User, document_ids: set[int], attachment_ids: set[int]
) -> tuple[dict[int, Entry], dict[int, int]]:
    """For links in a text: the documents among `document_ids`, and those of the attachments among
    `attachment_ids`, that `reader` may see, as entries by document id; and the document id of each of those
    attachments. What `reader` may not see is simply not there."""
    if not document_ids and not attachment_ids:
        return {}, {}
    of_attachments = (
        dict(
            session.execute(
                select(DocumentVersion.attachment_id, DocumentVersion.document_id).where(
                    DocumentVersion.attachment_id.in_(attachment_ids)
                )
            ).all()
        )
        if attachment_ids
        else {}
    )
    wanted = document_ids | set(of_attachments.values())
    current = _current_versions(Document.id.in_(wanted), Document.group_id.in_(visible_group_ids(reader)))
    rows = session.execute(
        _with_people(select(current.c.document_id, current.c.versions, Attachment))
        .join(Attachment, Attachment.id == current.c.attachment_id)
        .options(selectinload(Attachment.post).selectinload(Post.group))
    ).all()
    entries = {document_id: Entry(document_id, version, count) for document_id, count, version in rows}
    return entries, {a: d for a, d in of_attachments.items() if d in entries}
