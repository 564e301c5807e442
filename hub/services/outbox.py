"""Mail out: every message is recorded in the outbox table first, then handed to a transport.

The transport is the smarthost when `PLEIN_SMARTHOST` is set (one SMTP connection per batch,
STARTTLS when offered, login when configured), else a Maildir under `PLEIN_DATA_DIR/outbox/`
where a person (or a test) can read what Plein would have sent. A message's `key` names
what it is (`post:12:to:5`), so queueing it twice queues it once.

Sending is `drain`: it claims a batch of due rows with a lease (one UPDATE, so two workers
never take the same row), sends them over one connection, and commits each outcome as soon
as the relay answers. A worker killed mid-batch leaves its claimed rows queued; they are due
again when the lease runs out, so nothing is lost, and nothing the relay accepted is sent
again. Connection errors and 4xx answers are retried with exponential backoff, 5xx answers
are final (RFC 5321, 4.2.1). The envelope sender is `bounces+TOKEN@domain` (VERP): the
signed token names the row, so a delivery report is tied to its recipient.

Every line Plein sends ends in one way: a lone CR in a post (typed on the web, or `=0D` in
mail that came in) would otherwise reach the relay as `<CR>.<CR><LF>`, which some servers
read as the end of DATA and the rest as commands of their own (SMTP smuggling). Every mail
carries `X-Loop: DOMAIN`, so one that comes back is known as Plein's own.
"""

from __future__ import annotations

import binascii
import mailbox
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import Context
from hub.models import OutgoingMail, OutgoingStatus, utcnow
from hub.services import accounts, addresses, bounces
from hub.settings import Settings
from mailgateway.addresses import BOUNCES

MAX_ATTEMPTS = 10
BOUNCED = "not sent: mail to this address bounced; waiting for its owner to confirm it"
FORMER_COLLEAGUE = "not sent: this address belongs to a former colleague"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)

_LINE_END = re.compile(r"\r\n|\r|\n")
_WIRE_LINE_END = re.compile(rb"\r\n|\r|\n")


def one_line(value: str) -> str:
    """A header value that can never start a new header: CR, LF and runs of space collapsed."""
    return " ".join(value.split())


@dataclass(frozen=True)
class Composed:
    """A message ready for the outbox: its one recipient and its bytes."""

    recipient: str
    data: bytes


