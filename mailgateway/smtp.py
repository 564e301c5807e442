"""The SMTP server (aiosmtpd) that takes mail for the hub's addresses.

It decides as early as SMTP allows: an unknown recipient is refused at RCPT, an oversized
message at DATA (SIZE is advertised, RFC 1870), and a message is answered 250 only after
the rest of Plein has stored it durably. Everything else happens after the answer, in a
worker. The server talks to Plein through `InboundSink` alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 100

ACCEPTED = "250 2.0.0 Message accepted for delivery"
RECIPIENT_OK = "250 2.1.5 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 No such group or address here: {}"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TRY_AGAIN_LATER = "451 4.3.0 Could not store the message; try again later"


class InboundSink(Protocol):
    """What the SMTP server needs from the rest of Plein."""

    def accepts(self, address: str) -> bool:
        """Whether mail to `address` has somewhere to go."""

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        """Store the message durably, or raise to have the client try again later."""


class InboundHandler:
    def __init__(self, sink: InboundSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        try:
            accepted = await asyncio.to_thread(self.sink.accepts, address)
        except Exception:
            log.exception("could not check recipient %s", address)
            return TRY_AGAIN_LATER
        if not accepted:
            return UNKNOWN_RECIPIENT.format(address)
        envelope.rcpt_tos.append(address)
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            await asyncio.to_thread(self.sink.store, raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        except Exception:
            log.exception("could not store message from %s", envelope.mail_from)
            return TRY_AGAIN_LATER
        return ACCEPTED


def smtp_factory(sink: InboundSink, *, hostname: str, max_message_size: int):
    """A protocol factory for `loop.create_server`, one SMTP session per connection."""
    handler = InboundHandler(sink)

    def make() -> SMTP:
        return SMTP(
            handler,
            hostname=hostname,
            data_size_limit=max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="Plein",
        )

    return make


async def start_smtp_server(
    sink: InboundSink, host: str, port: int, *, hostname: str, max_message_size: int
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        smtp_factory(sink, hostname=hostname, max_message_size=max_message_size), host, port
    )
