"""Bounces: delivery reports that come back to `bounces+TOKEN@domain`, and what they do.

Every message leaves with a VERP envelope sender whose signed token names the outbox row,
so a report is tied to the address Plein wrote to, whatever the report claims. Only real
delivery status notifications count (multipart/report with message/delivery-status,
RFC 3464); out-of-office replies that also come back to the envelope sender do not.
A failed delivery with a 5.x.x status adds 1 to the address's score, a 4.x.x one 0.5; the
score starts again after a quiet week. At `PLEIN_BOUNCE_THRESHOLD` list mail and digests to
the address stop, the person sees a notice on the web, and confirming there starts mail again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import AddressHealth, BounceReport, OutgoingMail, User, utcnow
from hub.services import addresses
from mailgateway.addresses import BOUNCES

HARD_SCORE = 1.0
SOFT_SCORE = 0.5
QUIET_PERIOD = timedelta(days=7)


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str
    status: str
    diagnostic: str

    @property
    def hard(self) -> bool:
        return self.status.startswith("5")


def parse_report(raw: bytes) -> list[RecipientStatus]:
    """The failed recipients a delivery status notification reports; [] for any other mail."""
    message = message_from_bytes(raw, policy=policy.default)
    failed = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The first block describes the reporting MTA; each further block one recipient.
        for block in _status_blocks(part)[1:]:
            action = str(block.get("Action", "")).strip().lower()
            if action != "failed":
                continue
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            status = str(block.get("Status", "")).strip().split(" ")[0] or "5.0.0"
            failed.append(
                RecipientStatus(
                    recipient=recipient.partition(";")[2].strip() or recipient.strip(),
                    action=action,
                    status=status,
                    diagnostic=" ".join(str(block.get("Diagnostic-Code", "")).split())[:1000],
                )
            )
    return failed


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part; the parser splits them unless it was encoded."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = part.get_payload(decode=True).decode(errors="replace").replace("\r\n", "\n")
    return [
        message_from_bytes(block.strip().encode(), policy=policy.default)
        for block in text.split("\n\n")
        if block.strip()
    ]


def record_report(session: Session, token: str, raw: bytes) -> str:
    """Count a report sent to `bounces+TOKEN`; returns what was done, for the inbound record."""
    parts = addresses.token_parts(session, BOUNCES, token) if token else None
    outgoing = session.get(OutgoingMail, parts[0]) if parts else None
    if outgoing is None:
        return "delivery report for no message of ours: kept, not counted"
    failures = parse_report(raw)
    if not failures:
        return f"mail to the bounce address of message {outgoing.id} is no delivery failure: kept, not counted"
    if session.scalar(select(BounceReport.id).where(BounceReport.outgoing_id == outgoing.id)):
        return f"bounce of message {outgoing.id} was counted before"
    worst = max(failures, key=lambda failure: failure.hard)
    session.add(
        BounceReport(
            outgoing_id=outgoing.id, address=outgoing.recipient, status=worst.status,
            hard=worst.hard, diagnostic=worst.diagnostic,
        )
    )
    health = _health(session, outgoing.recipient)
    now = utcnow()
    if health.last_bounce_at is not None and now - health.last_bounce_at > QUIET_PERIOD:
        health.score = 0.0
    health.score += HARD_SCORE if worst.hard else SOFT_SCORE
    health.last_bounce_at = now
    health.last_reason = f"{worst.status} {worst.diagnostic}".strip()
    if health.disabled_at is None and health.score >= context_of(session).settings.bounce_threshold:
        health.disabled_at = now
    session.flush()
    state = "mail to it is now off" if health.disabled_at else f"score {health.score:g}"
    return f"bounce {worst.status} for {outgoing.recipient} ({state})"


def _health(session: Session, address: str) -> AddressHealth:
    address = address.lower()
    health = session.scalar(select(AddressHealth).where(AddressHealth.address == address))
    if health is None:
        health = AddressHealth(address=address, score=0.0, last_reason="")
        session.add(health)
    return health


def is_disabled(session: Session, address: str) -> bool:
    return session.scalar(
        select(AddressHealth.id).where(
            AddressHealth.address == address.lower(), AddressHealth.disabled_at.is_not(None)
        )
    ) is not None


_DISABLED = select(AddressHealth).where(
    AddressHealth.address == bindparam("address"), AddressHealth.disabled_at.is_not(None)
)
"""Built once: every page's header asks it."""


def disabled_notice(session: Session, user: User) -> AddressHealth | None:
    """The reason mail to `user` is off, or None while it is delivered."""
    return session.scalar(_DISABLED, {"address": user.email.lower()})


def reenable(session: Session, user: User) -> None:
    """The person confirmed their address works: mail starts again with a clean score."""
    health = session.scalar(select(AddressHealth).where(AddressHealth.address == user.email.lower()))
    if health is not None:
        health.disabled_at = None
        health.score = 0.0
        session.flush()