def compose(
    *,
    subject: str,
    sender: tuple[str, str],
    recipient: tuple[str, str],
    text: str,
    html: str,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Composed:
    """A multipart/alternative message with a plain-text and an HTML part.

    `sender` and `recipient` are (display name, address) pairs. Every header value is made
    one line first, then encoded (RFC 2047) and folded, so no value can start a header of its
    own. Written here rather than with `email.message.EmailMessage`, which is several times
    slower: a digest run composes thousands of these. Plein sends from its own addresses only,
    so the sender's domain is its mail domain, for the Message-ID and X-Loop.
    """
    domain = one_line(sender[1]).rpartition("@")[2]
    address = one_line(recipient[1])
    fields = [
        ("From", _address(sender)),
        ("To", _address((recipient[0], address))),
        ("Subject", _encoded("Subject", subject)),
        ("Date", format_datetime(utcnow())),  # "+0000": UTC; "-0000" would say the zone is unknown (RFC 5322, 3.3)
        ("Message-ID", one_line(message_id or make_msgid(domain=domain))),
        ("X-Loop", domain),
        *((name, _encoded(name, value)) for name, value in (headers or {}).items()),
    ]
    boundary = f"=_plein_{secrets.token_hex(12)}"
    lines = [f"{name}: {value}" for name, value in fields]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    # HTML says any character as a reference, so its part is usually plain 7bit: a smaller
    # message with fewer lines than quoted-printable.
    for subtype, body in (("plain", text), ("html", html.encode("ascii", "xmlcharrefreplace").decode())):
        lines += [f"--{boundary}", f"Content-Type: text/{subtype}; charset=utf-8", *_transfer_encoded(body)]
    lines += [f"--{boundary}--", ""]
    return Composed(address, "\n".join(lines).encode("ascii"))


def compose_answer(
    session: Session, *, subject: str, recipient: tuple[str, str], text: str, html: str, answers: str | None,
    auto_submitted: str,
) -> Composed:
    """Plein's own word to someone about a mail they sent (a receipt, a notice that it is held).

    It comes from no-reply@, says it is automatic (`auto_submitted`, RFC 3834, so it is never
    answered by a robot or posted), and names the Message-ID it `answers`, if any, so that it
    sits in the sender's own mailbox under the mail it is about.
    """
    headers = {"Auto-Submitted": auto_submitted}
    if answers:
        headers |= {"In-Reply-To": f"<{answers}>", "References": f"<{answers}>"}
    return compose(
        subject=subject, sender=("Plein", addresses.address(session, "no-reply")), recipient=recipient,
        text=text, html=html, headers=headers,
    )


def _transfer_encoded(body: str) -> list[str]:
    """The Content-Transfer-Encoding header, a blank line and the body (RFC 2045, 6).

    CRLF, a lone CR and a lone LF all become the composer's one line end: RFC 5322 (2.3)
    allows CR and LF only together, and quoted-printable keeps a lone CR as it is.
    """
    body = _LINE_END.sub("\n", body)
    if body.isascii() and max(map(len, body.split("\n"))) <= 998:
        return ["Content-Transfer-Encoding: 7bit", "", body]
    return ["Content-Transfer-Encoding: quoted-printable", "", binascii.b2a_qp(body.encode(), istext=True).decode("ascii")]


def _encoded(name: str, value: str) -> str:
    """ASCII stays as it is up to the line limit (RFC 5322, 2.1.1); anything else is encoded words."""
    value = one_line(value)
    if value.isascii() and len(name) + len(value) < 900:
        return value
    return Header(value, "us-ascii" if value.isascii() else "utf-8", header_name=name).encode(linesep="\n")


def _address(pair: tuple[str, str]) -> str:
    name, address = one_line(pair[0]), one_line(pair[1])
    return formataddr((name, address), charset="utf-8") if name else address


def bounce_address(session: Session, outgoing_id: int) -> str:
    return addresses.signed_address(session, BOUNCES, outgoing_id)


def queue_mail(session: Session, key: str, message: Composed, *, essential: bool = False) -> int | None:
    """Record `message` for sending after commit; its outbox id, or None when `key` was queued before.

    Mail to an address whose delivery is switched off after bounces is recorded as failed
    with that reason, unless it is `essential` (a sign-in link the person just asked for).
    Mail to a former colleague (`accounts.deactivate`) is recorded as failed, essential or not:
    this is the one place every mail Plein sends passes, so none reaches them (and `send_claimed`
    asks again, for mail queued before they left). Recorded rather than dropped, so a run that
    marks what it mailed (digests, daily notifications) moves on.
    One INSERT that skips a taken key, then the VERP sender that names the new row: a digest
    run queues thousands of these.
    """
    if accounts.is_former_address(session, message.recipient):
        held, reason = True, FORMER_COLLEAGUE
    else:
        held = not essential and bounces.is_disabled(session, message.recipient)
        reason = BOUNCED if held else ""
    insert, set_sender = _statements(session.get_bind().dialect.name)
    outgoing_id = session.scalar(
        insert,
        {
            "key": key, "recipient": message.recipient, "envelope_from": "", "message": message.data,
            "status": OutgoingStatus.FAILED if held else OutgoingStatus.QUEUED, "attempts": 0,
            "last_error": reason,
            "created_at": utcnow(),
        },
    )
    if outgoing_id is None:
        return None
    session.execute(set_sender, {"row": outgoing_id, "sender": bounce_address(session, outgoing_id)})
    if not held:
        schedule_drain(session)
    return outgoing_id


@lru_cache
def _statements(dialect: str):
    """The two statements of `queue_mail`, built once: composing them per message costs more than running them."""
    table = OutgoingMail.__table__
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[dialect]
    return (
        insert(table).on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.id),
        update(table).where(table.c.id == bindparam("row")).values(envelope_from=bindparam("sender")),
    )


def schedule_drain(session: Session) -> None:
    """Ask a worker to drain the outbox once this transaction commits (one drain for a burst of them)."""
    jobs.after_commit_coalesced(session, "plein.outbox.drain")


class MaildirTransport:
    """Writes each message to `PLEIN_DATA_DIR/outbox/new/`, standing in for a relay."""

    def __init__(self, settings: Settings) -> None:
        for folder in ("tmp", "new", "cur"):
            (settings.outbox_dir / folder).mkdir(parents=True, exist_ok=True)
        self._maildir = mailbox.Maildir(settings.outbox_dir, create=True)

    def send(self, envelope_from: str, recipient: str, message: bytes) -> None:
        self._maildir.add(message)

    def close(self) -> None:
        pass


class SmtpTransport:
    """One connection to the smarthost, opened on the first message and kept for the batch."""

    def __init__(self, settings: Settings) -> None:
        host, _, port = settings.smarthost.partition(":")
        self._address = (host, int(port or 25))
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(*self._address, local_hostname=self._settings.mail_domain, timeout=30)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self._settings.smarthost_user:
            smtp.login(self._settings.smarthost_user, self._settings.smarthost_password)
        return smtp

    def send(self, envelope_from: str, recipient: str, message: bytes) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.sendmail(envelope_from, [recipient], _crlf(message))
            except smtplib.SMTPResponseException:
                raise
            except smtplib.SMTPServerDisconnected:
                # The relay may close an idle connection between two messages: open one more.
                self._smtp = None
                if attempt == 2:
                    raise
                continue
            except smtplib.SMTPRecipientsRefused as error:
                code, reply = error.recipients[recipient]
                raise smtplib.SMTPResponseException(code, reply) from error
            except (OSError, smtplib.SMTPException):
                self.close()
                raise
            if refused:
                code, reply = refused[recipient]
                raise smtplib.SMTPResponseException(code, reply)
            return

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _crlf(message: bytes) -> bytes:
    """SMTP lines end in CRLF, and CR and LF go nowhere else (RFC 5321, 2.3.8); smtplib sends
    bytes as they are, and dot-stuffs only after LF. Rows queued before composing normalised
    their line ends are made safe here too."""
    return _WIRE_LINE_END.sub(b"\r\n", message)


