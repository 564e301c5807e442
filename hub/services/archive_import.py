"""Old group mail brought in from an archive (`plein import`): each message a post or a comment, as if it came now.

Each message goes the way mail arriving now goes: parsed and trimmed under the parse time limit
(`mailgateway.timebox`), made a post or comment with its attachments and formatting by
`hub.services.publishing`, but `from_archive` (`hub.services.posts.FromArchive`): with its
original date, and nobody is told (no mail to readers, no receipt, no digest, no notification).
Threads are rebuilt by `hub.services.archive_threads`.

Authors are matched to people by address; an unknown sender becomes an external author: a user
who is deactivated from the start (never signs in, never mailed), named as the mail named them,
whom `merge_external` later folds into a person.

Running an import twice adds nothing: a message the group has (by Message-ID, or by a hash of the
message where it has none) is a duplicate. Messages are committed in batches of `BATCH`, each in a
savepoint of its own, so a message that fails leaves nothing behind and the rest goes on. The posts
are made in their group, with its privacy, so nothing is listed or found but by its members, from
the first batch on; the search index takes them in bulk through the pending rows it already reads.
Each run is an `ArchiveImport` row, listed by `list_imports` and undone as a whole by `undo_import`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import Context, context_of
from hub.models import (
    ArchiveImport,
    Attachment,
    Comment,
    Follow,
    GroupKind,
    InboundStatus,
    Post,
    Reaction,
    User,
    utcnow,
)
from hub.services import accounts, attachments, groups, indexing
from hub.services.archive_threads import LateParents, already_taken, answered
from hub.services.errors import Invalid, NotFound, PleinError
from hub.services.posts import FromArchive
from hub.services.publishing import publish
from mailgateway.archives import ArchivedMail
from mailgateway.message import ParsedMessage
from mailgateway.timebox import ParseTimeout, parse_within

BATCH = 200
"""Messages committed together: a commit per message would cost more than the message."""
PARSE_AHEAD = 8
"""Messages handed to the parser child ahead of the one being written: it parses while this process writes."""
REFUSALS_KEPT = 1000
"""Refusals written on an import's record; the count goes on past them."""
HASHED_ID_DOMAIN = "archive.plein.invalid"
"""A message without a Message-ID is named `sha256-HASH@archive.plein.invalid` (RFC 2606: a name no one has)."""


@dataclass
class ImportReport:
    """What an import did, or would do (`dry_run`)."""

    import_id: int | None
    dry_run: bool
    imported: int = 0
    threaded: int = 0
    duplicates: int = 0
    refused: int = 0
    refusals: list[tuple[str, str]] = field(default_factory=list)
    """(where in the archive, why) of the first `REFUSALS_KEPT` refused messages."""
    external_authors: int = 0

    def refuse(self, position: str, reason: str) -> None:
        self.refused += 1
        if len(self.refusals) < REFUSALS_KEPT:
            self.refusals.append((position, reason))


Progress = Callable[[int, int], None]
"""Told after each message: how far the reader got (`ArchivedMail.read_up_to`), and how many messages were read."""


def import_archive(
    context: Context, group_slug: str, kind: str, source: str, mails: Iterable[ArchivedMail], *,
    dry_run: bool = False, progress: Progress | None = None,
) -> ImportReport:
    """Import `mails` into the group `group_slug`, recorded as an import of `kind` from `source`.

    A dry run does everything in one transaction that is rolled back at the end, and takes away the
    attachment files it added to the store: its report is what the import would do.
    """
    with context.session_scope() as session:
        record = _begin(session, group_slug, kind, source)
        report = ImportReport(None if dry_run else record.id, dry_run)
        run = _Run(session, record, report, dry_run)
        parsed = _parsed_ahead(mails, context.settings.parse_time_limit)
        for count, (mail, message) in enumerate(parsed, 1):
            run.take(mail, message)
            if count % BATCH == 0:
                run.end_batch()
            if progress:
                progress(mail.read_up_to, count)
        if dry_run:
            session.rollback()
            jobs.discard(session)
            run.forget_new_files()
        else:
            run.end_batch()
            record.finished_at = utcnow()
    return report


def _begin(session: Session, group_slug: str, kind: str, source: str) -> ArchiveImport:
    group = groups.get_group(session, group_slug)
    if group.kind == GroupKind.PERSONAL:
        raise Invalid("%(slug)s is a personal page, not a group: it takes no archive", slug=group.slug)
    record = ArchiveImport(group=group, kind=kind, source=source[:1000], refusals="")
    session.add(record)
    session.flush()
    return record


