"""The IMAP watcher: mail taken from a mailbox, as durably as SMTP takes it.

Some companies cannot point an MX at Plein; they give it a mailbox instead. The watcher
reads that folder with IDLE where the server offers it (RFC 2177) and polls otherwise.
It works by UID (RFC 3501 section 2.3.1.1): the rest of Plein remembers the folder's
UIDVALIDITY and the last UID it stored, in the same transaction that stores the message,
so after a crash or a restart the watcher resumes right after the last stored message.
A message is marked `\\Seen` or moved to the done folder only after it is stored; one
stored just before a crash is finished on the next start. When UIDVALIDITY changes, the
folder is read again from the start and the other side recognises what it already has.

Like the SMTP server, the watcher talks to Plein through one small interface, `MailboxSink`.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient

from mailgateway.parsing import envelope_of

log = logging.getLogger(__name__)

SEEN = b"\\Seen"
DELETED = b"\\Deleted"
IDLE_CHECK_SECONDS = 1.0
"""How often an IDLE wait looks up to see whether it was asked to stop."""
MAX_IDLE_SECONDS = 29 * 60
"""RFC 2177: re-issue IDLE at least every 29 minutes, or the server may log us off."""


@dataclass(frozen=True)
class MailboxUrl:
    """`imap[s]://user:password@host[:port]/FOLDER`; the folder defaults to INBOX.

    >>> MailboxUrl.parse("imaps://plein%40corp.example:s3cret@mail.corp.example/Plein").key
    'plein@corp.example@mail.corp.example:993/Plein'
    """

    host: str
    port: int
    use_ssl: bool
    user: str
    password: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> MailboxUrl:
        parts = urlsplit(url.strip())
        if parts.scheme not in {"imap", "imaps"} or not parts.hostname or not parts.username:
            raise ValueError("an IMAP URL looks like imap[s]://user:password@host:port/FOLDER")
        use_ssl = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if use_ssl else 143),
            use_ssl=use_ssl,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    @property
    def key(self) -> str:
        """Names the mailbox on record; the password is left out."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


class MailboxSink(Protocol):
    """What the watcher needs from the rest of Plein."""

    def resume_after(self, mailbox: str, uidvalidity: int) -> int:
        """The last UID stored under `uidvalidity`; 0 when nothing is, or UIDVALIDITY changed."""

    def store(
        self, mailbox: str, uidvalidity: int, uid: int, raw: bytes, envelope_from: str, recipients: list[str]
    ) -> None:
        """Store the message and advance the mailbox to `uid` in one durable step, or raise.

        A message the other side already has (the same Message-ID, or the same bytes) only
        advances the mailbox.
        """


class MailboxWatcher:
    """Takes every new message of one folder, in UID order, one durable step at a time."""

    def __init__(
        self,
        url: MailboxUrl,
        sink: MailboxSink,
        *,
        done_folder: str = "",
        poll_interval: float = 60.0,
        idle_timeout: float = MAX_IDLE_SECONDS,
        batch_size: int = 20,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.sink = sink
        self.done_folder = done_folder
        """Move stored messages here; empty marks them `\\Seen` where they are."""
        self.poll_interval = poll_interval
        self.idle_timeout = min(idle_timeout, MAX_IDLE_SECONDS)
        self.batch_size = batch_size
        self.timeout = timeout

    def connect(self) -> IMAPClient:
        context = ssl.create_default_context() if self.url.use_ssl else None
        client = IMAPClient(
            self.url.host, port=self.url.port, ssl=self.url.use_ssl, ssl_context=context, timeout=self.timeout
        )
        client.login(self.url.user, self.url.password)
        return client

    def take_new(self, client: IMAPClient) -> int:
        """Store every message after the last stored one; returns how many were taken."""
        status = client.select_folder(self.url.folder)
        uidvalidity = int(status[b"UIDVALIDITY"])
        last_uid = self.sink.resume_after(self.url.key, uidvalidity)
        self._finish(client, last_uid)
        # `UID n:*` always matches the highest UID, even one below n (RFC 3501 section 6.4.8).
        new = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        taken = 0
        for batch in _batches(new, self.batch_size):
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    log.warning("%s: message %s vanished before it could be read", self.url.key, uid)
                    continue
                envelope_from, recipients = envelope_of(raw)
                self.sink.store(self.url.key, uidvalidity, uid, raw, envelope_from, recipients)
                self._done(client, [uid])
                taken += 1
        if taken:
            log.info("%s: took %d message%s", self.url.key, taken, "" if taken == 1 else "s")
        return taken

    def _finish(self, client: IMAPClient, last_uid: int) -> None:
        """Mark or move messages that were stored but not yet marked, as a crash may leave them."""
        if last_uid == 0:
            return
        criteria = ["UID", f"1:{last_uid}"] + ([] if self.done_folder else ["UNSEEN"])
        stored = [uid for uid in client.search(criteria) if uid <= last_uid]
        if stored:
            self._done(client, stored)

    def _done(self, client: IMAPClient, uids: list[int]) -> None:
        if not self.done_folder:
            client.add_flags(uids, [SEEN], silent=True)
        elif client.has_capability("MOVE"):
            client.move(uids, self.done_folder)
        else:
            client.copy(uids, self.done_folder)
            client.add_flags(uids, [SEEN, DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    def wait(self, client: IMAPClient, stop: threading.Event) -> None:
        """Until the folder changes (IDLE), the poll interval has passed, or `stop` is set."""
        if not client.has_capability("IDLE"):
            stop.wait(self.poll_interval)
            return
        client.idle()
        try:
            deadline = time.monotonic() + self.idle_timeout
            while not stop.is_set() and time.monotonic() < deadline:
                if client.idle_check(timeout=IDLE_CHECK_SECONDS):
                    break
        finally:
            client.idle_done()

    def watch(self, stop: threading.Event, *, retry_after: float = 5.0) -> None:
        """Take mail until `stop` is set, reconnecting after any failure (server, network, storage)."""
        delay = retry_after
        while not stop.is_set():
            try:
                client = self.connect()
                try:
                    while not stop.is_set():
                        self.take_new(client)
                        delay = retry_after
                        self.wait(client, stop)
                finally:
                    _logout(client)
            except Exception:
                log.exception("%s: mailbox watch failed; retrying in %.0fs", self.url.key, delay)
                stop.wait(delay)
                delay = min(delay * 2, 300.0)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        log.debug("logout failed; the connection was already gone", exc_info=True)


def _batches(uids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start:start + size]