def open_transport(settings: Settings) -> MaildirTransport | SmtpTransport:
    return SmtpTransport(settings) if settings.smarthost else MaildirTransport(settings)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def _due(now: datetime):
    return (
        OutgoingMail.status == OutgoingStatus.QUEUED,
        or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now),
    )


def claim_batch(session: Session, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Take up to `limit` due messages for this worker until `now + lease`; their ids, oldest first."""
    due = select(OutgoingMail.id).where(*_due(now)).order_by(OutgoingMail.id).limit(limit)
    claimed = session.scalars(
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(due.scalar_subquery()), *_due(now))
        .values(attempts=OutgoingMail.attempts + 1, next_attempt_at=now + lease)
        .returning(OutgoingMail.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def send_claimed(
    session: Session, outgoing_id: int, transport: MaildirTransport | SmtpTransport, now: datetime
) -> str:
    """Send one claimed message and record the outcome.

    `sent`, `failed` (a 5xx, or too many attempts), `deferred` (a 4xx) or `unreachable` (no
    connection to the relay; also deferred).
    """
    outgoing = session.get(OutgoingMail, outgoing_id)
    if outgoing is None or outgoing.status != OutgoingStatus.QUEUED:
        return "sent"
    if accounts.is_former_address(session, outgoing.recipient):  # queued before they left
        return _failed(outgoing, FORMER_COLLEAGUE, permanent=True, now=now)
    try:
        transport.send(outgoing.envelope_from, outgoing.recipient, outgoing.message)
    except smtplib.SMTPResponseException as error:
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        return _failed(outgoing, f"{error.smtp_code} {reply}", permanent=error.smtp_code >= 500, now=now)
    except (OSError, smtplib.SMTPException) as error:
        _failed(outgoing, f"{type(error).__name__}: {error}", permanent=False, now=now)
        return "unreachable"
    outgoing.status = OutgoingStatus.SENT
    outgoing.sent_at = utcnow()
    outgoing.next_attempt_at = None
    outgoing.last_error = ""
    return "sent"


def _failed(outgoing: OutgoingMail, error: str, *, permanent: bool, now: datetime) -> str:
    outgoing.last_error = error[:2000]
    if permanent or outgoing.attempts >= MAX_ATTEMPTS:
        outgoing.status = OutgoingStatus.FAILED
        outgoing.next_attempt_at = None
        return "failed"
    outgoing.next_attempt_at = now + backoff(outgoing.attempts)
    return "deferred"


def drain(context: Context, *, now: datetime | None = None, batch_size: int | None = None) -> DrainResult:
    """Send every due message, batch after batch over one transport, until none is due.

    Each claim and each outcome is committed in a transaction of its own (`context.session_scope`),
    so what the relay accepted is recorded before the next message goes out.
    A relay that cannot be reached ends the run; the rest of the batch is due again when its
    lease runs out, and the sweep starts another run.
    """
    settings, transaction = context.settings, context.session_scope
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    batch_size = batch_size or settings.outbox_batch_size
    result = DrainResult()
    transport = open_transport(settings)
    try:
        while True:
            moment = now or utcnow()
            with transaction() as session:
                claimed = claim_batch(session, moment, batch_size, lease)
            if not claimed:
                return result
            for outgoing_id in claimed:
                with transaction() as session:
                    outcome = send_claimed(session, outgoing_id, transport, moment)
                if outcome == "unreachable":
                    result.deferred += 1
                    return result
                setattr(result, outcome, getattr(result, outcome) + 1)
    finally:
        transport.close()


def requeue_stalled(session: Session, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Start a drain when messages are due that no drain took (a lost job, a crash, a backoff)."""
    due = session.scalar(
        select(OutgoingMail.id)
        .where(*_due(utcnow()), OutgoingMail.created_at < utcnow() - older_than)
        .limit(1)
    )
    if due is not None:
        schedule_drain(session)
    return int(due is not None)


def cancel(session: Session, key_patterns: list[str], reason: str) -> int:
    """Never send the queued mail whose key matches one of `key_patterns` (SQL LIKE); how many.

    It is kept as failed, with `reason`, for whoever reads the outbox. A drain that claimed it
    already finds it no longer queued (`send_claimed`); one the relay is taking right now is gone.
    """
    if not key_patterns:
        return 0
    return session.execute(
        update(OutgoingMail)
        .where(or_(*(OutgoingMail.key.like(pattern) for pattern in key_patterns)), OutgoingMail.status == OutgoingStatus.QUEUED)
        .values(status=OutgoingStatus.FAILED, next_attempt_at=None, last_error=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
