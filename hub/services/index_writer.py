"""The indexer's work: building the index's documents from the database and writing them.

Only the indexer process (`plein indexer`, the one consumer of the index queue) and `plein
reindex` import this module; writers mark their changes with `hub.services.indexing`. The
flush takes the pending rows in batches and writes each batch with one Tantivy commit, at
most one commit per `PLEIN_INDEX_COMMIT_INTERVAL`; many flushes queued during a burst coalesce
into the first, which drains everything. A row is deleted only after its commit, and only if
it was not marked again meanwhile.

A post is always indexed whole: the post, its comments and the text of its attachments, so
one mark covers creation, edits, new comments and deletion. People and groups are items too.
A person's item carries their profile and what they are learned to know about: the titles
and #tags of posts they wrote and of threads they answered, in public groups only, so the
item that everyone may find reveals nothing of a private group. A thread's writers are
indexed again with it.

An attachment's text is read once and kept on its row, but never by the flush: a file crafted
to keep pypdf busy, or a scan that Tesseract reads for ten seconds, would hold back every post
behind it. A new attachment is indexed by its name at first; once its batch is committed, the
flush hands the files waiting to the extraction lane (`READ_TASK`, on a queue of its own with
a worker of its own), which reads each in a child process under `PLEIN_EXTRACT_TIME_LIMIT`
(`PLEIN_OCR_TIME_LIMIT` for an image) and `PLEIN_EXTRACT_MEMORY_LIMIT` (search/extractor.py),
keeps the text and marks the post again, so a later flush indexes it. The lane only reads
files and writes rows: the index keeps its one writer. A file that fails keeps no text and the
reason in `attachments.extraction_error`: it stays findable by its name, and its author sees why.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import Context
from hub.models import Attachment, Comment, Group, GroupKind, IndexPending, Post, User
from hub.models.content import headline_of
from hub.services import profiles
from hub.services.attachments import PHOTO, media_kind, read_blob
from hub.services.indexing import PENDING_KINDS, mark
from hub.services.tags import find_tags, post_tags
from hub.settings import Settings
from search import EVERYONE, IndexedItem
from search.extraction import can_extract, needs_ocr
from search.extractor import Extraction, extract_within
from search.index import Changes

FLUSH_BATCH = 500
"""Pending rows taken, built and committed together; bounds the flush's memory."""
REINDEX_POSTS = 500
"""Posts a rebuild reads at a time, with their comments and documents."""
REINDEX_PEOPLE = 200
"""People a rebuild reads at a time."""
SMALLEST_PHOTO_FOUND = 20_000
"""Bytes below which a photo without words in it is left out of search: the logos and icons signatures carry."""

READ_TASK = "plein.extract.read"
"""The extraction lane's task: read the text of some attachments, given by id."""

log = logging.getLogger(__name__)

LEARNED_FROM_POSTS = 50
"""How many of a person's newest posts, and of the threads they answered, teach their expertise."""


def read_document(settings: Settings, filename: str, content_type: str, data: bytes | None) -> Extraction:
    """The text of one attached file, read in the extraction child within the configured limits."""
    if data is None:
        extraction = Extraction("", "its file could not be read")
    else:
        seconds = settings.ocr_time_limit if needs_ocr(content_type, filename) else settings.extract_time_limit
        extraction = extract_within(data, content_type, filename, seconds, settings.extract_memory_limit)
    if extraction.failure is not None:
        log.warning("no text from the attachment %r (%s): %s", filename, content_type, extraction.failure)
    return extraction


def _keep(attachment: Attachment, extraction: Extraction) -> None:
    attachment.extracted_text = extraction.text
    attachment.extraction_error = None if extraction.failure is None else extraction.failure[:200]


def _blob(attachment: Attachment) -> bytes | None:
    if not can_extract(attachment.content_type, attachment.filename):
        return b""  # no text to read: a 500 MB video is not loaded into the indexer's memory for nothing
    try:
        return read_blob(attachment)
    except OSError:
        return None


def read_documents(context: Context, unread: Collection[int]) -> None:
    """Read and keep the text of the attachments `unread`, and mark their posts to be indexed again: the extraction lane.

    The database is not held while a file is read: each attachment is looked up in one short
    transaction and its text kept in another, which marks its post, so each text is searchable
    as soon as it is read. One deleted or read meanwhile is passed over: the task may run twice.
    """
    transaction = context.session_scope
    for attachment_id in unread:
        with transaction() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None or attachment.extracted_text is not None:
                continue
            found = attachment.filename, attachment.content_type, _blob(attachment)
        extraction = read_document(context.settings, *found)
        with transaction() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is not None and attachment.extracted_text is None:
                _keep(attachment, extraction)
                mark(session, "post", attachment.post_id)