def _parsed_ahead(mails: Iterable[ArchivedMail], seconds: float) -> Iterator[tuple[ArchivedMail, ParsedMessage | str]]:
    """Each mail with its parsed message, or why it cannot be read; the next `PARSE_AHEAD` are parsed meanwhile.

    One thread waits on the parser child (`mailgateway.timebox`, a process of its own) while this one
    writes to the database: two cores busy instead of one, and at most `PARSE_AHEAD` messages held."""
    with ThreadPoolExecutor(1, thread_name_prefix="archive-parser") as parser:
        window: deque = deque()
        for mail in mails:
            window.append((mail, parser.submit(_parse, mail, seconds)))
            if len(window) > PARSE_AHEAD:
                ready, future = window.popleft()
                yield ready, future.result()
        while window:
            ready, future = window.popleft()
            yield ready, future.result()


def _parse(mail: ArchivedMail, seconds: float) -> ParsedMessage | str:
    if mail.raw is None:
        return mail.problem
    try:
        return parse_within(mail.raw, seconds)
    except ParseTimeout as error:
        return f"unreadable message: {error}"


class _Run:
    """One import's messages, taken one at a time in the session of the whole run."""

    def __init__(self, session: Session, record: ArchiveImport, report: ImportReport, dry_run: bool) -> None:
        self.session, self.record, self.report, self.dry_run = session, record, report, dry_run
        self.group_id = record.group_id
        self.context = context_of(session)
        self.settings = self.context.settings
        self.late = LateParents()
        self.authors: dict[str, int] = {}
        self.new_files: set[Path] = set()
        """Attachment files a dry run added to the store: none was there before it."""

    def take(self, mail: ArchivedMail, message: ParsedMessage | str) -> None:
        if isinstance(message, str):
            self.report.refuse(mail.position, message)
            return
        if refusal := self._refusal(message):
            self.report.refuse(mail.position, refusal)
            return
        message = _named(message, mail.raw)
        if already_taken(self.session, self.group_id, message.message_id):
            self.report.duplicates += 1
            return
        try:
            with self.session.begin_nested():
                self._publish(message)
        except PleinError as refused:
            self._forget_rolled_back()
            self.report.refuse(mail.position, f"not imported: {refused}"[:500])
        except Exception as error:  # one message's failure is reported with its place; the rest goes on
            self._forget_rolled_back()
            self.report.refuse(mail.position, f"unreadable message: {type(error).__name__}: {error}"[:500])

    def _forget_rolled_back(self) -> None:
        """An external author made for a message that was rolled back is gone with it: look authors up again."""
        self.authors.clear()

    def _refusal(self, message: ParsedMessage) -> str:
        if message.malformed:
            return f"a message that reads two ways: {message.malformed}"
        if message.date is None:
            return "no date"
        if not message.from_address:
            return "no sender address"
        if len(message.attachments) > self.settings.max_attachments:
            return f"{len(message.attachments)} attachments; at most {self.settings.max_attachments} are taken"
        return ""

    def _publish(self, message: ParsedMessage) -> None:
        group = self.record.group
        written_at = _utc(message.date)
        author = self._author(message)
        post, parent = answered(self.session, self.group_id, message, written_at)
        if self.dry_run:
            self._note_new_files(message)
        outcome = publish(
            self.session, None, message, author, group, post, parent,
            from_archive=FromArchive(self.record.id, written_at),
        )
        if outcome.status != InboundStatus.POSTED:
            raise Invalid(outcome.reason)
        made_post, made_comment = (outcome.made, None) if post is None else (post, outcome.made)
        self.report.imported += 1
        if made_comment is not None:
            self.report.threaded += 1
        elif message.thread_ids:
            self.late.wait(made_post, message)
        self.report.threaded += self.late.arrived(self.session, message.message_id, made_post, made_comment)

    def _note_new_files(self, message: ParsedMessage) -> None:
        for part in message.attachments:
            path = attachments.blob_path(self.settings.attachments_dir, hashlib.sha256(part.data).hexdigest())
            if not path.exists():
                self.new_files.add(path)

    def forget_new_files(self) -> None:
        for path in self.new_files:
            path.unlink(missing_ok=True)

    def _author(self, message: ParsedMessage) -> User:
        address = message.from_address
        if address in self.authors:
            return self.session.get(User, self.authors[address])
        author = accounts.find_user(self.session, address)
        if author is None:
            author = _external_author(self.session, address, message.from_name)
            self.report.external_authors += 1
        self.authors[address] = author.id
        return author

    def end_batch(self) -> None:
        """Commit what the batch made (a dry run only flushes), and write the counts on the record."""
        for name in ("imported", "threaded", "duplicates", "refused"):
            setattr(self.record, name, getattr(self.report, name))
        self.record.refusals = "\n".join(f"{where}\t{why}" for where, why in self.report.refusals)
        if self.dry_run:
            self.session.flush()
            return
        self.session.commit()
        jobs.send_committed(self.session, self.context.jobs)


