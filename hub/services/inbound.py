"""Mail in: accept a message durably, then turn it into a post, a comment, or a refusal.

`store_inbound` runs while the SMTP client waits: it writes the raw bytes to disk with
fsync and records them before the server answers 250. `process_inbound` runs later in a
worker; whatever it decides is written on the record, so nothing accepted is ever dropped
silently, and running it twice changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import context_of
from hub.models import (
    Comment,
    Group,
    GroupKind,
    ImapMailbox,
    ImapMessage,
    InboundMessage,
    InboundStatus,
    Post,
    User,
    utcnow,
)
from hub.services import (
    accounts,
    addresses,
    anonymity,
    bounces,
    commands,
    groups,
    loops,
    moderation,
    reactions,
    subscriptions,
)
from hub.services.errors import Invalid, NotFound, PleinError
from hub.services.message_ids import parse_message_id
from hub.services.publishing import Outcome, publish
from hub.services.raw_mail import keep_raw, read_raw
from mailgateway.addresses import ANONYMOUS, BOUNCES, Route, route
from mailgateway.message import ParsedMessage
from mailgateway.replies import thread_subject
from mailgateway.timebox import ParseTimeout, parse_within


def accepts_recipient(session: Session, address: str) -> bool:
    """Whether mail to `address` has somewhere to go; asked at RCPT time."""
    destination = route(address, context_of(session).settings.mail_domain)
    if destination is None:
        return False
    if destination.kind in ("group", ANONYMOUS):
        return session.scalar(select(Group.id).where(Group.slug == destination.value)) is not None
    if destination.kind == "reply":
        return addresses.token_parts(session, "reply", destination.value) is not None
    if destination.kind == "unsubscribe":
        return subscriptions.is_unsubscribe_token(session, destination.value)
    if destination.kind == "replies-off":
        return addresses.token_parts(session, "replies-off", destination.value) is not None
    if destination.kind == "command":
        return session.scalar(select(Group.id).where(Group.slug == destination.value)) is not None
    if destination.kind == "confirm":
        return addresses.token_parts(session, "confirm", destination.value) is not None
    if destination.kind in (moderation.APPROVE, moderation.REJECT):
        return addresses.token_parts(session, destination.kind, destination.value) is not None
    return destination.kind == BOUNCES


def sent_anonymously(session: Session, inbound: InboundMessage) -> bool:
    """Whether the mail went to a group's anonymous address: its raw text names its sender, so no page shows it
    (`plein anonymous reveal` is the one way to learn who wrote an anonymous item)."""
    domain = context_of(session).settings.mail_domain
    return any(found.kind == ANONYMOUS for found in _routes(inbound.recipients.splitlines(), domain))


def recipient_refusal(session: Session, address: str) -> str | None:
    """Why mail to `address` is refused although it goes somewhere, or None: a group that was archived,
    or a reply into one. Said at RCPT time, so the sender's server tells them at once."""
    destination = route(address, context_of(session).settings.mail_domain)
    group = None
    if destination is not None and destination.kind in ("group", "command", ANONYMOUS):
        group = session.scalar(select(Group).where(Group.slug == destination.value))
        if group is not None and destination.kind == ANONYMOUS and not anonymity.allows(group):
            return f"{group.slug} takes no anonymous mail: write to {group.slug}@ instead"
    elif destination is not None and destination.kind == "reply":
        parts = addresses.token_parts(session, "reply", destination.value)
        post = session.get(Post, parts[0]) if parts else None
        group = post.group if post else None
    if group is not None and destination.kind != "reply" and (personal := _personal(group)):
        return personal
    return _archived(group) if group is not None else None


def _personal(group: Group) -> str | None:
    """Why mail to a personal space's address is refused: it is a person's page, not a group to mail."""
    if group.kind != GroupKind.PERSONAL:
        return None
    return f"{group.slug} is the personal page of {group.name}, not a group: it takes no mail"


def _archived(group: Group) -> str | None:
    if group.archived_at is None:
        return None
    return f"the group {group.slug} is archived: it can still be read on the web, but takes no new mail"