@dataclass
class Threads:
    """The items of some posts, each post with its comments and documents, and who wrote in them."""

    items: dict[int, list[IndexedItem]] = field(default_factory=dict)
    """By post id; a post that no longer exists is absent."""
    writers: set[int] = field(default_factory=set)
    unread: dict[int, int] = field(default_factory=dict)
    """Attachments whose text was not read yet, indexed by name for now: their post ids, by attachment id."""


def thread_items(session: Session, post_ids: Collection[int]) -> Threads:
    """Every item of the posts `post_ids`, read with three queries however many posts there are."""
    threads = Threads()
    posts = session.execute(
        select(Post.id, Post.group_id, Group.slug, Post.title, Post.body_text, Post.created_at, Post.author_id,
               User.name, User.email)
        .join(Group, Group.id == Post.group_id).outerjoin(User, User.id == Post.author_id)
        .where(Post.id.in_(post_ids)).order_by(Post.id)
    ).all()
    comments = session.execute(
        select(Comment.id, Comment.post_id, Comment.body_text, Comment.created_at, Comment.author_id,
               User.name, User.email)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.post_id.in_(post_ids), Comment.removed_at.is_(None)).order_by(Comment.id)
    ).all()
    attachments = session.execute(
        select(Attachment.id, Attachment.post_id, Attachment.comment_id, Attachment.filename,
               Attachment.content_type, Attachment.size, Attachment.created_at, Attachment.extracted_text,
               Attachment.caption)
        .where(Attachment.post_id.in_(post_ids)).order_by(Attachment.id)
    ).all()
    with_attachments = {a.post_id for a in attachments}
    comments_with_attachments = {a.comment_id for a in attachments}
    # An anonymous item has no author row: it is indexed with no author, so neither `from:` nor the author facet
    # finds it, and its files name no one either.
    owners = {c.id: (c.name or "", c.email or "") for c in comments}
    by_post = {}
    for post in posts:
        by_post[post.id] = post
        if post.author_id is not None:
            threads.writers.add(post.author_id)
        threads.items[post.id] = [IndexedItem(
            kind="post" if post.title else "status", id=post.id, post_id=post.id, group_id=post.group_id, title=post.title,
            body=post.body_text, author_name=post.name or "", author_email=post.email or "",
            created_at=post.created_at, group_slug=post.slug, has_attachment=post.id in with_attachments,
            tags=tuple(post_tags(post.title, post.body_text)),
        )]
    for comment in comments:
        post = by_post[comment.post_id]
        if comment.author_id is not None:
            threads.writers.add(comment.author_id)
        threads.items[post.id].append(IndexedItem(
            kind="comment", id=comment.id, post_id=post.id, group_id=post.group_id,
            title=f"Re: {headline_of(post.title, post.body_text)}", body=comment.body_text,
            author_name=comment.name or "", author_email=comment.email or "", created_at=comment.created_at, group_slug=post.slug,
            has_attachment=comment.id in comments_with_attachments, tags=tuple(find_tags(comment.body_text)),
        ))
    for attachment in attachments:
        post = by_post[attachment.post_id]
        text = attachment.extracted_text
        if text is None and can_extract(attachment.content_type, attachment.filename):
            threads.unread[attachment.id] = post.id
        text = "\n".join(part for part in (attachment.caption, text) if part)  # a photo is found by its caption
        kind = media_kind(attachment.content_type, attachment.filename)
        if kind != PHOTO or text.strip() or attachment.size >= SMALLEST_PHOTO_FOUND:
            name, email = owners.get(attachment.comment_id, (post.name or "", post.email or ""))
            threads.items[post.id].append(IndexedItem(
                kind=kind, id=attachment.id, post_id=post.id, group_id=post.group_id,
                title=attachment.filename, body=text, author_name=name, author_email=email,
                created_at=attachment.created_at, group_slug=post.slug, has_attachment=True,
            ))
    return threads


