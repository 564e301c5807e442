"""The SMTP server (aiosmtpd) that takes mail for the hub's addresses.

It decides as early as SMTP allows: a sender or client over its rate is told to come back
later at MAIL, an unknown recipient is refused at RCPT, an oversized message at DATA (SIZE
is advertised, RFC 1870), and so is a header with bare line feeds, which servers read
differently (RFC 5322 section 2.3). A message is answered 250 only after the rest of Plein
has stored it durably. Everything else happens after the answer, in a worker. The server
talks to Plein through `InboundSink` alone.

aiosmtpd 1.4.6 or newer ends DATA only at CRLF.CRLF, so `\n.\n` cannot smuggle a second
message in (CVE-2024-27305), and drops commands pipelined after STARTTLS (CVE-2024-34083).
STARTTLS is offered when a certificate is configured.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 100

ACCEPTED = "250 2.0.0 Message accepted for delivery"
RECIPIENT_OK = "250 2.1.5 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 No such group or address here: {}"
REFUSED_RECIPIENT = "550 5.2.1 Not taking mail: {}"
"""An address that exists but takes no mail (RFC 3463: 5.2.1 mailbox disabled), with the sink's reason."""
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TRY_AGAIN_LATER = "451 4.3.0 Could not store the message; try again later"
SENDER_OK = "250 2.1.0 OK"
SENDER_TOO_FAST = "451 4.7.1 Too many messages from {}; try again later"
CLIENT_TOO_FAST = "451 4.7.1 Too many messages from your address; try again later"
BARE_LF_IN_HEADER = "550 5.6.0 Bare LF in the message header; lines must end with CRLF"

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BARE_LF = re.compile(rb"(?<!\r)\n")


@dataclass(frozen=True)
class Limits:
    """How much one sender and one client address may send; 0 means no limit."""

    max_recipients: int = MAX_RECIPIENTS
    per_sender_per_minute: int = 0
    per_client_per_minute: int = 0


class RateLimiter:
    """Counts events per key over a sliding minute, in this process's memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        if not self.per_minute:
            return True
        now = time.monotonic()
        events = self.seen[key]
        while events and events[0] <= now - 60:
            events.popleft()
        if len(events) >= self.per_minute:
            return False
        events.append(now)
        return True


class InboundSink(Protocol):
    """What the SMTP server needs from the rest of Plein."""

    def accepts(self, address: str) -> bool | str:
        """Whether mail to `address` has somewhere to go, or why it is refused although it does (one line)."""

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        """Store the message durably, or raise to have the client try again later."""


class InboundHandler:
    def __init__(self, sink: InboundSink, limits: Limits = Limits()) -> None:
        self.sink = sink
        self.limits = limits
        self.per_sender = RateLimiter(limits.per_sender_per_minute)
        self.per_client = RateLimiter(limits.per_client_per_minute)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        client = str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer)
        if not self.per_client.allow(client):
            return CLIENT_TOO_FAST
        if not self.per_sender.allow(address.lower()):
            return SENDER_TOO_FAST.format(address or "<>")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return TOO_MANY_RECIPIENTS
        try:
            accepted = await asyncio.to_thread(self.sink.accepts, address)
        except Exception:
            log.exception("could not check recipient %s", address)
            return TRY_AGAIN_LATER
        if isinstance(accepted, str):
            return REFUSED_RECIPIENT.format(accepted)
        if not accepted:
            return UNKNOWN_RECIPIENT.format(address)
        envelope.rcpt_tos.append(address)
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if _BARE_LF.search(_HEADER_END.split(raw, maxsplit=1)[0]):
            return BARE_LF_IN_HEADER
        try:
            await asyncio.to_thread(self.sink.store, raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        except Exception:
            log.exception("could not store message from %s", envelope.mail_from)
            return TRY_AGAIN_LATER
        return ACCEPTED


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for STARTTLS from PEM files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def smtp_factory(
    sink: InboundSink,
    *,
    hostname: str,
    max_message_size: int,
    tls: ssl.SSLContext | None = None,
    limits: Limits = Limits(),
):
    """A protocol factory for `loop.create_server`, one SMTP session per connection."""
    handler = InboundHandler(sink, limits)

    def make() -> SMTP:
        return SMTP(
            handler,
            hostname=hostname,
            data_size_limit=max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="Plein",
            tls_context=tls,
        )

    return make


async def start_smtp_server(
    sink: InboundSink,
    host: str,
    port: int,
    *,
    hostname: str,
    max_message_size: int,
    tls: ssl.SSLContext | None = None,
    limits: Limits = Limits(),
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    factory = smtp_factory(sink, hostname=hostname, max_message_size=max_message_size, tls=tls, limits=limits)
    # SO_REUSEPORT: several `plein smtp` processes may listen on one address; the kernel
    # spreads connections over them.
    return await loop.create_server(factory, host, port, reuse_port=True)