def store_inbound(
    session: Session, raw: bytes, envelope_from: str, recipients: list[str]
) -> InboundMessage:
    """Keep the raw message on disk and on record; processing follows after commit."""
    return record_inbound(session, keep_raw(context_of(session).settings.data_dir, raw), raw, envelope_from, recipients)


def record_inbound(
    session: Session, relative: str, raw: bytes, envelope_from: str, recipients: list[str]
) -> InboundMessage:
    """Put a message kept at `relative` on record; processing follows after commit."""
    inbound = InboundMessage(
        message_id=_message_id(raw),
        envelope_from=envelope_from,
        recipients="\n".join(recipients),
        path=relative,
        size=len(raw),
        received_at=utcnow(),
    )
    session.add(inbound)
    session.flush()
    jobs.after_commit(session, "plein.inbound.process", inbound.id)
    return inbound


def mailbox_position(session: Session, mailbox_key: str, uidvalidity: int) -> int:
    """The last UID stored from a mailbox folder; a new UIDVALIDITY starts it again from 0."""
    mailbox = _mailbox(session, mailbox_key)
    if mailbox.uidvalidity != uidvalidity:
        mailbox.uidvalidity, mailbox.last_uid, mailbox.updated_at = uidvalidity, 0, utcnow()
        session.flush()
    return mailbox.last_uid


def store_from_mailbox(
    session: Session,
    mailbox_key: str,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    envelope_from: str,
    recipients: list[str],
) -> InboundMessage | None:
    """Store one message taken by IMAP and advance its mailbox, in the caller's transaction.

    Returns None when the message was stored before: a UID at or below the mark, or a
    message this mailbox already gave (same Message-ID or, without one, same bytes), as
    happens when a folder's UIDVALIDITY changes and it is read again from the start.
    """
    mailbox = _mailbox(session, mailbox_key)
    if mailbox.uidvalidity != uidvalidity:
        raise ValueError(f"{mailbox_key}: UIDVALIDITY {uidvalidity} is not the one on record")
    if uid <= mailbox.last_uid:
        return None
    mailbox.last_uid, mailbox.updated_at = uid, utcnow()
    key = _mailbox_message_key(raw)
    if session.scalar(
        select(ImapMessage.id).where(ImapMessage.mailbox_id == mailbox.id, ImapMessage.message_key == key)
    ):
        session.flush()
        return None
    stored = store_inbound(session, raw, envelope_from, recipients)
    session.add(ImapMessage(
        mailbox_id=mailbox.id, message_key=key, uidvalidity=uidvalidity, uid=uid, inbound_id=stored.id,
    ))
    session.flush()
    return stored


def _mailbox(session: Session, key: str) -> ImapMailbox:
    mailbox = session.scalar(select(ImapMailbox).where(ImapMailbox.key == key))
    if mailbox is None:
        mailbox = ImapMailbox(key=key, uidvalidity=0, last_uid=0)
        session.add(mailbox)
        session.flush()
    return mailbox


def _mailbox_message_key(raw: bytes) -> str:
    message_id = _message_id(raw)
    return hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()


def _message_id(raw: bytes) -> str | None:
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        return str(headers.get("Message-ID", "") or "").strip().strip("<>") or None
    except Exception:  # a header the parser chokes on must not keep the message from being stored
        return None


def process_inbound(session: Session, inbound_id: int) -> InboundMessage | None:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.status != InboundStatus.RECEIVED:
        return inbound
    try:
        outcomes = _outcomes(session, inbound)
    except ParseTimeout as error:
        mark_failed(session, inbound.id, f"quarantined: {error}")
        session.flush()
        return inbound
    inbound.status = _overall_status(outcomes)
    inbound.reason = "; ".join(outcome.reason for outcome in outcomes)
    inbound.processed_at = utcnow()
    session.flush()
    return inbound


HEADER_LIMIT = 64 * 1024
"""Bytes of header read before the body is parsed; mail clients write a few kB."""