def learned_expertise(session: Session, user: User) -> str:
    """Titles and #tags of the public posts `user` wrote or answered, newest first, with the #tags of their own
    answers: what they know about."""
    public = select(Group.id).where(Group.is_private.is_(False))
    wrote = (
        select(Post.title, Post.body_text)
        .where(Post.author_id == user.id, Post.group_id.in_(public))
        .order_by(Post.id.desc())
        .limit(LEARNED_FROM_POSTS)
    )
    lines = [f"{title} {_hashtags(body)}".strip() for title, body in session.execute(wrote)]
    threads = (
        select(Post.id)
        .join(Comment, Comment.post_id == Post.id)
        .where(Comment.author_id == user.id, Comment.removed_at.is_(None), Post.group_id.in_(public))
        .group_by(Post.id)
        .order_by(Post.id.desc())
        .limit(LEARNED_FROM_POSTS)
    )
    answered = (
        select(Post.id, Post.title, Post.body_text, Comment.body_text)
        .join(Comment, Comment.post_id == Post.id)
        .where(Post.id.in_(threads), Comment.author_id == user.id, Comment.removed_at.is_(None))
        .order_by(Post.id.desc(), Comment.id)
    )
    thread_lines: dict[int, list[str]] = {}
    for post_id, title, body, answer in session.execute(answered):
        thread_lines.setdefault(post_id, [title, _hashtags(body)]).append(_hashtags(answer))
    lines += [" ".join(part for part in parts if part) for parts in thread_lines.values()]
    return "\n".join(lines)


def _hashtags(text: str) -> str:
    return " ".join(word for word in text.split() if word.startswith("#"))


def item_for_person(session: Session, user: User) -> IndexedItem:
    about = " · ".join(part for part in (user.job_title, user.department) if part)
    tags = profiles.expertise_tags(user.expertise)
    body = "\n".join(part for part in (about, ", ".join(tags), user.bio) if part)
    learned = learned_expertise(session, user)
    profile = (("expertise", ", ".join(tags)), ("department", user.department), ("job_title", user.job_title),
               ("bio", user.bio), ("learned_expertise", learned))
    return IndexedItem(
        kind="person", id=user.id, post_id=0, group_id=EVERYONE, title=user.name, body=body,
        author_name=user.name, author_email=user.email, created_at=user.created_at,
        tags=tuple(tags), extra=learned, profile=tuple(part for part in profile if part[1]),
    )


def item_for_group(group: Group) -> IndexedItem:
    return IndexedItem(
        kind="group", id=group.id, post_id=0, group_id=group.id, title=group.name,
        body=group.description, author_name="", author_email="", created_at=group.created_at,
        group_slug=group.slug,
    )


@dataclass
class Batch:
    """Pending rows taken together, and the changes to the index they stand for."""

    taken: list[tuple[str, int, int]]
    """`(kind, item_id, version)` of each row, as read."""
    posts: dict[int, list[IndexedItem]] = field(default_factory=dict)
    items: dict[tuple[str, int], IndexedItem] = field(default_factory=dict)
    gone: set[tuple[str, int]] = field(default_factory=set)
    unread: dict[int, int] = field(default_factory=dict)
    """Attachments of these posts whose text is still to be read: their post ids, by attachment id."""


def take_batch(session: Session, limit: int = FLUSH_BATCH) -> Batch:
    """The oldest `limit` pending rows, with every item they change built from the database."""
    rows = session.execute(
        select(IndexPending.kind, IndexPending.item_id, IndexPending.version)
        .order_by(IndexPending.queued_at, IndexPending.kind, IndexPending.item_id)
        .limit(limit)
    ).all()
    batch = Batch(taken=[tuple(row) for row in rows])
    wanted = {kind: sorted(item_id for k, item_id, _ in batch.taken if k == kind) for kind in PENDING_KINDS}
    _build(session, batch, wanted["post"], wanted["person"], wanted["group"])
    return batch


