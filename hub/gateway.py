"""The hub's side of the mail gateway: `mailgateway.smtp.InboundSink` and `mailgateway.imap.MailboxSink`.

A message is stored, and for IMAP its mailbox advanced, before the call returns, or
nothing is. SMTP sessions running at once share their commits (see `GroupCommit`).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.context import Context
from hub.services import inbound, raw_mail
from hub.settings import Settings
from mailgateway.imap import MailboxUrl, MailboxWatcher
from mailgateway.smtp import Limits, tls_context

log = logging.getLogger(__name__)


@dataclass
class _Ticket:
    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class GroupCommit:
    """Lets threads that each need a commit share one (group commit).

    A caller queues its item and waits for the writer. Whoever gets the writer first writes
    every item queued by then in one call, so under load one durable commit answers many
    SMTP clients, and alone a caller waits for nobody.
    """

    write: Callable[[list[Any]], list[Any]]
    _queue: list[_Ticket] = field(default_factory=list)
    _queue_lock: threading.Lock = field(default_factory=threading.Lock)
    _writer: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, item: Any) -> Any:
        ticket = _Ticket(item)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._writer:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    results = self.write([queued.item for queued in batch])
                except BaseException as error:
                    for queued in batch:
                        queued.error, queued.done = error, True
                else:
                    for queued, result in zip(batch, results, strict=True):
                        queued.result, queued.done = result, True
        if ticket.error is not None:
            raise ticket.error
        return ticket.result


@dataclass(frozen=True)
class _Kept:
    relative: str
    raw: bytes
    envelope_from: str
    recipients: list[str]


class HubInboundSink:
    """Stores what the SMTP server accepts: each session writes its raw message (the fsyncs
    run side by side), then joins the next durable commit of the records.

    A recipient found good is believed for `KNOWN_RECIPIENT_SECONDS` without asking the
    database again: under load most mail goes to a few group addresses. A refusal is never
    remembered, so a group created a moment ago takes mail at once; mail to a group deleted
    meanwhile is accepted and then refused by the worker, with its reason on record.
    """

    KNOWN_RECIPIENT_SECONDS = 30.0
    KNOWN_RECIPIENTS_KEPT = 10_000

    def __init__(self, context: Context) -> None:
        self.context = context
        self.commits = GroupCommit(self._record)
        self._known_until: dict[str, float] = {}

    def accepts(self, address: str) -> bool | str:
        key = address.lower()
        if self._known_until.get(key, 0.0) > time.monotonic():
            return True
        with self.context.session_scope() as session:
            accepted = inbound.accepts_recipient(session, address)
            if accepted and (refusal := inbound.recipient_refusal(session, address)):
                return refusal
        if accepted:
            if len(self._known_until) >= self.KNOWN_RECIPIENTS_KEPT:  # signed reply addresses are many
                self._known_until.clear()
            self._known_until[key] = time.monotonic() + self.KNOWN_RECIPIENT_SECONDS
        return accepted

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        kept = _Kept(raw_mail.keep_raw(self.context.settings.data_dir, raw), raw, envelope_from, recipients)
        inbound_id, message_id = self.commits.submit(kept)
        log.info(
            "accepted message over SMTP",
            extra={"message_id": message_id, "inbound_id": inbound_id, "envelope_from": envelope_from},
        )

    def _record(self, batch: list[_Kept]) -> list[tuple[int, str | None]]:
        with self.context.session_scope(durable=True) as session:
            stored = [
                inbound.record_inbound(session, kept.relative, kept.raw, kept.envelope_from, kept.recipients)
                for kept in batch
            ]
            return [(message.id, message.message_id) for message in stored]


def smtp_options(settings: Settings) -> dict:
    """STARTTLS and rate limits for `mailgateway.smtp.start_smtp_server`, from the settings."""
    tls = None
    if settings.smtp_tls_cert and settings.smtp_tls_key:
        tls = tls_context(Path(settings.smtp_tls_cert), Path(settings.smtp_tls_key))
    limits = Limits(
        per_sender_per_minute=settings.smtp_max_per_sender_per_minute,
        per_client_per_minute=settings.smtp_max_per_client_per_minute,
    )
    return {"tls": tls, "limits": limits}


class HubMailboxSink:
    def __init__(self, context: Context) -> None:
        self.context = context

    def resume_after(self, mailbox: str, uidvalidity: int) -> int:
        with self.context.session_scope() as session:
            return inbound.mailbox_position(session, mailbox, uidvalidity)

    def store(
        self, mailbox: str, uidvalidity: int, uid: int, raw: bytes, envelope_from: str, recipients: list[str]
    ) -> None:
        with self.context.session_scope() as session:
            inbound.store_from_mailbox(session, mailbox, uidvalidity, uid, raw, envelope_from, recipients)


def mailbox_watchers(context: Context) -> list[MailboxWatcher]:
    """One watcher per mailbox in `PLEIN_IMAP_URL`."""
    settings = context.settings
    return [
        MailboxWatcher(
            MailboxUrl.parse(url), HubMailboxSink(context),
            done_folder=settings.imap_done_folder, poll_interval=settings.imap_poll_interval,
        )
        for url in settings.imap_url.split()
    ]


def start_mailbox_watchers(context: Context, stop: threading.Event) -> list[threading.Thread]:
    """Watch every configured mailbox in a thread of its own until `stop` is set."""
    threads = [
        threading.Thread(target=watcher.watch, args=(stop,), name=f"imap {watcher.url.key}", daemon=True)
        for watcher in mailbox_watchers(context)
    ]
    for thread in threads:
        thread.start()
    return threads


def watch_mailboxes(context: Context) -> None:
    """`plein imap`: watch every configured mailbox until SIGINT or SIGTERM."""
    if not context.settings.imap_url:
        raise ValueError("set PLEIN_IMAP_URL=imap[s]://user:password@host:port/FOLDER first")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threads = start_mailbox_watchers(context, stop)
    log.info("watching %d IMAP mailbox(es)", len(threads))
    stop.wait()
    for thread in threads:
        thread.join(timeout=30)