def _outcomes(session: Session, inbound: InboundMessage) -> list[Outcome]:
    """What becomes of the message at each of its destinations.

    The envelope and the header are checked first: a crafted body can hold the parser for
    the whole time limit, so mail that goes nowhere, that a machine sent, or whose sender is
    no user is refused before its body is parsed, with the reason the whole message would
    have had. Only then is the whole message parsed, and `_deliver` decides from all of it.
    """
    settings = context_of(session).settings
    destinations = _routes(inbound.recipients.splitlines(), settings.mail_domain)
    if not destinations:
        return [Outcome(InboundStatus.REFUSED, "no recipient at this hub")]
    raw = read_raw(inbound)
    head = _header_block(raw)
    if head is None:
        return [Outcome(
            InboundStatus.REFUSED, f"its header is longer than {HEADER_LIMIT // 1024} kB, which no mail client writes",
        )]
    headers = parse_within(head, settings.parse_time_limit)
    refusals = [_refusal_by_header(session, inbound, headers, destination) for destination in destinations]
    if all(refusals):
        return refusals
    message = parse_within(raw, settings.parse_time_limit)
    if len(message.attachments) > settings.max_attachments:
        return [Outcome(
            InboundStatus.REFUSED,
            f"{len(message.attachments)} attachments; at most {settings.max_attachments} are taken per message",
        )]
    return [
        refusal or _deliver(session, inbound, message, destination)
        for refusal, destination in zip(refusals, destinations)
    ]


_LINE_END = rb"(?:\r\n|\r(?!\n)|\n)"
_HEADER_END = re.compile(_LINE_END * 2)  # an empty line: CRLF, CR or LF twice, as the `email` parser reads them


def _header_block(raw: bytes) -> bytes | None:
    """The message's header and the empty line that ends it (RFC 5322 section 2.1), or None
    when it does not end within `HEADER_LIMIT`. Leading blank lines are skipped, as the parser does."""
    raw = raw.lstrip(b"\r\n\t ")
    if end := _HEADER_END.search(raw, 0, HEADER_LIMIT):
        return raw[: end.end()]
    return raw if len(raw) <= HEADER_LIMIT else None


def _refusal_by_header(
    session: Session, inbound: InboundMessage, headers: ParsedMessage, destination: Route
) -> Outcome | None:
    """The refusal `_deliver` would give mail to `destination` that its envelope and header
    already decide, or None. Addresses that act without a sender (unsubscribe, bounces) are
    decided after the whole message is parsed, as everything else that may be taken."""
    if destination.kind in ("unsubscribe", "replies-off", BOUNCES):
        return None
    if noise := _noise(inbound, headers):
        return Outcome(InboundStatus.REFUSED, noise)
    if refusal := _sender_refusal(accounts.find_user(session, headers.from_address), headers.from_address):
        return Outcome(InboundStatus.REFUSED, refusal)
    if destination.kind in ("group", "command", ANONYMOUS):
        group = session.scalar(select(Group).where(Group.slug == destination.value))
        if group is None:
            return Outcome(InboundStatus.REFUSED, f"no group {destination.value}")
        if destination.kind == ANONYMOUS and not anonymity.allows(group):
            return Outcome(InboundStatus.REFUSED, f"{group.slug} takes no anonymous mail")
        if personal := _personal(group):
            return Outcome(InboundStatus.REFUSED, personal)
    return None


def _sender_refusal(sender: User | None, address: str) -> str | None:
    """Why mail from `address` is taken from no one, or None when `sender` may send it."""
    if sender is None:
        return f"sender {address or '(none)'} is not a user of this hub"
    if not accounts.is_active(sender):
        return f"sender {address} belongs to a former colleague"
    return None


def _routes(addresses: list[str], domain: str) -> list[Route]:
    found: list[Route] = []
    for address in addresses:
        destination = route(address, domain)
        if destination and destination not in found:
            found.append(destination)
    return found


def _overall_status(outcomes: list[Outcome]) -> InboundStatus:
    for status in (InboundStatus.POSTED, InboundStatus.HELD, InboundStatus.COMMAND, InboundStatus.DUPLICATE):
        if any(outcome.status == status for outcome in outcomes):
            return status
    return InboundStatus.REFUSED