def _build(session: Session, batch: Batch, post_ids: list[int], person_ids: list[int], group_ids: list[int]) -> None:
    """Fill `batch` with the items of these posts, people and groups as the database has them now."""
    threads = thread_items(session, post_ids)
    batch.posts = {post_id: threads.items.get(post_id, []) for post_id in post_ids}
    batch.unread = threads.unread
    # The people who wrote in the threads are indexed again too: their expertise grew.
    people = {*person_ids, *threads.writers}
    # An external author of an imported archive is no person to find: from a private group's archive, that they
    # exist would tell of it. What they wrote is found with its thread, by who may see it.
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(people), ~User.external))}
    for user_id in sorted(people):
        if user_id in users:
            batch.items["person", user_id] = item_for_person(session, users[user_id])
        else:
            batch.gone.add(("person", user_id))
    groups = {group.id: group for group in session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    for group_id in group_ids:
        if group_id in groups:
            batch.items["group", group_id] = item_for_group(groups[group_id])
        else:
            batch.gone.add(("group", group_id))


def forget(session: Session, batch: Batch) -> None:
    """Delete the rows of an indexed batch, except those marked again since they were taken."""
    table = IndexPending.__table__
    if batch.taken:
        session.execute(
            delete(table).where(and_(
                table.c.kind == bindparam("k"), table.c.item_id == bindparam("i"), table.c.version == bindparam("v"),
            )),
            [{"k": kind, "i": item_id, "v": version} for kind, item_id, version in batch.taken],
        )


def flush(context: Context, *, batch_size: int = FLUSH_BATCH) -> int:
    """Index every pending item, batch after batch, one commit each; returns how many rows were indexed.

    A batch is read and built in one transaction (`context.session_scope`), committed to the
    context's index, and forgotten in the next, so the database is never locked while
    the index commits. A crash between the two leaves rows that are indexed again, which
    changes nothing; an item marked again meanwhile keeps its row for the next batch.
    """
    transaction, index = context.session_scope, context.index
    interval = context.settings.index_commit_interval
    flushed = 0
    while True:
        with transaction() as session:
            if session.scalar(select(IndexPending.kind).limit(1)) is None:
                return flushed
        # Waiting before taking the batch lets what changes meanwhile ride along in this commit.
        time.sleep(max(0.0, index.last_commit + interval - time.monotonic()))
        with transaction() as session:
            batch = take_batch(session, batch_size)
        if not batch.taken:
            return flushed
        index.write(batch.posts, batch.items.values(), batch.gone)
        with transaction() as session:
            if batch.unread:
                jobs.after_commit(session, READ_TASK, sorted(batch.unread))
            forget(session, batch)
        flushed += len(batch.taken)


def count_items(session: Session) -> int:
    """How many items a full reindex writes, near enough for a progress bar."""
    counted = (Post.id, Comment.id, Attachment.id, User.id, Group.id)
    return sum(session.scalar(select(func.count(column))) or 0 for column in counted)


def reindex(context: Context, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database and swap it in; returns the number of items indexed.

    The new index is written beside the current one, which answers searches and takes the
    indexer's flushes meanwhile; what those flushes wrote is read again before the swap
    (`SearchIndex.rebuild`). Each chunk is read in a transaction of its own, so the rebuild
    holds no snapshot of the database for its whole length.
    """
    return context.index.rebuild(
        _all_items(context), progress=progress, catch_up=functools.partial(_read_again, context)
    )


def _all_items(context: Context) -> Iterator[IndexedItem]:
    transaction = context.session_scope
    with transaction() as session:
        found = [item_for_group(group) for group in session.scalars(select(Group).where(Group.kind == GroupKind.GROUP).order_by(Group.id))]
    yield from found
    after = 0
    while True:
        with transaction() as session:
            users = session.scalars(select(User).where(User.id > after).order_by(User.id).limit(REINDEX_PEOPLE)).all()
            found = [item_for_person(session, user) for user in users if not user.external]
            after = users[-1].id if users else None
        if after is None:
            break
        yield from found
    after = 0
    while True:
        with transaction() as session:
            post_ids = session.scalars(
                select(Post.id).where(Post.id > after).order_by(Post.id).limit(REINDEX_POSTS)
            ).all()
            for attachment in session.scalars(
                select(Attachment).where(Attachment.post_id.in_(post_ids), Attachment.extracted_text.is_(None))
            ):
                found = attachment.filename, attachment.content_type, _blob(attachment)
                _keep(attachment, read_document(context.settings, *found))
            threads = thread_items(session, post_ids)
        if not post_ids:
            return
        for post_id in post_ids:
            yield from threads.items.get(post_id, [])
        after = post_ids[-1]


def _read_again(context: Context, post_ids: set[int], keys: set[tuple[str, int]]) -> Changes:
    """The items the indexer wrote while a rebuild ran, as the database has them now."""
    batch = Batch(taken=[])
    with context.session_scope() as session:
        _build(
            session, batch, sorted(post_ids),
            sorted(id for kind, id in keys if kind == "person"), sorted(id for kind, id in keys if kind == "group"),
        )
    return Changes(batch.posts, list(batch.items.values()), batch.gone)
