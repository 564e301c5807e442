"""Mail out: every message is recorded in the outbox table first, then handed to a transport.

The transport is the smarthost when `PLEIN_SMARTHOST` is set, else a Maildir under
`PLEIN_DATA_DIR/outbox/` where a person (or a test) can read what Plein would have sent.
A message's `key` names what it is (`post:12:to:5`), so queueing it twice queues it once.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import jobs
from hub.models import OutgoingMail, OutgoingStatus, utcnow
from hub.settings import Settings, get_settings
from mailgateway.addresses import BOUNCES


def one_line(value: str) -> str:
    """A header value that can never start a new header: CR, LF and runs of space collapsed."""
    return " ".join(value.split())


def compose(
    *,
    subject: str,
    sender: tuple[str, str],
    recipient: tuple[str, str],
    text: str,
    html: str,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message with a plain-text and an HTML part.

    `sender` and `recipient` are (display name, address) pairs.
    """
    domain = get_settings().mail_domain
    message = EmailMessage()
    message["Subject"] = one_line(subject)
    message["From"] = Address(one_line(sender[0]), addr_spec=one_line(sender[1]))
    message["To"] = Address(one_line(recipient[0]), addr_spec=one_line(recipient[1]))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = one_line(value)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def queue_mail(session: Session, key: str, message: EmailMessage) -> OutgoingMail | None:
    """Record `message` for sending after commit; None when `key` was queued before."""
    if session.scalar(select(OutgoingMail.id).where(OutgoingMail.key == key)):
        return None
    outgoing = OutgoingMail(
        key=key,
        recipient=message["To"].addresses[0].addr_spec,
        envelope_from=f"{BOUNCES}@{get_settings().mail_domain}",
        message=message.as_bytes(),
    )
    session.add(outgoing)
    session.flush()
    jobs.after_commit(session, "plein.outbox.send", outgoing.id)
    return outgoing


def send_queued(session: Session, outgoing_id: int) -> bool:
    """Hand one queued message to the transport.

    Returns False when the transport failed for now and the message should be tried again;
    the attempt and its error are recorded either way.
    """
    outgoing = session.get(OutgoingMail, outgoing_id)
    if outgoing is None or outgoing.status != OutgoingStatus.QUEUED:
        return True
    outgoing.attempts += 1
    try:
        deliver(get_settings(), outgoing.envelope_from, outgoing.recipient, outgoing.message)
    except smtplib.SMTPResponseException as error:
        outgoing.last_error = f"{error.smtp_code} {error.smtp_error!r}"
        if error.smtp_code >= 500:
            outgoing.status = OutgoingStatus.FAILED
            return True
        return False
    except (OSError, smtplib.SMTPException) as error:
        outgoing.last_error = str(error)
        return False
    outgoing.status = OutgoingStatus.SENT
    outgoing.sent_at = utcnow()
    return True


def deliver(settings: Settings, envelope_from: str, recipient: str, message: bytes) -> None:
    if not settings.smarthost:
        maildir = mailbox.Maildir(settings.outbox_dir, create=True)
        for folder in ("tmp", "new", "cur"):
            (settings.outbox_dir / folder).mkdir(parents=True, exist_ok=True)
        maildir.add(message)
        return
    host, _, port = settings.smarthost.partition(":")
    with smtplib.SMTP(host, int(port or 25), timeout=30) as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smarthost_user:
            smtp.login(settings.smarthost_user, settings.smarthost_password)
        smtp.sendmail(envelope_from, [recipient], message)


def requeue_stalled(session: Session, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Hand messages still queued after `older_than` to the workers again."""
    stalled = session.scalars(
        select(OutgoingMail.id).where(
            OutgoingMail.status == OutgoingStatus.QUEUED,
            OutgoingMail.created_at < utcnow() - older_than,
        )
    ).all()
    for outgoing_id in stalled:
        jobs.after_commit(session, "plein.outbox.send", outgoing_id)
    return len(stalled)