def _deliver(
    session: Session, inbound: InboundMessage, message: ParsedMessage, destination: Route
) -> Outcome:
    if destination.kind == "unsubscribe":
        return _unsubscribe(session, destination.value)
    if destination.kind == "replies-off":
        return _stop_reply_mail(session, destination.value)
    if destination.kind == BOUNCES:
        return Outcome(InboundStatus.COMMAND, bounces.record_report(session, destination.value, read_raw(inbound)))
    if noise := _noise(inbound, message):
        return Outcome(InboundStatus.REFUSED, noise)
    sender = accounts.find_user(session, message.from_address)
    if refusal := _sender_refusal(sender, message.from_address):
        return Outcome(InboundStatus.REFUSED, refusal)
    if destination.kind in ("command", "confirm"):
        return _command(session, inbound, sender, destination)
    if destination.kind in (moderation.APPROVE, moderation.REJECT):
        return _moderate(session, inbound, message, sender, destination)
    if destination.kind == "reply":
        return _reply_by_token(session, inbound, message, sender, destination.value)
    group = session.scalar(select(Group).where(Group.slug == destination.value))
    if group is None:
        return Outcome(InboundStatus.REFUSED, f"no group {destination.value}")
    if personal := _personal(group):
        return Outcome(InboundStatus.REFUSED, personal)
    anonymous = destination.kind == ANONYMOUS
    if anonymous and not anonymity.allows(group):
        return Outcome(InboundStatus.REFUSED, f"{group.slug} takes no anonymous mail")
    post, parent = _thread(session, sender, group, message)
    return _publish_unless_screened(session, inbound, message, sender, group, post, parent, anonymous=anonymous)


def _thread(session: Session, sender: User, group: Group, message: ParsedMessage) -> tuple[Post | None, Comment | None]:
    """The thread in `group` a mail to its address answers, or none: a new post.

    Never a thread its sender may not see. A private group open to anyone or moderated takes
    mail from people who are not its members; what they name (a Message-ID, guessed or kept,
    or a title after `Re:`) starts a new thread instead, so neither the group nor the receipt
    or held notice ever tells them about it.
    """
    if not groups.can_see(session, sender, group):
        return None, None
    post, parent = _thread_target(session, message.thread_ids)
    if post is None or post.group_id != group.id:
        post, parent = _thread_by_subject(session, group, message), None
    return post, parent


def _publish_unless_screened(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, group: Group,
    post: Post | None, parent: Comment | None, *, anonymous: bool = False,
) -> Outcome:
    """Post or comment, unless a mail loop, the group's policy or an unverified From holds or refuses it.

    A comment over `hub.services.loops`' limits is refused before it could be held: a held
    notice, like a receipt, is mail back to the sender, and an autoresponder answers it.
    """
    if archived := _archived(group):
        return Outcome(InboundStatus.REFUSED, archived)
    if post is not None and not anonymous and (liked := _like_by_mail(session, inbound, message, sender, post, parent)):
        return liked
    if post is not None and (loop := loops.mail_comment_refusal(session, sender, post)):
        return Outcome(InboundStatus.REFUSED, loop)
    if screened := moderation.screen(session, inbound, message, sender, group, post, parent, anonymous=anonymous):
        return Outcome(screened.status, screened.reason)
    return publish(session, inbound, message, sender, group, post, parent, anonymous=anonymous)


def _like_by_mail(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, post: Post,
    parent: Comment | None,
) -> Outcome | None:
    """A reply that says only `+1` (`reactions.is_like`) is a like of what it answers, not a comment; None
    for any other reply. Only from a From that can be believed: an unverified one is screened as a comment is."""
    if message.attachments or not reactions.is_like(message.reply_text):
        return None
    if not moderation.verify_sender(inbound, message).trusted:
        return None
    item = parent or post
    what = f"comment {parent.id} on post {post.id}" if parent else f"post {post.id}"
    said = " ".join(message.reply_text.split())[:40]
    if reactions.react(session, sender, item, "like"):
        return Outcome(InboundStatus.COMMAND, f"a like of {what} from {sender.email} (the reply said only {said!r})")
    return Outcome(InboundStatus.DUPLICATE, f"{sender.email} liked {what} already (the reply said only {said!r})")


