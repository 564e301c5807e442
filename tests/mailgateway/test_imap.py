"""The IMAP watcher against a real Dovecot, with a sink that keeps messages in memory."""

from __future__ import annotations

import threading

import pytest
from imapclient import IMAPClient

from mailgateway.imap import MailboxUrl, MailboxWatcher
from tests.support.dovecot import Dovecot
from tests.support.servers import wait_for


class MemorySink:
    """Stores by (UIDVALIDITY, UID), as durably as a dict; fails while `broken`."""

    def __init__(self) -> None:
        self.positions: dict[str, tuple[int, int]] = {}
        self.stored: list[tuple[bytes, str, list[str]]] = []
        self.broken = False

    def resume_after(self, mailbox: str, uidvalidity: int) -> int:
        known, last = self.positions.get(mailbox, (0, 0))
        return last if known == uidvalidity else 0

    def store(self, mailbox, uidvalidity, uid, raw, envelope_from, recipients) -> None:
        if self.broken:
            raise OSError("database down")
        self.stored.append((raw, envelope_from, recipients))
        self.positions[mailbox] = (uidvalidity, uid)


def append(dovecot: Dovecot, raw: bytes) -> None:
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", "secret")
        client.append("INBOX", raw)


def unseen(dovecot: Dovecot) -> list[int]:
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", "secret")
        client.select_folder("INBOX")
        return client.search(["UNSEEN"])


MAIL = b"From: ann@example.com\r\nTo: eng@plein.test\r\nCc: Ops <ops@plein.test>\r\nSubject: hoi\r\n\r\nHallo\r\n"


def test_an_imap_url_names_server_credentials_and_folder():
    url = MailboxUrl.parse("imaps://plein%40corp.example:p%40ss@mail.corp.example/Plein%20in")
    assert (url.host, url.port, url.use_ssl, url.user, url.password, url.folder) == (
        "mail.corp.example", 993, True, "plein@corp.example", "p@ss", "Plein in",
    )
    assert MailboxUrl.parse("imap://u:p@localhost").folder == "INBOX"
    assert "p@ss" not in url.key
    with pytest.raises(ValueError):
        MailboxUrl.parse("pop3://u:p@localhost/INBOX")


def test_the_watcher_takes_mail_that_arrives_while_it_idles(dovecot):
    sink = MemorySink()
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url()), sink, poll_interval=3600)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.watch, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: "plein" in dovecot.log() and "Login" in dovecot.log(), what="the watcher to log in")
        append(dovecot, MAIL)
        wait_for(lambda: sink.stored, what="IDLE to bring the new message")
    finally:
        stop.set()
        thread.join(10)
    [(raw, envelope_from, recipients)] = sink.stored
    assert raw == MAIL and recipients == ["eng@plein.test", "ops@plein.test"]
    assert unseen(dovecot) == []


def test_a_message_that_cannot_be_stored_stays_unseen_and_is_taken_when_storage_is_back(dovecot):
    sink = MemorySink()
    sink.broken = True
    append(dovecot, MAIL)
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url()), sink)
    with watcher.connect() as client:
        with pytest.raises(OSError):
            watcher.take_new(client)
        assert unseen(dovecot) == [1]
        sink.broken = False
        assert watcher.take_new(client) == 1
    assert unseen(dovecot) == []
    assert len(sink.stored) == 1