def _named(message: ParsedMessage, raw: bytes) -> ParsedMessage:
    """`message` with a Message-ID: its own, or one made of a hash of its bytes, so a second import finds it."""
    if message.message_id:
        return message
    return dataclasses.replace(message, message_id=f"sha256-{hashlib.sha256(raw).hexdigest()}@{HASHED_ID_DOMAIN}")


def _utc(moment: datetime) -> datetime:
    """A mail's date in UTC; a date without a zone (`-0000`, RFC 5322 3.3) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _external_author(session: Session, address: str, name: str) -> User:
    try:
        author = accounts.create_user(session, address, name or address.partition("@")[0])
    except Invalid:
        raise Invalid("the sender %(address)s is not an email address", address=address) from None
    author.external, author.deactivated_at = True, utcnow()
    session.flush()
    return author


def list_imports(session: Session) -> list[ArchiveImport]:
    """Every import, newest first."""
    return list(session.scalars(select(ArchiveImport).order_by(ArchiveImport.id.desc())))


def undo_import(session: Session, import_id: int) -> ArchiveImport:
    """Take out everything import `import_id` made: its posts with their threads, its comments elsewhere, and
    the external authors who wrote nothing else.

    Their files go once nothing else names them, and the index forgets them. A post made by another
    import or written here that has comments of this one keeps its own words.
    """
    record = session.get(ArchiveImport, import_id)
    if record is None:
        raise NotFound("no import %(import_id)s", import_id=import_id)
    if record.undone_at is not None:
        raise Invalid("import %(import_id)s was undone already", import_id=import_id)
    post_ids = list(session.scalars(select(Post.id).where(Post.import_id == import_id)))
    comment_ids = list(session.scalars(
        select(Comment.id).where(Comment.import_id == import_id, Comment.post_id.not_in(post_ids))
    ))
    touched = set(session.scalars(select(Comment.post_id).where(Comment.id.in_(comment_ids))))
    attachments.release(session, session.scalars(select(Attachment).where(
        Attachment.post_id.in_(post_ids) | Attachment.comment_id.in_(comment_ids)
    )).all())
    for chunk in _chunks(comment_ids):
        session.execute(delete(Comment).where(Comment.id.in_(chunk)))
    for chunk in _chunks(post_ids):
        session.execute(delete(Post).where(Post.id.in_(chunk)))
    indexing.mark_many(session, "post", [*post_ids, *touched])
    session.execute(delete(User).where(
        User.external,
        ~select(Post.id).where(Post.author_id == User.id).exists(),
        ~select(Comment.id).where(Comment.author_id == User.id).exists(),
    ))  # external authors who wrote nothing that is left
    record.undone_at = utcnow()
    session.flush()
    return record


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for at in range(0, len(ids), size):
        yield ids[at: at + size]


def merge_external(session: Session, address: str, email: str) -> User:
    """Make everything the external author `address` wrote the person `email`'s, and forget the external author."""
    external = accounts.get_user(session, address)
    person = accounts.get_user(session, email)
    if not external.external:
        raise Invalid("%(address)s is a person, not an external author", address=external.email)
    if person.external or person.id == external.id:
        raise Invalid("%(email)s is not a person to merge into", email=person.email)
    threads = set(session.scalars(select(Post.id).where(Post.author_id == external.id)))
    threads |= set(session.scalars(select(Comment.post_id).where(Comment.author_id == external.id)))
    for model in (Post, Comment):
        session.execute(update(model).where(model.author_id == external.id).values(author_id=person.id))
    session.execute(delete(Reaction).where(Reaction.user_id == external.id))
    session.execute(delete(Follow).where(Follow.user_id == external.id))
    indexing.mark_many(session, "post", threads)
    indexing.mark(session, "person", person.id)
    indexing.mark(session, "person", external.id)
    session.delete(external)
    session.flush()
    return person