def _noise(inbound: InboundMessage, message: ParsedMessage) -> str:
    """Why a mail must not become a post wherever it is addressed (a loop, a machine, two titles), or ""."""
    domain = context_of(inbound).settings.mail_domain.lower()
    if message.malformed:
        return f"mail that reads two ways is not posted: {message.malformed}"
    if message.list_id == domain or message.list_id.endswith("." + domain):
        return f"mail carrying this hub's own List-Id {message.list_id} is not posted (a mail loop)"
    if domain in message.loops:
        return f"mail carrying this hub's own X-Loop {domain} is not posted (a mail loop)"
    if message.auto_reason:
        return f"automatic mail is not posted: {message.auto_reason}"
    if inbound.envelope_from.lower().partition("@")[0] in {"mailer-daemon", "postmaster"}:
        return f"automatic mail is not posted: sent by {inbound.envelope_from}"
    return ""


def _command(session: Session, inbound: InboundMessage, sender: User, destination: Route) -> Outcome:
    """A command asks for a confirmation mail; a reply to that mail carries the command out."""
    try:
        if destination.kind == "confirm":
            return Outcome(InboundStatus.COMMAND, commands.confirm_command(session, sender, destination.value))
        group = session.scalar(select(Group).where(Group.slug == destination.value))
        if group is None:
            return Outcome(InboundStatus.REFUSED, f"no group {destination.value}")
        return Outcome(InboundStatus.COMMAND, commands.request_command(
            session, sender, group, destination.command, key=f"{inbound.id}:{group.slug}+{destination.command}",
        ))
    except PleinError as refused:
        return Outcome(InboundStatus.REFUSED, str(refused))


def _reply_by_token(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, token: str
) -> Outcome:
    parts = addresses.token_parts(session, "reply", token)
    post = session.get(Post, parts[0]) if parts else None
    if post is None:
        return Outcome(InboundStatus.REFUSED, "the reply address is not valid or its post is gone")
    # A reply address is made for one recipient (post, comment, user). Mail to it from anyone
    # else is refused rather than posted as its own sender: it may be a forward, or a spoof.
    if len(parts) < 3 or parts[2] != sender.id:
        return Outcome(
            InboundStatus.REFUSED,
            f"the reply address was made for someone else; {sender.email} may write to the group address instead",
        )
    group = post.group
    if not groups.can_see(session, sender, group):
        # Made while they were a member: what they send now starts a thread, as mail to the
        # group's address would (if its policy takes their mail at all).
        return _publish_unless_screened(session, inbound, message, sender, group, None, None)
    parent = session.get(Comment, parts[1]) if parts[1] else None
    if parent is not None and parent.post_id != post.id:
        parent = None
    return _publish_unless_screened(session, inbound, message, sender, group, post, parent)


def _moderate(
    session: Session, inbound: InboundMessage, message: ParsedMessage, sender: User, destination: Route
) -> Outcome:
    """A moderator's answer to a moderation mail: a reply approves, mail to the reject address rejects."""
    verdict = moderation.verify_sender(inbound, message)
    if not verdict.trusted:
        return Outcome(InboundStatus.REFUSED, f"a moderation answer needs a verified From: {verdict.reason}")
    try:
        return Outcome(InboundStatus.COMMAND, moderation.decide_by_mail(session, sender, destination.kind,
                                                                        destination.value))
    except PleinError as refused:
        return Outcome(InboundStatus.REFUSED, str(refused))


SUBJECT_THREAD_DAYS = 30


def _thread_by_subject(session: Session, group: Group, message: ParsedMessage) -> Post | None:
    """The group's recent post a reply names by subject alone, when its headers named none here.

    Only a subject with a reply or forward prefix (or a mail whose In-Reply-To or References
    pointed elsewhere) is taken as an answer: a new mail titled like an old post stays new.
    """
    subject, prefixed = thread_subject(message.subject)
    if not subject or not (prefixed or message.thread_ids):
        return None
    recent = session.scalars(
        select(Post)
        .where(Post.group_id == group.id, Post.created_at >= utcnow() - timedelta(days=SUBJECT_THREAD_DAYS))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(500)
    )
    return next((post for post in recent if thread_subject(post.title)[0] == subject), None)


