"""The hub's side of the mail gateway: `mailgateway.smtp.InboundSink` and `mailgateway.imap.MailboxSink`.

Each call is one transaction: a message is stored, and for IMAP its mailbox advanced,
before the call returns, or nothing is.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from hub.db import session_scope
from hub.services import inbound
from hub.settings import get_settings
from mailgateway.imap import MailboxUrl, MailboxWatcher
from mailgateway.smtp import Limits, tls_context

log = logging.getLogger(__name__)


class HubInboundSink:
    def accepts(self, address: str) -> bool:
        with session_scope() as session:
            return inbound.accepts_recipient(session, address)

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        with session_scope() as session:
            stored = inbound.store_inbound(session, raw, envelope_from, recipients)
        log.info(
            "accepted message over SMTP",
            extra={"message_id": stored.message_id, "inbound_id": stored.id, "envelope_from": envelope_from},
        )


def smtp_options() -> dict:
    """STARTTLS and rate limits for `mailgateway.smtp.start_smtp_server`, from the settings."""
    settings = get_settings()
    tls = None
    if settings.smtp_tls_cert and settings.smtp_tls_key:
        tls = tls_context(Path(settings.smtp_tls_cert), Path(settings.smtp_tls_key))
    limits = Limits(
        per_sender_per_minute=settings.smtp_max_per_sender_per_minute,
        per_client_per_minute=settings.smtp_max_per_client_per_minute,
    )
    return {"tls": tls, "limits": limits}


class HubMailboxSink:
    def resume_after(self, mailbox: str, uidvalidity: int) -> int:
        with session_scope() as session:
            return inbound.mailbox_position(session, mailbox, uidvalidity)

    def store(
        self, mailbox: str, uidvalidity: int, uid: int, raw: bytes, envelope_from: str, recipients: list[str]
    ) -> None:
        with session_scope() as session:
            inbound.store_from_mailbox(session, mailbox, uidvalidity, uid, raw, envelope_from, recipients)


def mailbox_watchers() -> list[MailboxWatcher]:
    """One watcher per mailbox in `PLEIN_IMAP_URL`."""
    settings = get_settings()
    return [
        MailboxWatcher(
            MailboxUrl.parse(url), HubMailboxSink(),
            done_folder=settings.imap_done_folder, poll_interval=settings.imap_poll_interval,
        )
        for url in settings.imap_url.split()
    ]


def start_mailbox_watchers(stop: threading.Event) -> list[threading.Thread]:
    """Watch every configured mailbox in a thread of its own until `stop` is set."""
    threads = [
        threading.Thread(target=watcher.watch, args=(stop,), name=f"imap {watcher.url.key}", daemon=True)
        for watcher in mailbox_watchers()
    ]
    for thread in threads:
        thread.start()
    return threads


def watch_mailboxes() -> None:
    """`plein imap`: watch every configured mailbox until SIGINT or SIGTERM."""
    if not get_settings().imap_url:
        raise ValueError("set PLEIN_IMAP_URL=imap[s]://user:password@host:port/FOLDER first")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threads = start_mailbox_watchers(stop)
    log.info("watching %d IMAP mailbox(es)", len(threads))
    stop.wait()
    for thread in threads:
        thread.join(timeout=30)