def _thread_target(session: Session, thread_ids: list[str]) -> tuple[Post | None, Comment | None]:
    """The post (and comment) a mail answers, from the ids it names, nearest first.

    Ids may be those of mails Plein sent (`hub.services.message_ids`: this installation's, and
    those sent before Message-IDs carried an installation's part, as people still answer
    them) or of the mails that made a post or comment.
    """
    for message_id in thread_ids:
        if own := parse_message_id(session, message_id):
            kind, number = own
            if kind == "post" and (post := session.get(Post, number)):
                return post, None
            if kind == "comment" and (comment := session.get(Comment, number)):
                return comment.post, comment
            continue
        if comment := session.scalar(select(Comment).where(Comment.message_id == message_id).limit(1)):
            return comment.post, comment
        if post := session.scalar(select(Post).where(Post.message_id == message_id).limit(1)):
            return post, None
    return None, None


def _unsubscribe(session: Session, token: str) -> Outcome:
    try:
        stopped = subscriptions.unsubscribe(session, token)
    except NotFound as error:
        return Outcome(InboundStatus.REFUSED, str(error))
    slugs = ", ".join(membership.group.slug for membership in stopped)
    return Outcome(InboundStatus.COMMAND, f"{stopped[0].user.email} gets no more mail from {slugs}")


def _stop_reply_mail(session: Session, token: str) -> Outcome:
    try:
        user = subscriptions.stop_reply_notifications(session, token)
    except NotFound as error:
        return Outcome(InboundStatus.REFUSED, str(error))
    return Outcome(InboundStatus.COMMAND, f"{user.email} gets no more mail about answers")


def mark_failed(session: Session, inbound_id: int, reason: str) -> None:
    """Record that processing kept failing, so the message shows up instead of vanishing."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is not None and inbound.status == InboundStatus.RECEIVED:
        inbound.status = InboundStatus.FAILED
        inbound.reason = reason[:2000]
        inbound.processed_at = utcnow()


def list_inbound(session: Session, status: InboundStatus, limit: int = 50) -> list[InboundMessage]:
    """The newest messages with `status`, newest first: the quarantine when `status` is FAILED."""
    return list(session.scalars(
        select(InboundMessage).where(InboundMessage.status == status)
        .order_by(InboundMessage.id.desc()).limit(limit)
    ))


def get_inbound(session: Session, inbound_id: int) -> InboundMessage:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise NotFound("no inbound message %(inbound_id)s", inbound_id=inbound_id)
    return inbound


def retry_inbound(session: Session, inbound_id: int) -> InboundMessage:
    """Process a failed or refused message again, from its raw bytes, after commit."""
    inbound = get_inbound(session, inbound_id)
    if inbound.status not in (InboundStatus.FAILED, InboundStatus.REFUSED, InboundStatus.RECEIVED):
        raise Invalid("inbound message %(inbound_id)s is %(status)s already: %(reason)s", inbound_id=inbound_id, status=inbound.status.value, reason=inbound.reason)
    inbound.status, inbound.reason, inbound.processed_at = InboundStatus.RECEIVED, "", None
    session.flush()
    jobs.after_commit(session, "plein.inbound.process", inbound.id)
    return inbound


def requeue_stalled(session: Session, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Hand messages still waiting after `older_than` to the workers again (a lost job, a crash).

    Only when the workers have caught up with the mail: while messages wait in the inbound
    queue, one still waiting may simply be behind them, and handing out the whole backlog
    again on every sweep would grow the queue faster than the workers can empty it.
    """
    if jobs.queue_depths(context_of(session).jobs)[jobs.INBOUND_QUEUE]:
        return 0
    stalled = session.scalars(
        select(InboundMessage.id).where(
            InboundMessage.status == InboundStatus.RECEIVED,
            InboundMessage.received_at < utcnow() - older_than,
        )
    ).all()
    for inbound_id in stalled:
        jobs.after_commit(session, "plein.inbound.process", inbound_id)
    return len(stalled)
